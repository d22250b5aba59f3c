//! stopover-protocol: what the Stopover client and the `ecommunity` server say to each other.
//!
//! Everything on the wire is defined here and only here, so the two sides cannot drift apart.
//! The sync issue grows this into the full push/pull protocol; today it holds the version
//! and the health probe the client uses to tell a real server from a captive portal.

use serde::{Deserialize, Serialize};

/// Major version of the protocol, also the URL prefix (`/v1/...`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Identifies an ecommunity server in a health answer. A captive portal's HTML page cannot
/// produce it, so a probe only counts as "online" when this comes back.
pub const SERVICE_NAME: &str = "ecommunity";

/// `GET /v1/health`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Every error body the server sends: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_round_trips_and_rejects_strangers() {
        let h = Health { service: SERVICE_NAME.into(), protocol: PROTOCOL_VERSION, version: "0.1.0".into() };
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Health>(&json).unwrap(), h);
        assert!(h.is_compatible());
        assert!(serde_json::from_str::<Health>("<html>Welcome to hotel wifi</html>").is_err());
        let other = Health { protocol: 2, ..h };
        assert!(!other.is_compatible());
    }
}
