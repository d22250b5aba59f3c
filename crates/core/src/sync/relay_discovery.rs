//! Finding a workshop relay on the LAN without typing its address: the relay announces itself
//! with DNS-SD over multicast DNS ([`RELAY_SERVICE_TYPE`], TXT `upstream` = the server it
//! forwards to); [`discover_relays`] browses for it a few seconds. Some wifi networks filter
//! multicast, so finding nothing is an answer, not an error: the person types the address.
//!
//! Finding a relay only fills the address field: "Sync through this relay"
//! ([`use_relay`](super::use_relay)) still checks it before it is kept.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use mdns_sd::{ServiceDaemon, ServiceEvent};
use serde::Serialize;
use stopover_protocol::relay::RELAY_SERVICE_TYPE;

use super::client::normalize_server_url;
use super::relay::normalize_relay_url;
use super::state;
use crate::{Core, Error, Result};

/// A relay announced on the LAN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FoundRelay {
    /// Where to reach it, normalised (`http://192.168.1.20:8787`); IPv4 when it has one.
    pub address: String,
    /// Its DNS-SD instance name (`Stopover relay on trainer-laptop`).
    pub name: String,
    /// The server it says it forwards to (its TXT record), when it says.
    pub upstream: Option<String>,
    /// It forwards to this device's server. A relay of another server would be refused by
    /// "Sync through this relay"; the list shows it apart.
    pub same_server: bool,
}

/// Browses the LAN for workshop relays during `wait` (a few seconds: relays answer within
/// one), and returns each one once, those of this device's server first. An error only when
/// the search cannot start at all (no network interface to search on).
pub async fn discover_relays(core: &Core, wait: Duration) -> Result<Vec<FoundRelay>> {
    let server = state::server_url(&core.conn())?;
    let announced = tokio::task::spawn_blocking(move || browse(wait))
        .await
        .map_err(|e| Error::Internal(format!("the relay search stopped: {e}")))??;
    Ok(found_relays(announced, server.as_deref()))
}

/// One resolved announcement, as the network gave it.
#[derive(Debug, Clone)]
struct Announced {
    /// Full DNS-SD name (`Stopover relay on x._stopover-relay._tcp.local.`).
    fullname: String,
    port: u16,
    addresses: Vec<IpAddr>,
    upstream: Option<String>,
}

/// Browses [`RELAY_SERVICE_TYPE`] for `wait` on mdns-sd's own daemon thread (this one blocks
/// on its events), then shuts the daemon down. Keyed by full name: a relay answers more than
/// once, and one that withdraws its announcement meanwhile (stopped) is left out.
fn browse(wait: Duration) -> Result<Vec<Announced>> {
    let cannot = |e: mdns_sd::Error| Error::Network(format!("cannot search the LAN: {e}"));
    let daemon = ServiceDaemon::new().map_err(cannot)?;
    let events = match daemon.browse(RELAY_SERVICE_TYPE) {
        Ok(events) => events,
        Err(e) => {
            let _ = daemon.shutdown();
            return Err(cannot(e));
        }
    };
    let deadline = Instant::now() + wait;
    let mut found: HashMap<String, Announced> = HashMap::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(s)) if s.ty_domain == RELAY_SERVICE_TYPE => {
                let announced = Announced {
                    fullname: s.fullname.clone(),
                    port: s.port,
                    addresses: s.addresses.iter().map(|a| a.to_ip_addr()).collect(),
                    upstream: s
                        .txt_properties
                        .get_property_val_str("upstream")
                        .map(str::to_string),
                };
                found.insert(announced.fullname.clone(), announced);
            }
            Ok(ServiceEvent::ServiceRemoved(_, fullname)) => {
                found.remove(&fullname);
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = daemon.stop_browse(RELAY_SERVICE_TYPE);
    if let Ok(done) = daemon.shutdown() {
        // The daemon answers once its thread has stopped; do not wait long for it.
        let _ = done.recv_timeout(Duration::from_millis(500));
    }
    Ok(found.into_values().collect())
}

