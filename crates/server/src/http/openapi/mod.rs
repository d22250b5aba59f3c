//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations and the
//! protocol's own types ([`schemas`]). `crates/server/openapi.json` is the checked-in copy;
//! tests fail when it drifts from the code, or when it lists an endpoint the router lacks.

pub mod schemas;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{Modify, OpenApi};

use crate::http::handlers::{accounts, admin, files, health, packs, reports, sessions, sync};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ecommunity",
        version = "1",
        description = "The Stopover e-community server: accounts, device sessions, sync, \
            attachments (tus 1.0 resumable uploads, content-addressed by SHA-256) and signed \
            content packs. Errors are always `ErrorBody`; 429 carries `Retry-After`. Request \
            bodies may be sent with `Content-Encoding: gzip` or `zstd`; responses are compressed \
            when `Accept-Encoding` asks. Bodies are limited to 2 MiB after decompression.",
        license(name = "MIT")
    ),
    paths(
        health::health,
        accounts::request_account,
        accounts::me,
        sessions::sign_in,
        sessions::sign_out,
        sessions::change_password,
        sync::push,
        sync::pull,
        sync::file_key,
        sync::sync_file,
        sync::server_key,
        sync::credential,
        sync::relay_community,
        sync::relay_pack,
        admin::list_accounts,
        admin::approve_account,
        admin::revoke_account,
        admin::correct_account,
        admin::reset_password,
        files::options,
        files::create,
        files::head,
        files::patch,
        files::download,
        packs::latest,
        packs::archive,
        reports::submit,
    ),
    components(schemas(
        schemas::RecordKind,
        schemas::Scope,
        schemas::RefusalCode,
        schemas::CategoryInfo,
        schemas::PostContent,
        schemas::PostMeta,
        schemas::ProfileAccount,
        schemas::SharedContact,
        schemas::EventInfo,
        schemas::SubmissionReceipt,
    )),
    modifiers(&DeviceToken, &ProtocolHeader, &RecordKinds),
    tags(
        (name = "health", description = "Connectivity probe"),
        (name = "accounts", description = "Requesting an account, and the caller's own"),
        (name = "sessions", description = "Signing devices in and out"),
        (name = "sync", description = "Pushing operations and pulling changes"),
        (name = "admin", description = "Account approval, correction and password resets by the Secretariat and admins; every action is written to the audit log"),
        (name = "files", description = "Attachments: tus 1.0 core protocol and `creation`, content-addressed by SHA-256; \
            every answer carries `Tus-Resumable: 1.0.0`, and every request but OPTIONS must"),
        (name = "packs", description = "Signed content packs: the latest release and its archive"),
        (name = "reports", description = "National reports: submission by the country's NFP, with a receipt"),
    )
)]
pub struct ApiDoc;

/// The `sync` tag lists every record kind the sync endpoints carry: scope, entity id, fields.
struct RecordKinds;

impl Modify for RecordKinds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use std::fmt::Write;
        let mut text = String::from(
            "Pushing operations and pulling changes. Every synced thing is a record kind; an \
             operation names its kind in `entity.kind` and changes one field:\n\n\
             | kind | scope | entity id | fields |\n|---|---|---|---|\n",
        );
        for kind in stopover_protocol::RecordKind::ALL {
            let (entity, fields) = kind.wire_doc();
            let fields: Vec<String> = fields
                .iter()
                .map(|(name, value)| format!("{name}: {value}"))
                .collect();
            let scope = match kind.scope() {
                stopover_protocol::Scope::Account => "account",
                stopover_protocol::Scope::Country => "country",
                stopover_protocol::Scope::Community => "community",
            };
            let _ = writeln!(
                text,
                "| `{}` | {scope} | {entity} | {} |",
                kind.name(),
                fields.join("; ")
            );
        }
        for tag in openapi.tags.iter_mut().flatten() {
            if tag.name == "sync" {
                tag.description = Some(text.clone());
            }
        }
    }
}

/// The `device_token` bearer scheme the authenticated paths name.
struct DeviceToken;

