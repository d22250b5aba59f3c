//! The client address of a request, for per-address limits and the audit log. It is the peer
//! of the connection, unless that peer is one of the configured trusted proxies
//! (`serve --trusted-proxy`): then `X-Forwarded-For` is read from the right, skipping trusted
//! proxies, and the first address no trusted proxy vouches for is the client. Without trusted
//! proxies (the default) the header is ignored: any client can write it.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

pub struct ClientIp(pub IpAddr);

const FORWARDED_FOR: &str = "x-forwarded-for";
/// Entries of `X-Forwarded-For` looked at, at most (a longer chain is cut, never trusted more).
const MAX_HOPS: usize = 16;

/// Parses `--trusted-proxy` values: an address (`10.0.0.5`) or a network (`10.0.0.0/8`).
pub fn parse_proxy(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not an address or network like 10.0.0.5 or 10.0.0.0/8"))
}

fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client address given the connection's peer, the headers and the trusted proxies.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = normalize(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all(FORWARDED_FOR) {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for part in text.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(normalize(ip)),
                // A malformed chain tells nothing reliable: the proxy is the client.
                Err(_) => return peer,
            }
        }
    }
    let from = hops.len().saturating_sub(MAX_HOPS);
    let mut client = peer;
    for ip in hops[from..].iter().rev() {
        client = *ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(client_address(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(FORWARDED_FOR, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let trusted = [
            parse_proxy("10.0.0.0/8").unwrap(),
            parse_proxy("::1").unwrap(),
        ];
        let h = headers(&["198.51.100.7"]);
        // Not from the proxy: the header is anyone's writing.
        assert_eq!(
            client_address(ip("203.0.113.1"), &h, &trusted),
            ip("203.0.113.1")
        );
        assert_eq!(
            client_address(ip("10.1.2.3"), &h, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(client_address(ip("10.1.2.3"), &h, &[]), ip("10.1.2.3"));
        // Read from the right: a client cannot prepend its way past the proxy.
        let h = headers(&["1.2.3.4, 198.51.100.7"]);
        assert_eq!(
            client_address(ip("10.1.2.3"), &h, &trusted),
            ip("198.51.100.7")
        );
        // Chained trusted proxies are skipped; several header lines are one list.
        let h = headers(&["198.51.100.7", "10.9.9.9"]);
        assert_eq!(client_address(ip("::1"), &h, &trusted), ip("198.51.100.7"));
        // Garbage or nothing: the proxy itself.
        assert_eq!(
            client_address(ip("10.1.2.3"), &headers(&["nonsense"]), &trusted),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_address(ip("10.1.2.3"), &headers(&[]), &trusted),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_address(ip("::ffff:10.1.2.3"), &headers(&["198.51.100.7"]), &trusted),
            ip("198.51.100.7")
        );
        assert!(parse_proxy("not an address").is_err());
    }
}