/// What the person sees: a usable address and a name for each relay, this device's server's
/// relays first, then by name. An announcement with no address this app can use (only
/// link-local IPv6, or a public address over plain http) is left out.
fn found_relays(announced: Vec<Announced>, server: Option<&str>) -> Vec<FoundRelay> {
    let suffix = format!(".{RELAY_SERVICE_TYPE}");
    let mut relays: Vec<FoundRelay> = announced
        .into_iter()
        .filter_map(|a| {
            let address = best_address(&a.addresses, a.port)?;
            let name = a
                .fullname
                .strip_suffix(&suffix)
                .unwrap_or(&a.fullname)
                .to_string();
            let same_server = match (&a.upstream, server) {
                (Some(upstream), Some(server)) => same_url(upstream, server),
                _ => false,
            };
            Some(FoundRelay {
                address,
                name,
                upstream: a.upstream,
                same_server,
            })
        })
        .collect();
    relays.sort_by(|a, b| {
        b.same_server
            .cmp(&a.same_server)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.address.cmp(&b.address))
    });
    relays
}

/// The address to offer among those announced: IPv4 first (what a person can read and type),
/// a private LAN one before others, loopback last; IPv6 only when there is no IPv4, and never
/// link-local IPv6 (an `http://` URL cannot name its interface).
fn best_address(addresses: &[IpAddr], port: u16) -> Option<String> {
    let rank = |ip: &IpAddr| -> Option<u8> {
        match ip.to_canonical() {
            IpAddr::V4(v4) if v4.is_unspecified() || v4.is_multicast() => None,
            IpAddr::V4(v4) if v4.is_private() => Some(0),
            IpAddr::V4(v4) if v4.is_loopback() => Some(2),
            IpAddr::V4(_) => Some(1),
            IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => None,
            IpAddr::V6(v6) if v6.is_unspecified() || v6.is_multicast() => None,
            IpAddr::V6(v6) if v6.is_loopback() => Some(4),
            IpAddr::V6(_) => Some(3),
        }
    };
    let mut usable: Vec<(u8, IpAddr)> = addresses
        .iter()
        .filter_map(|ip| Some((rank(ip)?, ip.to_canonical())))
        .collect();
    usable.sort();
    usable.into_iter().find_map(|(_, ip)| {
        let host = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        normalize_relay_url(&format!("http://{host}:{port}")).ok()
    })
}

