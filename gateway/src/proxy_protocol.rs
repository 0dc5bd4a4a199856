//! The PROXY protocol (versions 1 and 2, as HAProxy, AWS NLB and most TCP load balancers send
//! it): how a load balancer in TCP mode tells the gateway who its client really is.
//!
//! Behind a TCP proxy every connection comes from the proxy, so without this the login
//! throttle would slow every client down for one guesser and the audit trail would name the
//! proxy. The header is believed only from the addresses in `trusted_proxies`
//! (`MAYFLY_TRUSTED_PROXIES`); from anyone else it is never parsed, so a client cannot claim
//! to be someone else. Specification: <https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt>.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The twelve bytes every version 2 header starts with.
const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 1 header, CRLF included (the specification's limit).
const V1_MAX_LEN: usize = 107;
/// The longest version 2 address block and TLVs accepted. Load balancers send a few dozen
/// bytes (HAProxy's largest TLVs, with TLS details, stay well below this); anything longer is
/// refused rather than buffered.
const V2_MAX_PAYLOAD: usize = 4096;

/// What a trusted proxy's header says about the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// The proxy relays this client.
    Client(SocketAddr),
    /// The proxy speaks for itself (its health checks: v2 `LOCAL`, v1 `UNKNOWN`) or relays a
    /// kind of address the gateway does not use (UNIX sockets): the connection's own peer is
    /// the client.
    Local,
}

/// Why a header was refused. The connection is closed; the message goes to the log only.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the connection closed inside the PROXY header")]
    Truncated,
    #[error("PROXY v1 header longer than {V1_MAX_LEN} bytes or without CRLF")]
    V1TooLong,
    #[error("malformed PROXY v1 header: {0}")]
    V1Malformed(&'static str),
    #[error("not a PROXY v2 signature")]
    V2Signature,
    #[error("PROXY v2 header: unsupported version {0}")]
    V2Version(u8),
    #[error("PROXY v2 header: unknown command {0}")]
    V2Command(u8),
    #[error(
        "PROXY v2 header: {0} bytes of addresses and TLVs, more than the {V2_MAX_PAYLOAD} accepted"
    )]
    V2TooLong(usize),
    #[error("PROXY v2 header: the address block is shorter than its family needs")]
    V2ShortAddress,
}

/// Which header, if any, a connection starts with, judged from its first byte: a TLS
/// ClientHello starts with 0x16 and an HTTP request with a method's letter, neither of which
/// is `P` (v1) or CR (v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    V1,
    V2,
    None,
}

impl Start {
    pub fn of(first: u8) -> Start {
        match first {
            b'P' => Start::V1,
            b'\r' => Start::V2,
            _ => Start::None,
        }
    }
}

/// Reads one header of the kind `start` names, consuming exactly its bytes so that what
/// follows (the TLS handshake) is left for the next reader.
pub async fn read<R: AsyncRead + Unpin>(
    io: &mut R,
    start: Start,
) -> Result<Option<Header>, HeaderError> {
    match start {
        Start::None => Ok(None),
        Start::V1 => read_v1(io).await.map(Some),
        Start::V2 => read_v2(io).await.map(Some),
    }
}

/// Version 1: one text line. Read a byte at a time: a buffered read could swallow the start
/// of the TLS handshake behind it.
async fn read_v1<R: AsyncRead + Unpin>(io: &mut R) -> Result<Header, HeaderError> {
    let mut line = Vec::with_capacity(V1_MAX_LEN);
    loop {
        if line.len() == V1_MAX_LEN {
            return Err(HeaderError::V1TooLong);
        }
        let byte = io.read_u8().await.map_err(|_| HeaderError::Truncated)?;
        line.push(byte);
        if line.ends_with(b"\r\n") {
            break;
        }
    }
    parse_v1(&line[..line.len() - 2])
}

fn parse_v1(line: &[u8]) -> Result<Header, HeaderError> {
    let line = std::str::from_utf8(line).map_err(|_| HeaderError::V1Malformed("not ASCII"))?;
    let mut fields = line.split(' ');
    if fields.next() != Some("PROXY") {
        return Err(HeaderError::V1Malformed("does not start with \"PROXY \""));
    }
    let family = fields
        .next()
        .ok_or(HeaderError::V1Malformed("no protocol"))?;
    let is_v6 = match family {
        // The proxy does not know the client (or it is not TCP): the rest of the line is
        // to be ignored.
        "UNKNOWN" => return Ok(Header::Local),
        "TCP4" => false,
        "TCP6" => true,
        _ => {
            return Err(HeaderError::V1Malformed(
                "protocol is not TCP4, TCP6 or UNKNOWN",
            ))
        }
    };
    let fields: Vec<&str> = fields.collect();
    let [source, _destination, source_port, _destination_port] = fields[..] else {
        return Err(HeaderError::V1Malformed(
            "expected four fields after the protocol",
        ));
    };
    let ip: IpAddr = if is_v6 {
        source
            .parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| HeaderError::V1Malformed("source is not an IPv6 address"))?
    } else {
        source
            .parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| HeaderError::V1Malformed("source is not an IPv4 address"))?
    };
    // Ports are decimal without a sign or leading zeros ("0" itself is allowed).
    let port_ok = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    if !port_ok(source_port) {
        return Err(HeaderError::V1Malformed("source port is not a number"));
    }
    let port: u16 = source_port
        .parse()
        .map_err(|_| HeaderError::V1Malformed("source port is above 65535"))?;
    Ok(Header::Client(SocketAddr::new(ip, port)))
}

