//! Which address a request comes from (contract §10): the socket's peer, unless that peer is a
//! proxy named in `SCAIKEY_TRUSTED_PROXIES`; then `X-Forwarded-For` is read from the right,
//! skipping trusted proxies, and the first address that is not one is the client. A header
//! from an untrusted peer is ignored, so nobody can pick their own address to dodge limits.
//!
//! ```
//! use scaikey_domain::client_ip::TrustedProxies;
//!
//! let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.5").unwrap();
//! let peer = "10.1.2.3".parse().unwrap();
//! assert_eq!(trusted.client(peer, Some("203.0.113.9, 10.0.0.7")).to_string(), "203.0.113.9");
//! // Not from a trusted proxy: the header is not believed.
//! let stranger = "198.51.100.1".parse().unwrap();
//! assert_eq!(trusted.client(stranger, Some("203.0.113.9")).to_string(), "198.51.100.1");
//! ```

use std::net::IpAddr;

use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma- or space-separated list of addresses and CIDR ranges; an empty list
    /// trusts nobody. `Err` names the first entry that is neither.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("not an IP address or CIDR range: {s}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether no proxy is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address for a request from `peer` carrying `forwarded_for`.
    #[must_use]
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let Some(header) = forwarded_for else { return peer };
        let mut client = peer;
        for hop in header.rsplit(',').map(str::trim) {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = canonical(ip);
                    if !self.trusts(client) {
                        return client;
                    }
                }
                // A hop we cannot read: the last good address is as far as we can trust.
                Err(_) => return client,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) as IPv4, so one client has one key.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn nobody_trusted_means_the_socket_peer() {
        let t = TrustedProxies::parse("").unwrap();
        assert!(t.is_empty());
        assert_eq!(t.client(ip("127.0.0.1"), Some("1.2.3.4")), ip("127.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = TrustedProxies::parse("127.0.0.1,10.0.0.0/8").unwrap();
        // A client cannot prepend its own choice: the proxy appends what it saw.
        assert_eq!(t.client(ip("127.0.0.1"), Some("6.6.6.6, 203.0.113.9, 10.0.0.2")), ip("203.0.113.9"));
        // Every hop trusted: the leftmost one.
        assert_eq!(t.client(ip("127.0.0.1"), Some("10.0.0.3, 10.0.0.2")), ip("10.0.0.3"));
        // No header: the proxy itself.
        assert_eq!(t.client(ip("127.0.0.1"), None), ip("127.0.0.1"));
        // Garbage stops the walk at the last readable address.
        assert_eq!(t.client(ip("127.0.0.1"), Some("junk, 10.0.0.2")), ip("10.0.0.2"));
    }

    #[test]
    fn mapped_ipv6_counts_as_ipv4_and_bad_entries_are_named() {
        let t = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(t.client(ip("::ffff:127.0.0.1"), Some("2001:db8::1")), ip("2001:db8::1"));
        assert_eq!(t.client(ip("::ffff:8.8.8.8"), None), ip("8.8.8.8"));
        assert_eq!(TrustedProxies::parse("10.0.0.0/8, nope").unwrap_err(), "not an IP address or CIDR range: nope");
    }
}
