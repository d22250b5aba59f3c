//! stopover-protocol: what the Stopover client and the `ecommunity` server say to each other.
//!
//! Everything on the wire is defined here and only here, so the two sides cannot drift apart.
//! All paths are under `/v1`. Authenticated requests carry `Authorization: Bearer <device token>`.
//!
//! | method & path                          | body → answer                         | who              |
//! |----------------------------------------|---------------------------------------|------------------|
//! | `GET /v1/health`                       | → [`Health`]                          | anyone           |
//! | `POST /v1/accounts`                    | [`AccountRequest`] → [`Account`]      | anyone (pending) |
//! | `POST /v1/sessions`                    | [`SignInRequest`] → [`SignInResponse`]| approved account |
//! | `DELETE /v1/sessions/current`          | → 204 (this device token revoked)     | signed in        |
//! | `GET /v1/me`                           | → [`Account`]                         | signed in        |
//! | `POST /v1/sync/push`                   | [`PushRequest`] → [`PushResponse`]    | signed in        |
//! | `GET /v1/sync/pull?cursor=N&limit=M`   | → [`PullResponse`]                    | signed in        |
//! | `PUT /v1/sync/file-key`                | [`FileKeyRequest`](sync_file::FileKeyRequest) → [`FileKeyResponse`](sync_file::FileKeyResponse) | signed in |
//! | `GET /v1/admin/accounts`               | → `Vec<`[`Account`]`>`                | secretariat, admin |
//! | `POST /v1/admin/accounts/{user}/approve` | → [`Account`]                       | secretariat, admin |
//! | `POST /v1/admin/accounts/{user}/revoke`  | → [`Account`]                       | admin            |
//! | `PATCH /v1/admin/accounts/{user}`      | [`AccountCorrection`] → [`Account`]   | secretariat, admin |
//! | `POST /v1/admin/accounts/{user}/reset-password` | → [`PasswordReset`]          | secretariat, admin |
//! | `POST /v1/me/password`                 | [`ChangePassword`] → 204              | signed in        |
//!
//! A sync round is one exchange: a push that has operations to send asks for the pull page in
//! the same request (`pull: {cursor, limit}`) and gets it in the answer; a round with nothing
//! to send is one `GET /v1/sync/pull`. Either answer carries `protocol` (a captive portal's
//! 200 cannot), so no health probe precedes a round, and neither brings back the changes the
//! calling device pushed itself.
//!
//! National reports (`/v1/reports/...`) are described in [`reports`]; the forum, directory and
//! events (synced record kinds) in [`forum`].
//! Attachments (tus 1.0 uploads under `/v1/files`) are described in [`files`]; signed content
//! packs (`/v1/packs/...`) in [`packs`]; sync files (a push and its answer on a USB stick) in
//! [`sync_file`].
//!
//! Errors are always [`ErrorBody`] (a stable [`ErrorCode`] with parameters) with a 4xx/5xx
//! status; 429 and 503 carry `Retry-After`.

pub mod errors;
pub mod files;
pub mod forum;
pub mod nesting;
pub mod packs;
pub mod relay;
pub mod reports;
pub mod sync;
pub mod sync_file;

use serde::{Deserialize, Serialize};

pub use errors::{ErrorBody, ErrorCode, Param, Params, Refusal, RefusalCode};
pub use packs::PackRelease;
pub use sync::*;

/// Major version of the protocol, also the URL prefix (`/v1/...`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Optional request header naming the protocol version the client speaks. A server answers
/// 400 `unsupported_protocol` to a version it does not know.
pub const PROTOCOL_HEADER: &str = "stopover-protocol";

/// Identifies an ecommunity server in a health answer. A captive portal's HTML page cannot
/// produce it, so a probe only counts as "online" when this comes back.
pub const SERVICE_NAME: &str = "ecommunity";

/// Largest request body the server accepts, after decompression.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// `GET /v1/health`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Health {
    pub service: String,
    pub protocol: u32,
    pub version: String,
}

impl Health {
    /// True when this answer comes from a server speaking our protocol.
    pub fn is_compatible(&self) -> bool {
        self.service == SERVICE_NAME && self.protocol == PROTOCOL_VERSION
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Nfp,
    Secretariat,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Requested, waiting for the Secretariat.
    Pending,
    Approved,
    Revoked,
}

/// `POST /v1/accounts`: anyone may ask; the Secretariat approves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    /// 3–64 characters: lowercase letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    pub display_name: String,
    pub email: String,
    /// ISO 3166-1 alpha-2, upper case (e.g. `KE`).
    pub country: String,
    /// Instruments the NFP covers, e.g. `["CMS", "AEWA"]`.
    pub instruments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// None only for Secretariat and admin accounts.
    pub country: Option<String>,
    pub instruments: Vec<String>,
    pub status: AccountStatus,
}

/// `POST /v1/sessions`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
    /// Shown in the device list, e.g. "Ministry laptop".
    pub device_name: String,
    /// Sets this new password (at least 10 characters) while signing in: required after a
    /// Secretariat reset (answered 403 `password_change_required` without it), allowed
    /// any time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_password: Option<String>,
}

/// `POST /v1/me/password`: changes the caller's password. Every other device of the account
/// is signed out; this one stays signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

/// `PATCH /v1/admin/accounts/{user}` (and optionally the body of `…/approve`): what the
/// Secretariat corrects on an account; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct AccountCorrection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruments: Option<Vec<String>>,
}

/// `POST /v1/admin/accounts/{user}/reset-password`: a one-time password to give the person
/// (by phone, in person); their devices are signed out and their next sign-in must set a new
/// password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    pub temporary_password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInResponse {
    /// The device token: shown once, kept only in the OS keyring on the laptop and only as a
    /// hash on the server.
    pub token: String,
    pub device_id: String,
    pub account: Account,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_round_trips_and_rejects_strangers() {
        let h = Health {
            service: SERVICE_NAME.into(),
            protocol: PROTOCOL_VERSION,
            version: "0.1.0".into(),
        };
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Health>(&json).unwrap(), h);
        assert!(h.is_compatible());
        assert!(serde_json::from_str::<Health>("<html>Welcome to hotel wifi</html>").is_err());
        let other = Health { protocol: 2, ..h };
        assert!(!other.is_compatible());
    }
}
