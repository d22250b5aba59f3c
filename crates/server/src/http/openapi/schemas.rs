//! OpenAPI schemas of the protocol types. `stopover-protocol` stays free of OpenAPI
//! machinery, so these are mirrors: same names, same fields, same serde attributes. The
//! tests below round-trip every protocol type (every enum variant) through its mirror with
//! unknown fields denied, so a field added, renamed or retyped on either side fails them.

#![allow(dead_code)] // Fields are read by serde and utoipa, not by code.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// `GET /v1/health`
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Always `ecommunity`.
    pub service: String,
    /// Protocol major version (1).
    pub protocol: u32,
    /// Server build version.
    pub version: String,
}

/// Every error: a stable code and a sentence for people.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Nfp,
    Secretariat,
    Admin,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Pending,
    Approved,
    Revoked,
}

/// `POST /v1/accounts`
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    /// 3–64 characters: lowercase letters, digits, `.`, `_`, `-`.
    #[schema(pattern = "^[a-z0-9._-]{3,64}$")]
    pub username: String,
    /// At least 10 characters.
    #[schema(min_length = 10)]
    pub password: String,
    #[schema(min_length = 1)]
    pub display_name: String,
    pub email: String,
    /// ISO 3166-1 alpha-2, upper case (e.g. `KE`).
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: String,
    /// Instruments the NFP covers, e.g. `["CMS", "AEWA"]`.
    pub instruments: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Null only for Secretariat and admin accounts.
    pub country: Option<String>,
    pub instruments: Vec<String>,
    pub status: AccountStatus,
}

/// `POST /v1/sessions`
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
    /// Shown in the device list, e.g. "Ministry laptop".
    pub device_name: String,
    /// Sets this new password (at least 10 characters) while signing in: required after a
    /// Secretariat reset (403 `password_change_required` without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 10)]
    pub new_password: Option<String>,
}

/// `POST /v1/me/password`
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 10 characters.
    #[schema(min_length = 10)]
    pub new_password: String,
}

/// `PATCH /v1/admin/accounts/{username}`: what to correct; absent fields stay.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountCorrection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruments: Option<Vec<String>>,
}

/// `POST /v1/admin/accounts/{username}/reset-password`
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// A one-time password to give the person; their next sign-in must set a new one.
    pub temporary_password: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInResponse {
    /// The device token: shown once; send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub device_id: String,
    pub account: Account,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityRef {
    /// A record kind, e.g. `checklist_progress`.
    pub kind: String,
    pub id: String,
}

/// One change to one field of one entity.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// UUIDv7 made by the client; the idempotency key.
    pub id: String,
    pub entity: EntityRef,
    pub field: String,
    /// The field's version this edit was made against (0: new field).
    pub base_version: u64,
    /// The new value (any JSON; each record kind says which types a field takes).
    pub value: Value,
}

/// `POST /v1/sync/push`: at most 200 operations.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub ops: Vec<Operation>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    /// One per operation, in the order sent.
    pub results: Vec<OpResult>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OpResult {
    pub id: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// Applied now; the field's new version.
    Applied { version: u64 },
    /// Already applied earlier (a retry): the version it got then.
    Duplicate { version: u64 },
    /// The field moved on since `base_version`: the server's value and version.
    Conflict {
        server_value: Value,
        server_version: u64,
    },
    /// Never applicable: a reason a person can read.
    Rejected { reason: String },
}

/// `GET /v1/sync/pull`
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Pass as `cursor` next time.
    pub cursor: u64,
    /// True when more changes wait beyond this page.
    pub more: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub seq: u64,
    pub entity: EntityRef,
    pub field: String,
    pub value: Value,
    pub version: u64,
    /// The operation that made it.
    pub op_id: String,
}

/// `GET /v1/packs/latest`: a published, signed content pack.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackRelease {
    /// Dotted numeric, e.g. `2026.12.0`.
    #[schema(pattern = "^[0-9]+(\\.[0-9]+)*$")]
    pub version: String,
    /// SHA-256 of the archive's bytes, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// Size of the archive in bytes.
    pub size: u64,
    /// Base64 of the ed25519 signature over the archive's bytes.
    pub signature: String,
    /// The signing key's public key, lowercase hex.
    pub key_id: String,
}

/// `POST /v1/reports/submissions`
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    /// e.g. `cms-national-report`
    pub form_id: String,
    /// e.g. `COP15`
    pub cycle: String,
    /// SHA-256 (hex) of the answers the submitter sees: sorted by path, `path NUL value NUL` each.
    pub answers_sha256: String,
}