/// Version 2: a fixed 16-byte preamble, then addresses and TLVs of the length it gives.
async fn read_v2<R: AsyncRead + Unpin>(io: &mut R) -> Result<Header, HeaderError> {
    let mut preamble = [0u8; 16];
    io.read_exact(&mut preamble)
        .await
        .map_err(|_| HeaderError::Truncated)?;
    if preamble[..12] != V2_SIGNATURE {
        return Err(HeaderError::V2Signature);
    }
    let version = preamble[12] >> 4;
    if version != 2 {
        return Err(HeaderError::V2Version(version));
    }
    let command = preamble[12] & 0x0f;
    let family = preamble[13];
    let len = usize::from(u16::from_be_bytes([preamble[14], preamble[15]]));
    if len > V2_MAX_PAYLOAD {
        return Err(HeaderError::V2TooLong(len));
    }
    let mut payload = vec![0u8; len];
    io.read_exact(&mut payload)
        .await
        .map_err(|_| HeaderError::Truncated)?;
    match command {
        0 => return Ok(Header::Local),
        1 => {}
        other => return Err(HeaderError::V2Command(other)),
    }
    match family {
        // TCP over IPv4: source, destination, source port, destination port.
        0x11 => {
            let a = payload.get(..12).ok_or(HeaderError::V2ShortAddress)?;
            let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
            let port = u16::from_be_bytes([a[8], a[9]]);
            Ok(Header::Client(SocketAddr::new(IpAddr::V4(ip), port)))
        }
        // TCP over IPv6.
        0x21 => {
            let a = payload.get(..36).ok_or(HeaderError::V2ShortAddress)?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&a[..16]);
            let port = u16::from_be_bytes([a[32], a[33]]);
            Ok(Header::Client(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(octets)),
                port,
            )))
        }
        // Unspecified, UDP or UNIX: the specification says to use the connection's own
        // addresses.
        _ => Ok(Header::Local),
    }
}

/// The addresses whose PROXY headers are believed (`trusted_proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8, 192.0.2.7, fd00::/8`: addresses or CIDR blocks, comma-separated.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "{item:?} is neither an IP address nor a CIDR block such as 10.0.0.0/8"
                        ))
                    }
                },
            };
            if net.prefix_len() == 0 {
                return Err(format!(
                    "{item:?} would trust every address to say who its clients are; name the load balancers' addresses or subnets"
                ));
            }
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a connection from `peer` may carry a PROXY header.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = canonical_ip(peer);
        self.0.iter().any(|net| net.contains(&peer))
    }
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&items.join(","))
    }
}

