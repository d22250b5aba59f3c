//! Announcing the relay on the LAN with DNS-SD over multicast DNS, so laptops on the venue's
//! wifi can offer it without anyone typing an address. Where multicast does not get through
//! (some access points filter it) the printed address and its QR code still do.

use std::net::SocketAddr;

use mdns_sd::{ServiceDaemon, ServiceInfo};
use stopover_protocol::relay::RELAY_SERVICE_TYPE;

/// Keeps the announcement alive; dropping it withdraws it.
pub struct Announcement {
    daemon: ServiceDaemon,
    fullname: String,
}

impl Drop for Announcement {
    fn drop(&mut self) {
        let _ = self.daemon.unregister(&self.fullname);
        let _ = self.daemon.shutdown();
    }
}

/// Announces the relay listening on `addr` (every LAN address of this machine when it listens
/// on all of them). A relay listening on loopback only is not announced: nobody else could
/// reach it.
pub fn announce(addr: SocketAddr, upstream: &str) -> Option<Announcement> {
    if addr.ip().is_loopback() {
        return None;
    }
    let host = hostname();
    let instance = format!("Stopover relay on {host}");
    let properties = [("upstream", upstream)];
    let info = if addr.ip().is_unspecified() {
        ServiceInfo::new(
            RELAY_SERVICE_TYPE,
            &instance,
            &format!("{host}.local."),
            (),
            addr.port(),
            &properties[..],
        )
        .map(ServiceInfo::enable_addr_auto)
    } else {
        ServiceInfo::new(
            RELAY_SERVICE_TYPE,
            &instance,
            &format!("{host}.local."),
            addr.ip(),
            addr.port(),
            &properties[..],
        )
    };
    let started = ServiceDaemon::new().and_then(|daemon| {
        let info = info?;
        let fullname = info.get_fullname().to_string();
        daemon.register(info)?;
        Ok(Announcement { daemon, fullname })
    });
    match started {
        Ok(a) => {
            tracing::info!(service = RELAY_SERVICE_TYPE, "relay announced on the LAN");
            Some(a)
        }
        Err(e) => {
            tracing::warn!(error = %e, "relay: could not announce itself on the LAN (laptops can still type its address)");
            None
        }
    }
}

/// This machine's name, as DNS-SD wants it (letters, digits, dashes).
fn hostname() -> String {
    let raw = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    if name.is_empty() {
        "stopover-relay".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdns_sd::ServiceEvent;
    use std::time::{Duration, Instant};

    /// What a laptop's browse finds: the relay's port and the server it forwards to.
    #[test]
    fn a_browser_on_the_lan_finds_the_relay_and_its_server() {
        let port = 40_000 + (std::process::id() % 20_000) as u16;
        let addr = SocketAddr::from(([0, 0, 0, 0], port));
        let _announced = announce(addr, "https://ecommunity.example.org").expect("announced");
        let browser = ServiceDaemon::new().unwrap();
        let events = browser.browse(RELAY_SERVICE_TYPE).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let found = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match events.recv_timeout(left) {
                Ok(ServiceEvent::ServiceResolved(s)) if s.port == port => break Some(s),
                Ok(_) => continue,
                Err(_) => break None,
            }
        };
        let found = found.expect("the relay is found within 10 s");
        assert_eq!(
            found.txt_properties.get_property_val_str("upstream"),
            Some("https://ecommunity.example.org")
        );
        assert!(!found.addresses.is_empty());
        let _ = browser.shutdown();
        assert!(announce(SocketAddr::from(([127, 0, 0, 1], port)), "x").is_none());
    }
}