/// Proof of a submission (also in the change feed: kind `report_submission`, field `receipt`).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionReceipt {
    pub receipt_id: String,
    pub country: String,
    pub form_id: String,
    pub form_version: String,
    pub cycle: String,
    pub submitted_by: String,
    /// RFC 3339, UTC
    pub submitted_at: String,
    pub answers_sha256: String,
    pub answers_submitted: u32,
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::json;
    use stopover_protocol as p;

    /// protocol → JSON → mirror → JSON must be the identity, and the JSON must read back as
    /// the protocol type.
    fn same_wire<
        P: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
        M: Serialize + DeserializeOwned,
    >(
        value: P,
    ) {
        let wire = serde_json::to_value(&value).unwrap();
        let mirror: M = serde_json::from_value(wire.clone()).unwrap_or_else(|e| {
            panic!(
                "mirror of {} cannot read {wire}: {e}",
                std::any::type_name::<P>()
            )
        });
        let again = serde_json::to_value(&mirror).unwrap();
        assert_eq!(
            again,
            wire,
            "mirror of {} writes different JSON",
            std::any::type_name::<P>()
        );
        assert_eq!(serde_json::from_value::<P>(again).unwrap(), value);
    }

    fn account(country: Option<&str>, role: p::Role, status: p::AccountStatus) -> p::Account {
        p::Account {
            username: "amina".into(),
            display_name: "Amina".into(),
            role,
            country: country.map(Into::into),
            instruments: vec!["CMS".into()],
            status,
        }
    }

    #[test]
    fn mirrors_match_the_protocol() {
        same_wire::<_, super::Health>(p::Health {
            service: "ecommunity".into(),
            protocol: 1,
            version: "0.1.0".into(),
        });
        same_wire::<_, super::ErrorBody>(p::ErrorBody {
            code: "busy".into(),
            message: "later".into(),
        });
        same_wire::<_, super::AccountRequest>(p::AccountRequest {
            username: "amina".into(),
            password: "correct horse".into(),
            display_name: "Amina".into(),
            email: "a@example.org".into(),
            country: "KE".into(),
            instruments: vec!["CMS".into(), "AEWA".into()],
        });
        for role in [p::Role::Nfp, p::Role::Secretariat, p::Role::Admin] {
            same_wire::<_, super::Role>(role);
        }
        for status in [
            p::AccountStatus::Pending,
            p::AccountStatus::Approved,
            p::AccountStatus::Revoked,
        ] {
            same_wire::<_, super::AccountStatus>(status);
        }
        same_wire::<_, super::Account>(account(
            Some("KE"),
            p::Role::Nfp,
            p::AccountStatus::Approved,
        ));
        same_wire::<_, super::Account>(account(None, p::Role::Admin, p::AccountStatus::Revoked));
        same_wire::<_, super::SignInRequest>(p::SignInRequest {
            username: "amina".into(),
            password: "correct horse".into(),
            device_name: "laptop".into(),
            new_password: None,
        });
        same_wire::<_, super::SignInRequest>(p::SignInRequest {
            username: "amina".into(),
            password: "temporary password".into(),
            device_name: "laptop".into(),
            new_password: Some("correct horse".into()),
        });
        same_wire::<_, super::ChangePassword>(p::ChangePassword {
            current_password: "old password".into(),
            new_password: "correct horse".into(),
        });
        same_wire::<_, super::AccountCorrection>(p::AccountCorrection {
            role: Some(p::Role::Nfp),
            country: Some("KE".into()),
            instruments: Some(vec!["CMS".into()]),
        });
        same_wire::<_, super::AccountCorrection>(p::AccountCorrection::default());
        same_wire::<_, super::PasswordReset>(p::PasswordReset {
            temporary_password: "t".into(),
        });
        same_wire::<_, super::SignInResponse>(p::SignInResponse {
            token: "t".into(),
            device_id: "d".into(),
            account: account(Some("KE"), p::Role::Nfp, p::AccountStatus::Approved),
        });
        let entity = p::EntityRef {
            kind: "checklist_progress".into(),
            id: "a/b".into(),
        };
        same_wire::<_, super::PushRequest>(p::PushRequest {
            ops: vec![p::Operation {
                id: "x".into(),
                entity: entity.clone(),
                field: "done".into(),
                base_version: 3,
                value: json!(true),
            }],
        });
        let outcomes = [
            p::Outcome::Applied { version: 1 },
            p::Outcome::Duplicate { version: 2 },
            p::Outcome::Conflict {
                server_value: json!("note"),
                server_version: 3,
            },
            p::Outcome::Rejected {
                reason: "no".into(),
            },
        ];
        same_wire::<_, super::PushResponse>(p::PushResponse {
            results: outcomes
                .into_iter()
                .map(|outcome| p::OpResult {
                    id: "x".into(),
                    outcome,
                })
                .collect(),
        });
        same_wire::<_, super::PullResponse>(p::PullResponse {
            changes: vec![p::Change {
                seq: 9,
                entity,
                field: "note".into(),
                value: json!("n"),
                version: 4,
                op_id: "o".into(),
            }],
            cursor: 9,
            more: true,
        });
        same_wire::<_, super::SubmitReport>(p::reports::SubmitReport {
            form_id: "cms-national-report".into(),
            cycle: "COP15".into(),
            answers_sha256: "ab".repeat(32),
        });
        same_wire::<_, super::SubmissionReceipt>(p::reports::SubmissionReceipt {
            receipt_id: "r".into(),
            country: "KE".into(),
            form_id: "cms-national-report".into(),
            form_version: "2027.1".into(),
            cycle: "COP15".into(),
            submitted_by: "amina".into(),
            submitted_at: "2027-01-01T00:00:00Z".into(),
            answers_sha256: "ab".repeat(32),
            answers_submitted: 3,
        });
        same_wire::<_, super::PackRelease>(p::PackRelease {
            version: "2026.12.0".into(),
            sha256: "ab".repeat(32),
            size: 1234,
            signature: "c2ln".into(),
            key_id: "cd".repeat(32),
        });
    }

    #[test]
    fn mirrors_refuse_what_the_protocol_does_not_send() {
        let extra =
            json!({"service": "ecommunity", "protocol": 1, "version": "1", "surprise": true});
        assert!(serde_json::from_value::<super::Health>(extra).is_err());
        let extra = json!({"id": "x", "outcome": "applied", "version": 1, "surprise": true});
        assert!(serde_json::from_value::<super::OpResult>(extra).is_err());
    }
}
