//! Who is on the other end of a request: the peer's address, or — when the peer is a proxy
//! this server was told to trust (`salesflow serve --trusted-proxy`) — the address that proxy
//! reports in `X-Forwarded-For`. Sign-in throttling and the audit log key on it, so behind a
//! reverse proxy every user would otherwise share the proxy's address.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::HeaderMap;

/// An address or a network (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Network, String> {
        let text = text.trim();
        let bad = || format!("`{text}` is not an IP address or network (10.0.0.1, 10.0.0.0/8, ::1)");
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().map_err(|_| bad())?, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (text.parse::<IpAddr>().map_err(|_| bad())?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Network { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            _ => ip,
        };
        let bits = |a: IpAddr| -> u128 {
            match a {
                IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
                IpAddr::V6(v6) => u128::from(v6),
            }
        };
        if self.addr.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
        bits(self.addr) & mask == bits(ip) & mask
    }
}

/// The proxies whose `X-Forwarded-For` is believed; carried to handlers as a request extension.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<Network>>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the peer, unless it is a trusted proxy; then the nearest address
    /// in `X-Forwarded-For` (read right to left) that is not itself a trusted proxy. An entry
    /// that is not an address stops the walk at the last trusted hop.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks_parse_and_match() {
        let n = Network::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.20.30.40".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.2.3".parse().unwrap()), "IPv4-mapped IPv6");
        assert!(Network::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(!Network::parse("::1").unwrap().contains("127.0.0.1".parse().unwrap()));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0/8", ""] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_trusted_peer_is_looked_through() {
        let trusted = TrustedProxies(Arc::new(vec![Network::parse("10.0.0.0/8").unwrap()]));
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        // A client claiming an address directly is not believed.
        assert_eq!(trusted.client(stranger, &headers(&["198.51.100.1"])), stranger);
        // Through the proxy: the nearest untrusted hop; what the client itself prepended is ignored.
        let h = headers(&["1.1.1.1, 198.51.100.7", "10.0.0.9"]);
        assert_eq!(trusted.client(proxy, &h), "198.51.100.7".parse::<IpAddr>().unwrap());
        // Nothing forwarded: the proxy itself; garbage: the last trusted hop.
        assert_eq!(trusted.client(proxy, &HeaderMap::new()), proxy);
        assert_eq!(trusted.client(proxy, &headers(&["<script>, 10.0.0.7"])), "10.0.0.7".parse::<IpAddr>().unwrap());
        // Trusting nobody (the default): always the peer.
        assert_eq!(TrustedProxies::default().client(proxy, &h), proxy);
    }
}
