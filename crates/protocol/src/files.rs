//! Attachments: resumable uploads with the tus 1.0 core protocol and its `creation`
//! extension, content-addressed by SHA-256.
//!
//! | method & path            | request headers                                   | answer                                        |
//! |--------------------------|---------------------------------------------------|-----------------------------------------------|
//! | `OPTIONS /v1/files`      |                                                   | 204: `Tus-Version`, `Tus-Extension`, `Tus-Max-Size` |
//! | `POST /v1/files`         | `Upload-Length`, `Upload-Metadata` (`sha256` required) | 201 new / 200 existing: `Location`, `Upload-Offset` |
//! | `HEAD /v1/files/{id}`    |                                                   | 200: `Upload-Offset`, `Upload-Length`, `Cache-Control: no-store` |
//! | `PATCH /v1/files/{id}`   | `Content-Type: application/offset+octet-stream`, `Upload-Offset` | 204: the new `Upload-Offset`  |
//! | `GET /v1/files/{id}`     |                                                   | 200: the bytes of a complete file             |
//!
//! Every request but `OPTIONS` carries `Tus-Resumable: 1.0.0` (412 otherwise); every answer
//! carries it too. All of them need `Authorization: Bearer <device token>`. An upload belongs to
//! the account that created it; any other account gets 404 for it.
//!
//! - `POST` with the SHA-256 of a file the caller already uploaded completely answers 200 with
//!   `Upload-Offset` equal to `Upload-Length`: nothing needs sending. With the SHA-256 of an
//!   unfinished upload of the caller's it answers 200 with that upload's `Location` and offset,
//!   to resume from.
//! - `PATCH` must name the server's current offset (409 `offset_mismatch` otherwise: ask with
//!   `HEAD`). Bytes are on disk (fsync) before the new offset is acknowledged. When the last
//!   byte arrives the server checks the SHA-256: on a mismatch the upload is discarded and the
//!   answer is 400 `checksum_mismatch`. A `PATCH` with an empty body at the final offset
//!   confirms completion (204) or finishes it.
//! - `GET /v1/files/{id}` also accepts the SHA-256 instead of the upload id, so another device
//!   of the same account can fetch an attachment it knows only by its hash.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The tus protocol version spoken, sent in every request and answer.
pub const TUS_RESUMABLE: &str = "1.0.0";
/// The versions the server supports (`Tus-Version`).
pub const TUS_VERSION: &str = "1.0.0";
/// The tus extensions the server supports (`Tus-Extension`).
pub const TUS_EXTENSIONS: &str = "creation";
/// Largest attachment any server may be set to take, in bytes: the ceiling of
/// `ecommunity serve --max-attachment-mib`.
pub const MAX_ATTACHMENT_BYTES: u64 = 50 * 1024 * 1024;
/// Largest attachment a server takes unless set otherwise (its `Tus-Max-Size`), and what the
/// app assumes until its server has said.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;

/// The file types an attachment may have, by the extension of its name: PDF, office
/// documents (Word, Excel, PowerPoint, OpenDocument, RTF), images, CSV and ZIP. Both the app
/// (before anything is copied) and the server (at upload) hold to it.
pub const ATTACHMENT_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "odt", "rtf", "xls", "xlsx", "ods", "ppt", "pptx", "odp", "csv", "png",
    "jpg", "jpeg", "gif", "webp", "tif", "tiff", "zip",
];

/// The lowercase extension of a file name (`Carte.PDF` → `pdf`), if it has one.
pub fn extension_of(filename: &str) -> Option<String> {
    let (stem, ext) = filename.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// True for a file name whose extension is one of [`ATTACHMENT_EXTENSIONS`].
pub fn attachment_type_allowed(filename: &str) -> bool {
    extension_of(filename).is_some_and(|e| ATTACHMENT_EXTENSIONS.contains(&e.as_str()))
}
/// Largest body of one `PATCH`: the server's request body limit.
pub const MAX_CHUNK_BYTES: usize = crate::MAX_BODY_BYTES;
/// The chunk size the Stopover client sends: about 33 s at 64 kbit/s, well inside a request
/// timeout, and little to resend after a dropped connection.
pub const DEFAULT_CHUNK_BYTES: usize = 256 * 1024;

/// The collection path; an upload is `FILES_PATH/{id}`.
pub const FILES_PATH: &str = "/v1/files";

/// `Content-Type` of a `PATCH` body.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// Header names (HTTP header names are case-insensitive; these are the spellings of the spec).
pub mod headers {
    pub const TUS_RESUMABLE: &str = "Tus-Resumable";
    pub const TUS_VERSION: &str = "Tus-Version";
    pub const TUS_EXTENSION: &str = "Tus-Extension";
    pub const TUS_MAX_SIZE: &str = "Tus-Max-Size";
    pub const UPLOAD_OFFSET: &str = "Upload-Offset";
    pub const UPLOAD_LENGTH: &str = "Upload-Length";
    pub const UPLOAD_METADATA: &str = "Upload-Metadata";
}

/// True for a SHA-256 written as 64 lowercase hex digits, the form used everywhere here.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Lowercase hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Longest file name kept, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;
/// Longest `Upload-Metadata` header accepted, in bytes (a `sha256` and the longest
/// `filename` fit with room to spare).
pub const MAX_METADATA_BYTES: usize = 2048;

/// The `Upload-Metadata` of an attachment: `sha256 <base64 of the hex digest>` and optionally
/// `filename <base64 of the UTF-8 name>`, comma-separated (tus: `key base64value,…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMetadata {
    /// 64 lowercase hex digits.
    pub sha256: String,
    pub filename: Option<String>,
}