impl Modify for DeviceToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("A device token from `POST /v1/sessions`".into());
        components.add_security_scheme("device_token", SecurityScheme::Http(bearer));
    }
}

/// The optional `stopover-protocol` request header, accepted by every operation.
struct ProtocolHeader;

impl Modify for ProtocolHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let header: Parameter = ParameterBuilder::new()
            .name(stopover_protocol::PROTOCOL_HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some("Protocol version the client speaks; anything but 1 is answered 400 `unsupported_protocol`"))
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0))))
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
            ];
            for op in operations.into_iter().flatten() {
                op.parameters
                    .get_or_insert_with(Vec::new)
                    .push(header.clone());
            }
        }
    }
}

/// The document as checked in: pretty JSON with a final newline.
pub fn document() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tests::TestServer;
    use axum::http::{Method, StatusCode};

    const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

    #[test]
    fn openapi_is_current() {
        let generated = document();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(CHECKED_IN, &generated).unwrap();
            return;
        }
        let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
        assert!(
            checked_in == generated,
            "crates/server/openapi.json is out of date with the code.\n\
             Regenerate it with: UPDATE_OPENAPI=1 cargo test -p ecommunity openapi\n\
             and review the diff before committing."
        );
    }

    fn documented_operations() -> Vec<(Method, String)> {
        let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let path = path
                    .replace("{username}", "someone")
                    .replace("{id}", "0123456789abcdef0123456789abcdef")
                    .replace("{version}", "1.0");
                ops.push((method.to_uppercase().parse().unwrap(), path));
            }
        }
        ops
    }

    #[tokio::test]
    async fn every_documented_operation_is_served() {
        let server = TestServer::new().await;
        let ops = documented_operations();
        assert_eq!(ops.len(), 27, "{ops:?}");
        for (method, path) in ops {
            let (status, body) = server
                .send(method.clone(), &path, None, Some(serde_json::json!({})))
                .await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !(status == StatusCode::NOT_FOUND && body["code"] == "not_found"),
                "{method} {path} is documented but the router does not serve it"
            );
        }
    }

    #[tokio::test]
    async fn undocumented_paths_are_not_served() {
        let server = TestServer::new().await;
        let (status, body) = server
            .send(Method::GET, "/v1/nothing-here", None, None)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );
    }

    #[test]
    fn the_document_names_its_schemas_and_security() {
        let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
        for schema in [
            "Account",
            "AccountRequest",
            "ErrorBody",
            "OpResult",
            "Outcome",
            "PackRelease",
            "PullResponse",
            "PushRequest",
            "SignInResponse",
            "RecordKind",
            "RefusalCode",
            "PostContent",
            "ChangePassword",
            "AccountCorrection",
            "PasswordReset",
        ] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "missing schema {schema}"
            );
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["device_token"]["scheme"],
            "bearer"
        );
        assert!(doc["paths"]["/v1/me"]["get"]["security"].is_array());
        assert!(doc["paths"]["/v1/health"]["get"]["security"].is_null());
        for method in ["options", "post"] {
            assert!(
                doc["paths"]["/v1/files"][method]["security"].is_array(),
                "{method} /v1/files"
            );
        }
        for method in ["head", "patch", "get"] {
            assert!(
                doc["paths"]["/v1/files/{id}"][method]["security"].is_array(),
                "{method} /v1/files/{{id}}"
            );
        }
        assert!(doc["paths"]["/v1/files/{id}"]["patch"]["requestBody"]["content"]["application/offset+octet-stream"].is_object());
        // A reader learns which record kinds travel through /v1/sync/push.
        let sync = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "sync")
            .unwrap();
        for kind in stopover_protocol::RecordKind::ALL {
            assert!(
                sync["description"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("`{}`", kind.name())),
                "{kind:?} missing from the sync tag"
            );
        }
        let kinds = &doc["components"]["schemas"]["RecordKind"]["enum"];
        assert_eq!(
            kinds.as_array().unwrap().len(),
            stopover_protocol::RecordKind::ALL.len()
        );
    }
}