/// An IPv4 client reaching a dual-stack (`[::]`) listener shows up as `::ffff:a.b.c.d`: it is
/// the IPv4 address for trust, throttling and the audit trail.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8]) -> (Result<Option<Header>, HeaderError>, Vec<u8>) {
        let mut io = bytes;
        let start = Start::of(bytes.first().copied().unwrap_or(0));
        let header = read(&mut io, start).await;
        (header, io.to_vec())
    }

    fn client(s: &str) -> Header {
        Header::Client(s.parse().unwrap())
    }

    fn v2(command: u8, family: u8, payload: &[u8]) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(0x20 | command);
        h.push(family);
        h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        h.extend_from_slice(payload);
        h
    }

    #[tokio::test]
    async fn v1_tcp4_and_tcp6_give_the_source_and_leave_the_rest_unread() {
        let (h, rest) = parse(b"PROXY TCP4 192.0.2.10 10.0.0.1 51234 8000\r\n\x16\x03\x01").await;
        assert_eq!(h, Ok(Some(client("192.0.2.10:51234"))));
        assert_eq!(
            rest, b"\x16\x03\x01",
            "the TLS bytes behind the header stay"
        );
        let (h, _) = parse(b"PROXY TCP6 2001:db8::7 2001:db8::1 443 8000\r\n").await;
        assert_eq!(h, Ok(Some(client("[2001:db8::7]:443"))));
        let (h, _) = parse(b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n").await;
        assert_eq!(h, Ok(Some(Header::Local)));
        let (h, _) = parse(b"PROXY UNKNOWN\r\n").await;
        assert_eq!(h, Ok(Some(Header::Local)));
    }

    #[tokio::test]
    async fn v1_malformed_headers_are_refused() {
        for bad in [
            &b"PROXY TCP4 192.0.2.10 10.0.0.1 51234\r\n"[..],
            b"PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n",
            b"PROXY TCP6 192.0.2.10 10.0.0.1 1 2\r\n",
            b"PROXY TCP4 192.0.2.10 10.0.0.1 65536 2\r\n",
            b"PROXY TCP4 192.0.2.10 10.0.0.1 +1 2\r\n",
            b"PROXY TCP4 192.0.2.10 10.0.0.1 01 2\r\n",
            b"PROXY UDP4 192.0.2.10 10.0.0.1 1 2\r\n",
            b"PROXY  TCP4 192.0.2.10 10.0.0.1 1 2\r\n",
            b"PROXYTCP4\r\n",
        ] {
            let (h, _) = parse(bad).await;
            assert!(
                matches!(h, Err(HeaderError::V1Malformed(_))),
                "{}: {h:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!("PROXY TCP4 {}\r\n", "1".repeat(120));
        assert_eq!(parse(long.as_bytes()).await.0, Err(HeaderError::V1TooLong));
        assert_eq!(
            parse(b"PROXY TCP4 192.0.2.10").await.0,
            Err(HeaderError::Truncated)
        );
    }

    #[tokio::test]
    async fn v2_proxy_gives_the_source_and_skips_tlvs() {
        let mut inet = vec![192, 0, 2, 10, 10, 0, 0, 1];
        inet.extend_from_slice(&51234u16.to_be_bytes());
        inet.extend_from_slice(&8000u16.to_be_bytes());
        // A TLV (type 0x04 NOOP, length 3) after the addresses.
        inet.extend_from_slice(&[0x04, 0, 3, 1, 2, 3]);
        let mut bytes = v2(1, 0x11, &inet);
        bytes.extend_from_slice(b"\x16\x03");
        let (h, rest) = parse(&bytes).await;
        assert_eq!(h, Ok(Some(client("192.0.2.10:51234"))));
        assert_eq!(rest, b"\x16\x03");

        let mut inet6 = "2001:db8::7".parse::<Ipv6Addr>().unwrap().octets().to_vec();
        inet6.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        inet6.extend_from_slice(&443u16.to_be_bytes());
        inet6.extend_from_slice(&8000u16.to_be_bytes());
        assert_eq!(
            parse(&v2(1, 0x21, &inet6)).await.0,
            Ok(Some(client("[2001:db8::7]:443")))
        );
    }

    #[tokio::test]
    async fn v2_local_and_other_families_mean_the_peer_itself() {
        assert_eq!(parse(&v2(0, 0x00, &[])).await.0, Ok(Some(Header::Local)));
        // LOCAL with addresses present (some proxies fill them in): still the proxy itself.
        assert_eq!(
            parse(&v2(0, 0x11, &[0; 12])).await.0,
            Ok(Some(Header::Local))
        );
        assert_eq!(
            parse(&v2(1, 0x31, &[0; 216])).await.0,
            Ok(Some(Header::Local)),
            "UNIX sockets"
        );
    }

    #[tokio::test]
    async fn v2_malformed_headers_are_refused() {
        let mut wrong_sig = v2(1, 0x11, &[0; 12]);
        wrong_sig[5] = b'X';
        assert_eq!(parse(&wrong_sig).await.0, Err(HeaderError::V2Signature));
        let mut version = v2(1, 0x11, &[0; 12]);
        version[12] = 0x11;
        assert_eq!(parse(&version).await.0, Err(HeaderError::V2Version(1)));
        assert_eq!(
            parse(&v2(2, 0x11, &[0; 12])).await.0,
            Err(HeaderError::V2Command(2))
        );
        assert_eq!(
            parse(&v2(1, 0x11, &[0; 8])).await.0,
            Err(HeaderError::V2ShortAddress)
        );
        assert_eq!(
            parse(&v2(1, 0x11, &vec![0; 5000])).await.0,
            Err(HeaderError::V2TooLong(5000))
        );
        let mut cut = v2(1, 0x11, &[0; 12]);
        cut.truncate(20);
        assert_eq!(parse(&cut).await.0, Err(HeaderError::Truncated));
    }

    #[tokio::test]
    async fn anything_else_is_not_a_header() {
        let (h, rest) = parse(b"\x16\x03\x01\x02").await;
        assert_eq!(h, Ok(None));
        assert_eq!(rest, b"\x16\x03\x01\x02", "nothing consumed");
        assert_eq!(parse(b"GET / HTTP/1.1\r\n").await.0, Ok(None));
    }

    #[test]
    fn trusted_proxies_match_addresses_and_blocks() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8").unwrap();
        assert!(t.contains("10.1.2.3".parse().unwrap()));
        assert!(t.contains("192.0.2.7".parse().unwrap()));
        assert!(!t.contains("192.0.2.8".parse().unwrap()));
        assert!(t.contains("fd00::5".parse().unwrap()));
        assert!(
            t.contains("::ffff:10.9.9.9".parse().unwrap()),
            "IPv4 on a dual-stack listener"
        );
        assert_eq!(t.to_string(), "10.0.0.0/8,192.0.2.7/32,fd00::/8");
        assert_eq!(
            TrustedProxies::parse("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
        assert!(TrustedProxies::parse("0.0.0.0/0").is_err());
        assert!(TrustedProxies::parse("::/0").is_err());
    }
}
