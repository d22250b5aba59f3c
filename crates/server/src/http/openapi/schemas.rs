//! The schemas of the OpenAPI document: the protocol's own types (`stopover-protocol` with its
//! `openapi` feature derives them), so the document cannot drift from the wire.

pub use stopover_protocol::forum::{
    CategoryInfo, EventInfo, Localized, PostContent, PostMeta, ProfileAccount, SharedContact,
};
pub use stopover_protocol::relay::{CommunityPullRequest, CredentialResponse};
pub use stopover_protocol::reports::{SubmissionReceipt, SubmitReport};
pub use stopover_protocol::sync_file::{FileKeyRequest, FileKeyResponse};
pub use stopover_protocol::{
    Account, AccountCorrection, AccountRequest, AccountStatus, Change, ChangePassword, EntityRef,
    ErrorBody, ErrorCode, Health, OpResult, Operation, Outcome, PackRelease, Param, PasswordReset,
    PullResponse, PushRequest, PushResponse, RecordKind, RefusalCode, Role, Scope, SignInRequest,
    SignInResponse,
};