/// Two server addresses name the same server (normalised as a sign-in would; compared as
/// written, less a final `/`, when one does not normalise).
fn same_url(a: &str, b: &str) -> bool {
    match (normalize_server_url(a), normalize_server_url(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::PackError;
    use mdns_sd::ServiceInfo;

    const SERVER: &str = "https://ecommunity.example.org";

    fn signed_in_core(server: &str) -> (tempfile::TempDir, Core) {
        let dir = tempfile::tempdir().unwrap();
        let no_pack = Err(PackError {
            file: "manifest.toml".into(),
            reason: "no pack in unit tests".into(),
        });
        let core = Core::open(dir.path(), no_pack).unwrap();
        state::set(&core.conn(), state::SERVER_URL, server).unwrap();
        (dir, core)
    }

    fn announce(
        daemon: &ServiceDaemon,
        service_type: &str,
        instance: &str,
        port: u16,
        upstream: &str,
    ) {
        let info = ServiceInfo::new(
            service_type,
            instance,
            "stopover-discovery-test.local.",
            (),
            port,
            &[("upstream", upstream)][..],
        )
        .unwrap()
        .enable_addr_auto();
        daemon.register(info).unwrap();
    }

    /// Two relays and a service of another type announced on this machine's LAN: the search
    /// finds both relays, with their port, name and server, this device's server's first,
    /// and not the other service. (Other tests may announce relays meanwhile: only ours are
    /// looked at, by port.)
    #[test]
    fn finds_the_relays_on_the_lan_and_their_servers_first() {
        let base = 20_000 + (std::process::id() % 20_000) as u16;
        let (ours, theirs, other_type) = (base, base + 1, base + 2);
        let pid = std::process::id();
        let announcer = ServiceDaemon::new().unwrap();
        announce(
            &announcer,
            RELAY_SERVICE_TYPE,
            &format!("Stopover relay on ours-{pid}"),
            ours,
            // Written as a trainer might: the same server all the same.
            "https://ecommunity.example.org/",
        );
        announce(
            &announcer,
            RELAY_SERVICE_TYPE,
            &format!("Another relay {pid}"),
            theirs,
            "https://other.example.org",
        );
        announce(
            &announcer,
            "_stopover-other._tcp.local.",
            &format!("Not a relay {pid}"),
            other_type,
            SERVER,
        );
        let (_dir, core) = signed_in_core(SERVER);
        let found = super::super::block_on(discover_relays(&core, Duration::from_secs(4))).unwrap();
        let _ = announcer.shutdown();

        let port_of = |r: &FoundRelay| r.address.rsplit(':').next().unwrap().parse::<u16>();
        let mine: Vec<&FoundRelay> = found
            .iter()
            .filter(|r| [ours, theirs, other_type].contains(&port_of(r).unwrap()))
            .collect();
        assert_eq!(mine.len(), 2, "our two relays, once each: {found:?}");
        let (a, b) = (mine[0], mine[1]);
        assert_eq!(port_of(a).unwrap(), ours, "{found:?}");
        assert_eq!(a.name, format!("Stopover relay on ours-{pid}"));
        assert_eq!(
            a.upstream.as_deref(),
            Some("https://ecommunity.example.org/")
        );
        assert!(a.same_server);
        assert!(a.address.starts_with("http://"), "{}", a.address);
        assert_eq!(normalize_relay_url(&a.address).unwrap(), a.address);
        assert_eq!(port_of(b).unwrap(), theirs);
        assert_eq!(b.name, format!("Another relay {pid}"));
        assert_eq!(b.upstream.as_deref(), Some("https://other.example.org"));
        assert!(!b.same_server);
        // Every relay of this device's server comes before every other one.
        let first_other = found.iter().position(|r| !r.same_server);
        let last_same = found.iter().rposition(|r| r.same_server);
        if let (Some(other), Some(same)) = (first_other, last_same) {
            assert!(same < other, "{found:?}");
        }
    }

    #[test]
    fn offers_ipv4_before_ipv6_and_skips_what_cannot_be_used() {
        let ips =
            |list: &[&str]| -> Vec<IpAddr> { list.iter().map(|s| s.parse().unwrap()).collect() };
        assert_eq!(
            best_address(&ips(&["fd00::5", "fe80::1", "192.168.1.20"]), 8787).as_deref(),
            Some("http://192.168.1.20:8787")
        );
        assert_eq!(
            best_address(&ips(&["127.0.0.1", "10.0.0.4"]), 8787).as_deref(),
            Some("http://10.0.0.4:8787")
        );
        assert_eq!(
            best_address(&ips(&["fd00::5", "fe80::1"]), 8787).as_deref(),
            Some("http://[fd00::5]:8787")
        );
        // Only link-local IPv6, or a public address over plain http: nothing to offer.
        assert_eq!(best_address(&ips(&["fe80::1"]), 8787), None);
        assert_eq!(best_address(&ips(&["8.8.8.8"]), 8787), None);
        assert_eq!(best_address(&[], 8787), None);
    }

    #[test]
    fn lists_this_servers_relays_first_and_without_a_server_none_as_its_own() {
        let relay = |name: &str, ip: &str, upstream: Option<&str>| Announced {
            fullname: format!("{name}.{RELAY_SERVICE_TYPE}"),
            port: 8787,
            addresses: vec![ip.parse().unwrap()],
            upstream: upstream.map(str::to_string),
        };
        let announced = vec![
            relay("A other", "192.168.1.2", Some("https://other.example.org")),
            relay("B silent", "192.168.1.3", None),
            relay(
                "C ours",
                "192.168.1.4",
                Some(" https://ecommunity.example.org/ "),
            ),
            relay("D unusable", "fe80::1", Some(SERVER)),
        ];
        let found = found_relays(announced.clone(), Some(SERVER));
        let names: Vec<(&str, bool)> = found
            .iter()
            .map(|r| (r.name.as_str(), r.same_server))
            .collect();
        assert_eq!(
            names,
            [("C ours", true), ("A other", false), ("B silent", false)]
        );
        assert_eq!(found[0].address, "http://192.168.1.4:8787");
        assert!(found_relays(announced, None).iter().all(|r| !r.same_server));
    }
}
