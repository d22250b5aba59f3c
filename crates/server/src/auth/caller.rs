//! The `Caller` extractor: `Authorization: Bearer <device token>` → an approved account.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::accounts::AccountRow;
use crate::auth::{devices, token};
use crate::error::{Error, Result};
use crate::state::AppState;

/// A signed-in, approved account and the device it signed in from.
pub struct Caller {
    pub account: AccountRow,
    pub device_id: String,
}

/// The token from an `Authorization: Bearer` header, if there is a plausible one.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 256)
        .then_some(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let hash = token::hash(bearer(parts).ok_or(Error::Unauthenticated)?);
        let owner = state
            .db
            .read(move |c| devices::find_by_token(c, &hash))
            .await?
            .ok_or(Error::Unauthenticated)?;
        owner.check_in_good_standing()?;
        Ok(Caller {
            account: owner.account,
            device_id: owner.device_id,
        })
    }
}
