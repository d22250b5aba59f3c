use axum::Json;
use stopover_protocol::{Health, PROTOCOL_VERSION, SERVICE_NAME};

use crate::http::openapi::schemas as s;

/// Connectivity probe. Only an answer with `service: "ecommunity"` counts as online: a
/// captive portal's 200 HTML page does not.
#[utoipa::path(get, path = "/v1/health", tag = "health",
    responses((status = 200, description = "The server is up", body = s::Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        service: SERVICE_NAME.into(),
        protocol: PROTOCOL_VERSION,
        version: env!("CARGO_PKG_VERSION").into(),
    })
}