impl UploadMetadata {
    /// The header value.
    pub fn encode(&self) -> String {
        let mut out = format!("sha256 {}", STANDARD.encode(self.sha256.as_bytes()));
        if let Some(name) = &self.filename {
            out.push_str(",filename ");
            out.push_str(&STANDARD.encode(name.as_bytes()));
        }
        out
    }

    /// Reads a header value of at most [`MAX_METADATA_BYTES`]. Unknown keys are ignored (tus
    /// allows any) and not kept: the server stores and echoes [`UploadMetadata::encode`]. `sha256` must be there
    /// and be a hex SHA-256; a `filename` must be UTF-8 without control characters, at most
    /// [`MAX_FILENAME_CHARS`]. Returns a reason a person can read.
    pub fn parse(value: &str) -> Result<UploadMetadata, String> {
        if value.len() > MAX_METADATA_BYTES {
            return Err(format!(
                "Upload-Metadata holds at most {MAX_METADATA_BYTES} bytes"
            ));
        }
        let mut sha256 = None;
        let mut filename = None;
        for pair in value.split(',') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let (key, encoded) = match pair.split_once(' ') {
                Some((k, v)) => (k, Some(v.trim())),
                None => (pair, None),
            };
            let decode = || -> Result<String, String> {
                let raw = STANDARD
                    .decode(encoded.unwrap_or(""))
                    .map_err(|_| format!("Upload-Metadata `{key}` is not base64"))?;
                String::from_utf8(raw)
                    .map_err(|_| format!("Upload-Metadata `{key}` is not UTF-8 text"))
            };
            match key {
                "sha256" => {
                    let hex = decode()?;
                    if !is_sha256_hex(&hex) {
                        return Err("Upload-Metadata `sha256` must be the SHA-256 as 64 lowercase hex digits".into());
                    }
                    sha256 = Some(hex);
                }
                "filename" => {
                    let name = decode()?;
                    if name.chars().any(char::is_control)
                        || name.chars().count() > MAX_FILENAME_CHARS
                    {
                        return Err(format!(
                            "Upload-Metadata `filename` must be at most {MAX_FILENAME_CHARS} characters, without control characters"
                        ));
                    }
                    filename = Some(name);
                }
                _ => {}
            }
        }
        let sha256 =
            sha256.ok_or("Upload-Metadata must carry `sha256 <base64 of the hex SHA-256>`")?;
        Ok(UploadMetadata { sha256, filename })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn metadata_round_trips() {
        let m = UploadMetadata {
            sha256: SHA.into(),
            filename: Some("rapport final, 2026.pdf".into()),
        };
        let header = m.encode();
        assert!(header.starts_with("sha256 ZTNiMGM0"), "{header}");
        assert_eq!(UploadMetadata::parse(&header).unwrap(), m);
        let bare = UploadMetadata {
            sha256: SHA.into(),
            filename: None,
        };
        assert_eq!(UploadMetadata::parse(&bare.encode()).unwrap(), bare);
        // Other keys (and keys without a value) are ignored.
        let other = format!("{},is_confidential,mime dGV4dA==", bare.encode());
        assert_eq!(UploadMetadata::parse(&other).unwrap(), bare);
    }

    #[test]
    fn metadata_names_the_problem() {
        let huge = format!("sha256 {},junk {}", STANDARD.encode(SHA), "A".repeat(4000));
        assert!(
            UploadMetadata::parse(&huge)
                .unwrap_err()
                .contains("at most")
        );
        assert!(
            UploadMetadata::parse("filename eC5wZGY=")
                .unwrap_err()
                .contains("must carry `sha256")
        );
        assert!(
            UploadMetadata::parse("sha256 !!!")
                .unwrap_err()
                .contains("not base64")
        );
        let short = format!("sha256 {}", STANDARD.encode("abc"));
        assert!(
            UploadMetadata::parse(&short)
                .unwrap_err()
                .contains("64 lowercase hex")
        );
        let upper = format!("sha256 {}", STANDARD.encode(SHA.to_uppercase()));
        assert!(UploadMetadata::parse(&upper).is_err());
        let ctl = format!(
            "sha256 {},filename {}",
            STANDARD.encode(SHA),
            STANDARD.encode("a\nb")
        );
        assert!(UploadMetadata::parse(&ctl).unwrap_err().contains("control"));
    }

    #[test]
    fn attachment_types_go_by_extension() {
        for ok in [
            "map.pdf",
            "Carte.PDF",
            "a.b.docx",
            "photo.jpeg",
            "data.csv",
            "all.zip",
        ] {
            assert!(attachment_type_allowed(ok), "{ok}");
        }
        for refused in ["run.exe", "pdf", ".pdf", "notes.", "script.sh", "page.html"] {
            assert!(!attachment_type_allowed(refused), "{refused}");
        }
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert!(is_sha256_hex(SHA));
        assert!(!is_sha256_hex(&SHA[1..]));
    }
}
