//! The requester's IP as the user should see it: the TCP peer, or, only when that peer is a configured trusted
//! proxy, the nearest untrusted address in `X-Forwarded-For`. A client cannot spoof it by sending the header
//! itself, because an untrusted peer's header is ignored.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;
use ipnet::IpNet;

#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated IPs or CIDRs, e.g. `10.0.0.0/8, 127.0.0.1`.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| IpNet::from_str(s).or_else(|_| IpAddr::from_str(s).map(IpNet::from)).map_err(|_| s.to_owned()))
            .collect::<Result<_, _>>()
            .map(Self)
            .map_err(|bad| format!("not an IP address or CIDR: {bad}"))
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn of(req: &HttpRequest, trusted: &TrustedProxies) -> Option<Self> {
        let peer = req.peer_addr()?.ip();
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim);
        Some(Self(resolve(peer, forwarded, trusted)))
    }

    /// The client IP as text for records and audit events; `unknown` when there is no peer (never on TCP).
    pub fn text_of(req: &HttpRequest, trusted: &TrustedProxies) -> String {
        Self::of(req, trusted).map_or_else(|| "unknown".to_owned(), |ip| ip.0.to_string())
    }

    /// Who a per-client limit counts: the IPv4 address, or the /64 of an IPv6 one. An IPv6 subscriber is
    /// handed at least a /64 and picks any address in it at will, so counting single addresses would give one
    /// client 2^64 allowances. IPv4-mapped addresses count as the IPv4 address they carry.
    pub fn rate_limit_subject(&self) -> String {
        match self.0.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !(u128::MAX >> 64);
                format!("{}/64", std::net::Ipv6Addr::from(prefix))
            }
        }
    }

    /// [`ClientIp::rate_limit_subject`] of the request's client; `unknown` when there is no peer (never on TCP).
    pub fn subject_of(req: &HttpRequest, trusted: &TrustedProxies) -> String {
        Self::of(req, trusted).map_or_else(|| "unknown".to_owned(), |ip| ip.rate_limit_subject())
    }
}

/// Walks the chain from the nearest hop outwards and stops at the first address that is not a trusted proxy.
fn resolve<'a>(peer: IpAddr, forwarded: impl DoubleEndedIterator<Item = &'a str>, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&client) {
        return client;
    }
    for hop in forwarded.rev() {
        match IpAddr::from_str(hop) {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(&ip) {
                    break;
                }
            }
            // A garbled entry ends what we can trust; keep the last good hop.
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_header_is_ignored() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(resolve(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_chain_yields_nearest_untrusted_hop() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        // The client forged "6.6.6.6"; the proxy appended the real client, 198.51.100.7.
        let chain = ["6.6.6.6", "198.51.100.7", "10.1.1.1"];
        assert_eq!(resolve(ip("127.0.0.1"), chain.into_iter(), &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_ipv4_by_address() {
        let subject = |s: &str| ClientIp(ip(s)).rate_limit_subject();
        assert_eq!(subject("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
        assert_eq!(subject("2001:db8:1:2::1"), subject("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(subject("2001:db8:1:2::1"), subject("2001:db8:1:3::1"));
        assert_eq!(subject("203.0.113.9"), "203.0.113.9");
        assert_eq!(subject("::ffff:203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn bad_list_is_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/8, nonsense").is_err());
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
    }
}
