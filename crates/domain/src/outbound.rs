//! Outbound URLs: where the gateway may send requests because of configuration that the API
//! can set (a target's `iam-endpoint` / `sts-endpoint` today; JWKS URLs, STS URLs for logins
//! and Kubernetes API hosts later). One policy, [`OutboundPolicy`], decides for all of them.
//!
//! The rules:
//! - **AWS endpoint fields** ([`OutboundPolicy::check_aws_endpoint`]) must name AWS's own
//!   https endpoint of that service (see [`is_aws_host`] for the exact host patterns), on the
//!   default port, without credentials, path, query or fragment.
//! - **Other URLs** ([`OutboundPolicy::check_url`]) must be https, without credentials, and
//!   their host must not be (or, checked at connect time, resolve to) a loopback, link-local,
//!   private, unspecified, multicast, shared (CGNAT), documentation or reserved address,
//!   including the same addresses written as IPv4-mapped, -compatible, NAT64 or 6to4 IPv6.
//! - **Either kind** is also accepted when its origin (scheme, host, port) is exactly one of
//!   the operator's allowed origins ([`AllowedOrigin`], the `MAYFLY_ALLOWED_ENDPOINTS`
//!   setting): that is how a local emulator such as moto on `http://127.0.0.1:5000` is used.
//!
//! Every URL is parsed with the WHATWG parser of the `url` crate and compared component by
//! component, never as a string prefix: `http://127.0.0.1:80@evil` has the host `evil`,
//! `http://2130706433/` and `http://0177.0.0.1/` are `127.0.0.1`, hosts are lowercased and one
//! trailing dot is dropped before comparing.
//!
//! Checking a URL when it is saved is not enough (a name can resolve elsewhere later, and a
//! stored value may predate the rules), so the HTTP client checks again at connect time with
//! [`OutboundPolicy::check_request`] and [`OutboundPolicy::check_resolved`]. This module does
//! no I/O; the AWS client's resolver and interceptor call it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The name of the operator setting that allows further origins.
pub const ALLOWED_ENDPOINTS_SETTING: &str = "MAYFLY_ALLOWED_ENDPOINTS";

/// Longest URL accepted, in bytes.
const MAX_URL_LEN: usize = 2048;

/// An AWS service whose endpoint a target may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AwsService {
    Iam,
    Sts,
}

impl AwsService {
    /// The first label of the service's hosts (`iam`, `sts`).
    pub fn label(self) -> &'static str {
        match self {
            AwsService::Iam => "iam",
            AwsService::Sts => "sts",
        }
    }

    /// An example of a valid endpoint, for error messages.
    fn example(self) -> &'static str {
        match self {
            AwsService::Iam => "https://iam.amazonaws.com",
            AwsService::Sts => "https://sts.us-east-1.amazonaws.com",
        }
    }
}

impl fmt::Display for AwsService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AwsService::Iam => "IAM",
            AwsService::Sts => "STS",
        })
    }
}

/// The parts of a URL that decide where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` or `https`.
    scheme: String,
    /// A lowercase domain without trailing dot, or an IP address.
    host: OriginHost,
    /// The port, with the scheme's default filled in.
    port: u16,
}

/// The host of an [`Origin`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OriginHost {
    /// A domain name: lowercase, punycode, no trailing dot.
    Domain(String),
    /// An IP address literal.
    Ip(IpAddr),
}

impl fmt::Display for OriginHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginHost::Domain(d) => f.write_str(d),
            OriginHost::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            OriginHost::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

impl Origin {
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    pub fn host(&self) -> &OriginHost {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn default_port(&self) -> bool {
        matches!(
            (self.scheme.as_str(), self.port),
            ("https", 443) | ("http", 80)
        )
    }

    /// The origin of a parsed URL with an http(s) scheme and a host.
    fn of(url: &Url) -> Result<Origin, String> {
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(format!("the scheme {scheme}:// is not http:// or https://"));
        }
        let host = match url.host() {
            Some(Host::Domain(d)) => {
                let d = d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase();
                if d.is_empty() || d.ends_with('.') || d.split('.').any(str::is_empty) {
                    return Err("the host name has an empty label".into());
                }
                OriginHost::Domain(d)
            }
            Some(Host::Ipv4(ip)) => OriginHost::Ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => OriginHost::Ip(IpAddr::V6(ip)),
            None => return Err("it has no host".into()),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| "it has no port".to_owned())?;
        Ok(Origin {
            scheme: scheme.to_owned(),
            host,
            port,
        })
    }
}

impl fmt::Display for Origin {
    /// `scheme://host[:port]`, the port shown only when it is not the scheme's default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if !self.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// One entry of `MAYFLY_ALLOWED_ENDPOINTS`: `scheme://host[:port]`, http or https, no path.
///
/// A URL matches it when its scheme, host and port are equal to the entry's (the port
/// defaulting to 80 or 443 on both sides).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AllowedOrigin(Origin);

impl AllowedOrigin {
    /// Parses one entry; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<AllowedOrigin, String> {
        let raw = raw.trim();
        let url = parse_url(raw)?;
        let origin = Origin::of(&url).map_err(|e| format!("{raw:?}: {e}"))?;
        if has_userinfo(&url) {
            return Err(format!(
                "{raw:?}: give scheme://host[:port] without user or password"
            ));
        }
        if !bare(&url) {
            return Err(format!(
                "{raw:?}: give scheme://host[:port] only, without path, query or fragment"
            ));
        }
        Ok(AllowedOrigin(origin))
    }

    /// Parses a comma-separated list (empty entries are skipped), reporting every bad entry.
    pub fn parse_list(raw: &str) -> Result<Vec<AllowedOrigin>, Vec<String>> {
        let mut allowed = Vec::new();
        let mut errors = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match AllowedOrigin::parse(entry) {
                Ok(origin) if !allowed.contains(&origin) => allowed.push(origin),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(allowed)
        } else {
            Err(errors)
        }
    }

    /// The origin of an endpoint URL the operator set elsewhere (`AWS_ENDPOINT_URL`): the
    /// URL's scheme, host and port; its path is ignored.
    pub fn of_url(raw: &str) -> Result<AllowedOrigin, String> {
        let raw = raw.trim();
        let url = parse_url(raw)?;
        if has_userinfo(&url) {
            return Err(format!(
                "{raw:?}: remove the user and password from the URL"
            ));
        }
        Origin::of(&url)
            .map(AllowedOrigin)
            .map_err(|e| format!("{raw:?}: {e}"))
    }

    pub fn origin(&self) -> &Origin {
        &self.0
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What an IP address is, as far as outbound connections care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Globally routable unicast.
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918, IPv6 unique-local (`fc00::/7`) and site-local, local-use NAT64.
    Private,
    /// `100.64.0.0/10` (carrier-grade NAT).
    Shared,
    /// `169.254.0.0/16` (cloud metadata services live here), `fe80::/10`.
    LinkLocal,
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`.
    Documentation,
    /// Everything else that is not global unicast: `240.0.0.0/4` and broadcast, `192.0.0.0/24`,
    /// `198.18.0.0/15`, Teredo, discard-only, and IPv6 outside `2000::/3`.
    Reserved,
}

impl AddressClass {
    /// The class of `ip`, looking through IPv4-mapped, IPv4-compatible, NAT64 and 6to4
    /// IPv6 addresses to the IPv4 address they carry.
    pub fn of(ip: IpAddr) -> AddressClass {
        match ip {
            IpAddr::V4(v4) => classify_v4(v4),
            IpAddr::V6(v6) => classify_v6(v6),
        }
    }

    pub fn is_public(self) -> bool {
        self == AddressClass::Public
    }

    /// Where AWS's own host names may point: public addresses, and private or shared ones
    /// for VPC interface endpoints (PrivateLink), whose private DNS answers with addresses
    /// of the VPC. Never loopback, link-local or the like.
    pub fn may_serve_aws(self) -> bool {
        matches!(
            self,
            AddressClass::Public | AddressClass::Private | AddressClass::Shared
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::Shared => "shared (CGNAT)",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Documentation => "documentation",
            AddressClass::Reserved => "reserved",
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, _, _) => AddressClass::Unspecified,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => AddressClass::Private,
        (100, 64..=127, _) => AddressClass::Shared,
        (127, _, _) => AddressClass::Loopback,
        (169, 254, _) => AddressClass::LinkLocal,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressClass::Documentation,
        (192, 0, 0) | (198, 18..=19, _) => AddressClass::Reserved,
        (224..=239, _, _) => AddressClass::Multicast,
        (240..=255, _, _) => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        classify_v4(Ipv4Addr::new(a, b, c, d))
    };
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    match s {
        // IPv4-mapped ::ffff:a.b.c.d and the deprecated IPv4-compatible ::a.b.c.d.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
        // NAT64 well-known prefix 64:ff9b::/96.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => embedded(hi, lo),
        // Local-use NAT64 64:ff9b:1::/48.
        [0x64, 0xff9b, 1, ..] => AddressClass::Private,
        // 6to4 2002:AABB:CCDD::/48 carries the IPv4 address AA.BB.CC.DD.
        [0x2002, hi, lo, ..] => embedded(hi, lo),
        // Teredo 2001::/32 (the client address is obfuscated): not a plain destination.
        [0x2001, 0, ..] => AddressClass::Reserved,
        [0x2001, 0xdb8, ..] => AddressClass::Documentation,
        // Discard-only 100::/64.
        [0x100, 0, 0, 0, ..] => AddressClass::Reserved,
        [first, ..] if first & 0xfe00 == 0xfc00 => AddressClass::Private,
        [first, ..] if first & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        [first, ..] if first & 0xffc0 == 0xfec0 => AddressClass::Private,
        [first, ..] if first & 0xff00 == 0xff00 => AddressClass::Multicast,
        [first, ..] if first & 0xe000 == 0x2000 => AddressClass::Public,
        _ => AddressClass::Reserved,
    }
}

/// AWS region names in the host patterns: `GEO[-gov]-DIRECTION-N` with a known geography
/// and direction (`us-east-1`, `eu-central-2`, `ap-southeast-4`, `us-gov-west-1`,
/// `cn-northwest-1`, ...). Deliberately narrower than "anything with dashes": labels such as
/// `s3-website-us-east-1` sit in front of customer-owned bucket names.
fn is_region(label: &str) -> bool {
    const GEOS: &[&str] = &["af", "ap", "ca", "cn", "eu", "il", "me", "mx", "sa", "us"];
    const DIRECTIONS: &[&str] = &[
        "central",
        "east",
        "west",
        "north",
        "south",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let parts: Vec<&str> = label.split('-').collect();
    let (geo, direction, number) = match parts.as_slice() {
        [geo, direction, number] => (*geo, *direction, *number),
        ["us", "gov", direction, number] => ("us", *direction, *number),
        _ => return false,
    };
    GEOS.contains(&geo)
        && DIRECTIONS.contains(&direction)
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `host` (lowercase, no trailing dot) is one of AWS's own endpoints of `service`.
///
/// The patterns, with `S` the service (`iam`, `sts`) and `R` a region name:
/// - `S.amazonaws.com`, `S-fips.amazonaws.com` (global endpoints, commercial partition);
/// - `S.R.amazonaws.com`, `S-fips.R.amazonaws.com` (regional, commercial and GovCloud,
///   e.g. `sts.eu-west-1.amazonaws.com`, `sts-fips.us-gov-west-1.amazonaws.com`);
/// - `iam.us-gov.amazonaws.com`, `iam-fips.us-gov.amazonaws.com` (IAM in GovCloud);
/// - `S.cn-R.amazonaws.com.cn` (China, e.g. `iam.cn-north-1.amazonaws.com.cn`).
///
/// Nothing else under `amazonaws.com`: that domain also names customer resources (S3
/// buckets, API Gateway, EC2 instances, load balancers). Dual-stack (`api.aws`) and the
/// isolated partitions are not included; an operator who needs them lists them in
/// `MAYFLY_ALLOWED_ENDPOINTS`.
pub fn is_aws_host(service: AwsService, host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let Some((first, rest)) = labels.split_first() else {
        return false;
    };
    let label = service.label();
    let plain = *first == label;
    let fips = first.strip_suffix("-fips") == Some(label);
    if !plain && !fips {
        return false;
    }
    match rest {
        ["amazonaws", "com"] => true,
        ["us-gov", "amazonaws", "com"] => service == AwsService::Iam,
        [region, "amazonaws", "com"] => is_region(region) && !region.starts_with("cn-"),
        [region, "amazonaws", "com", "cn"] => {
            plain && is_region(region) && region.starts_with("cn-")
        }
        _ => false,
    }
}

/// Whether `host` is AWS's own endpoint of any service this policy knows.
pub fn is_any_aws_host(host: &str) -> bool {
    is_aws_host(AwsService::Iam, host) || is_aws_host(AwsService::Sts, host)
}

/// The policy for every outbound URL: AWS's own endpoints and public https URLs, plus the
/// operator's allowed origins. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allowed: Vec<AllowedOrigin>,
}

impl OutboundPolicy {
    /// A policy allowing `allowed` besides what the rules accept anyway.
    pub fn new(allowed: Vec<AllowedOrigin>) -> Self {
        let mut policy = OutboundPolicy::default();
        for origin in allowed {
            policy.allow(origin);
        }
        policy
    }

    /// Adds an allowed origin (no-op when it is there already).
    pub fn allow(&mut self, origin: AllowedOrigin) {
        if !self.allowed.contains(&origin) {
            self.allowed.push(origin);
        }
    }

    /// The allowed origins, in the order given.
    pub fn allowed(&self) -> &[AllowedOrigin] {
        &self.allowed
    }

    fn is_allowed(&self, origin: &Origin) -> bool {
        self.allowed.iter().any(|a| &a.0 == origin)
    }

    /// Checks a URL given for a target's `iam-endpoint` / `sts-endpoint` and returns it in
    /// its canonical form `scheme://host[:port]` (lowercase host, no trailing dot or slash,
    /// the default port left out).
    pub fn check_aws_endpoint(&self, service: AwsService, raw: &str) -> Result<String, String> {
        let url = parse_url(raw)?;
        if has_userinfo(&url) {
            return Err(format!(
                "{raw:?} contains a user or password; give scheme://host[:port] only"
            ));
        }
        if !bare(&url) {
            return Err(format!(
                "{raw:?} has a path, query or fragment; give scheme://host[:port] only, such as {}",
                service.example()
            ));
        }
        let origin = Origin::of(&url).map_err(|e| format!("{raw:?} is not usable: {e}"))?;
        if self.is_allowed(&origin) || is_aws_origin(service, &origin) {
            return Ok(origin.to_string());
        }
        Err(format!(
            "{origin} is not AWS's own {service} endpoint (https, e.g. {}) nor an origin the \
             operator allows; to use an AWS-compatible service or local emulator, the operator \
             adds {origin} to the gateway setting {ALLOWED_ENDPOINTS_SETTING}",
            service.example()
        ))
    }

    /// Checks a URL the gateway is about to send an AWS request of `service` to (the SDK's
    /// resolved endpoint, with any path). `Err` says why it is refused, naming only the
    /// URL's origin.
    pub fn check_request(&self, service: AwsService, url: &str) -> Result<(), String> {
        let parsed = parse_url(url)?;
        let origin = Origin::of(&parsed).map_err(|e| format!("the endpoint is not usable: {e}"))?;
        if has_userinfo(&parsed) {
            return Err(format!("the endpoint {origin} contains a user or password"));
        }
        if self.is_allowed(&origin) || is_aws_origin(service, &origin) {
            return Ok(());
        }
        Err(format!(
            "the {service} endpoint {origin} is neither AWS's own nor allowed by the gateway \
             setting {ALLOWED_ENDPOINTS_SETTING}; point the target at AWS's endpoint (e.g. {}) \
             or ask the operator to add {origin} to {ALLOWED_ENDPOINTS_SETTING}",
            service.example()
        ))
    }

    /// Checks any other outbound URL (JWKS, login STS, Kubernetes API): https, no user or
    /// password, no fragment, and a host that is not `localhost` nor a non-public address
    /// literal; or a URL on an allowed origin. A host *name* passes here: the connection's
    /// resolver checks its addresses ([`OutboundPolicy::check_resolved`]).
    pub fn check_url(&self, raw: &str) -> Result<Url, String> {
        let url = parse_url(raw)?;
        if has_userinfo(&url) {
            return Err(format!("{raw:?} contains a user or password"));
        }
        if url.fragment().is_some() {
            return Err(format!("{raw:?} has a #fragment"));
        }
        let origin = Origin::of(&url).map_err(|e| format!("{raw:?} is not usable: {e}"))?;
        if self.is_allowed(&origin) {
            return Ok(url);
        }
        let refuse = |why: String| {
            Err(format!(
                "{origin} {why}; the operator can allow it with the gateway setting \
                 {ALLOWED_ENDPOINTS_SETTING}"
            ))
        };
        if origin.scheme != "https" {
            return refuse("is not https".into());
        }
        // The resolver lets an allowed origin's host resolve anywhere without seeing the
        // port, so another port or scheme of that host must not pass as "public".
        if self.allowed.iter().any(|a| a.0.host == origin.host) {
            return refuse("is not the allowed origin of that host".into());
        }
        match &origin.host {
            OriginHost::Ip(ip) => {
                let class = AddressClass::of(*ip);
                if !class.is_public() {
                    return refuse(format!("is a {} address", class.describe()));
                }
            }
            OriginHost::Domain(d) if d == "localhost" || d.ends_with(".localhost") => {
                return refuse("is a loopback name".into());
            }
            OriginHost::Domain(_) => {}
        }
        Ok(url)
    }

    /// Checks the addresses `host` resolved to, before connecting. Hosts of allowed origins
    /// may resolve anywhere; AWS's own host names to public, private or shared addresses
    /// (VPC interface endpoints); any other name only to public addresses. One bad address
    /// refuses the whole answer.
    pub fn check_resolved(&self, host: &str, addresses: &[IpAddr]) -> Result<(), String> {
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let allowed_host = self.allowed.iter().any(|a| match &a.0.host {
            OriginHost::Domain(d) => *d == host,
            OriginHost::Ip(_) => false,
        });
        if allowed_host {
            return Ok(());
        }
        let aws = is_any_aws_host(&host);
        for ip in addresses {
            let class = AddressClass::of(*ip);
            let ok = if aws {
                class.may_serve_aws()
            } else {
                class.is_public()
            };
            if !ok {
                return Err(format!(
                    "{host} resolves to a {} address, where the gateway does not connect \
                     unless the operator allows the origin in {ALLOWED_ENDPOINTS_SETTING}",
                    class.describe()
                ));
            }
        }
        if addresses.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        Ok(())
    }
}

fn is_aws_origin(service: AwsService, origin: &Origin) -> bool {
    origin.scheme == "https"
        && origin.port == 443
        && matches!(&origin.host, OriginHost::Domain(d) if is_aws_host(service, d))
}

fn parse_url(raw: &str) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(format!("the URL is longer than {MAX_URL_LEN} characters"));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{raw:?} contains spaces or control characters"));
    }
    Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL such as https://host[:port] ({e})"))
}

fn has_userinfo(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// No path beyond `/`, no query, no fragment.
fn bare(url: &Url) -> bool {
    matches!(url.path(), "" | "/") && url.query().is_none() && url.fragment().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &str) -> OutboundPolicy {
        OutboundPolicy::new(AllowedOrigin::parse_list(allowed).expect("valid list"))
    }

    fn class(ip: &str) -> AddressClass {
        AddressClass::of(ip.parse().expect("an IP address"))
    }

    #[test]
    fn aws_hosts_follow_the_documented_patterns() {
        use AwsService::{Iam, Sts};
        for (service, host) in [
            (Iam, "iam.amazonaws.com"),
            (Iam, "iam-fips.amazonaws.com"),
            (Iam, "iam.us-gov.amazonaws.com"),
            (Iam, "iam.cn-north-1.amazonaws.com.cn"),
            (Sts, "sts.amazonaws.com"),
            (Sts, "sts.us-east-1.amazonaws.com"),
            (Sts, "sts-fips.us-east-2.amazonaws.com"),
            (Sts, "sts.us-gov-west-1.amazonaws.com"),
            (Sts, "sts.ap-southeast-4.amazonaws.com"),
            (Sts, "sts.cn-northwest-1.amazonaws.com.cn"),
        ] {
            assert!(is_aws_host(service, host), "{host}");
        }
        for (service, host) in [
            // The other service's host.
            (Iam, "sts.amazonaws.com"),
            (Sts, "iam.amazonaws.com"),
            // Customer-owned names under amazonaws.com.
            (Iam, "iam.s3-website-us-east-1.amazonaws.com"),
            (Iam, "iam.s3-us-west-2.amazonaws.com"),
            (Sts, "sts.s3.amazonaws.com"),
            (Sts, "sts.execute-api.us-east-1.amazonaws.com"),
            (Sts, "x.sts.us-east-1.amazonaws.com"),
            (Sts, "sts.compute-1.amazonaws.com"),
            // Look-alikes.
            (Iam, "iam.amazonaws.com.evil.com"),
            (Iam, "iamx.amazonaws.com"),
            (Iam, "amazonaws.com"),
            (Sts, "sts.amazonaws.com.cn"),
            (Sts, "sts.us-east-1.amazonaws.com.cn"),
            (Sts, "sts-fips.cn-north-1.amazonaws.com.cn"),
            (Sts, "sts.us-gov.amazonaws.com"),
            (Sts, "sts.us-east-123.amazonaws.com"),
        ] {
            assert!(!is_aws_host(service, host), "{host}");
        }
    }

    #[test]
    fn aws_endpoints_are_canonicalised_and_must_be_https_on_443() {
        let p = OutboundPolicy::default();
        let ok = |raw: &str| p.check_aws_endpoint(AwsService::Sts, raw);
        assert_eq!(
            ok("https://STS.US-EAST-1.amazonaws.com./").unwrap(),
            "https://sts.us-east-1.amazonaws.com"
        );
        assert_eq!(
            ok("https://sts.amazonaws.com:443").unwrap(),
            "https://sts.amazonaws.com"
        );
        for bad in [
            "http://sts.amazonaws.com",
            "https://sts.amazonaws.com:8443",
            "https://user:pw@sts.amazonaws.com",
            "https://sts.amazonaws.com/path",
            "https://sts.amazonaws.com/?q=1",
            "https://sts.amazonaws.com..",
            "ftp://sts.amazonaws.com",
            "sts.amazonaws.com",
            "https://",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
        let err = ok("http://127.0.0.1:5000").unwrap_err();
        assert!(err.contains(ALLOWED_ENDPOINTS_SETTING), "{err}");
        assert!(err.contains("http://127.0.0.1:5000"), "{err}");
    }

    #[test]
    fn allowed_origins_match_exactly_on_scheme_host_and_port() {
        let p = policy("http://127.0.0.1:5000, https://moto.internal");
        let check = |raw: &str| p.check_aws_endpoint(AwsService::Iam, raw);
        assert_eq!(
            check("http://127.0.0.1:5000/").unwrap(),
            "http://127.0.0.1:5000"
        );
        assert_eq!(
            check("https://MOTO.internal.:443").unwrap(),
            "https://moto.internal"
        );
        for bad in [
            "https://127.0.0.1:5000",
            "http://127.0.0.1:5001",
            "http://127.0.0.1",
            "http://localhost:5000",
            "http://127.0.0.2:5000",
            "http://moto.internal",
            "https://moto.internal:8443",
            // Userinfo and port tricks around an allowed prefix.
            "http://127.0.0.1:5000@evil.example",
            "http://127.0.0.1:80@127.0.0.1:5001",
            "http://127.0.0.1:5000.evil.com",
            "http://127.0.0.1:5000evil",
        ] {
            assert!(check(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn numeric_ip_spellings_are_the_address_they_mean() {
        let p = policy("http://127.0.0.1:80");
        let iam = |raw: &str| p.check_aws_endpoint(AwsService::Iam, raw);
        // Decimal, octal, hex and short forms of 127.0.0.1 are that address: allowed here...
        for spelled in [
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0.0.1/",
            "http://127.1/",
        ] {
            assert_eq!(iam(spelled).unwrap(), "http://127.0.0.1", "{spelled}");
        }
        // ...and refused where loopback is not allowed.
        let strict = OutboundPolicy::default();
        for spelled in [
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::1]/",
            "https://0/",
        ] {
            assert!(strict.check_url(spelled).is_err(), "{spelled}");
            assert!(
                strict.check_aws_endpoint(AwsService::Iam, spelled).is_err(),
                "{spelled}"
            );
        }
    }

    #[test]
    fn address_classes() {
        for (ip, expected) in [
            ("127.0.0.1", AddressClass::Loopback),
            ("127.255.0.9", AddressClass::Loopback),
            ("10.1.2.3", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.31.255.255", AddressClass::Private),
            ("192.168.1.1", AddressClass::Private),
            ("100.64.0.1", AddressClass::Shared),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("0.0.0.0", AddressClass::Unspecified),
            ("224.0.0.1", AddressClass::Multicast),
            ("255.255.255.255", AddressClass::Reserved),
            ("192.0.2.1", AddressClass::Documentation),
            ("8.8.8.8", AddressClass::Public),
            ("172.32.0.1", AddressClass::Public),
            ("100.128.0.1", AddressClass::Public),
            ("::1", AddressClass::Loopback),
            ("::", AddressClass::Unspecified),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("::ffff:10.0.0.1", AddressClass::Private),
            ("::ffff:169.254.169.254", AddressClass::LinkLocal),
            ("::ffff:8.8.8.8", AddressClass::Public),
            ("::127.0.0.1", AddressClass::Loopback),
            ("64:ff9b::a9fe:a9fe", AddressClass::LinkLocal),
            ("64:ff9b:1::1", AddressClass::Private),
            ("2002:7f00:1::1", AddressClass::Loopback),
            ("2002:808:808::1", AddressClass::Public),
            ("2001::1", AddressClass::Reserved),
            ("2001:db8::1", AddressClass::Documentation),
            ("fd00::1", AddressClass::Private),
            ("fc12::1", AddressClass::Private),
            ("fe80::1", AddressClass::LinkLocal),
            ("fec0::1", AddressClass::Private),
            ("ff02::1", AddressClass::Multicast),
            ("2600:1f18::1", AddressClass::Public),
            ("4000::1", AddressClass::Reserved),
        ] {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn other_urls_must_be_https_to_public_hosts() {
        let p = OutboundPolicy::default();
        assert!(p
            .check_url("https://login.example.com/.well-known/jwks.json")
            .is_ok());
        assert!(p.check_url("https://8.8.8.8/keys").is_ok());
        for bad in [
            "http://login.example.com/jwks",
            "https://localhost/jwks",
            "https://LOCALHOST./jwks",
            "https://api.localhost/jwks",
            "https://127.0.0.1/jwks",
            "https://10.0.0.1/jwks",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.1.1/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://224.0.0.1/",
            "https://user@login.example.com/",
            "https://login.example.com/#frag",
        ] {
            let err = p.check_url(bad).expect_err(bad);
            assert!(
                err.contains(ALLOWED_ENDPOINTS_SETTING) || err.contains('"'),
                "{err}"
            );
        }
        let allowed = policy("http://localhost:8080");
        assert!(allowed.check_url("http://localhost:8080/jwks").is_ok());
        assert!(allowed.check_url("http://localhost:8081/jwks").is_err());
        let internal = policy("http://idp.internal:8080");
        assert!(internal.check_url("https://idp.internal/jwks").is_err());
        assert!(OutboundPolicy::default()
            .check_url("https://idp.internal/jwks")
            .is_ok());
    }

    #[test]
    fn resolved_addresses_are_checked_by_kind_of_host() {
        let p = policy("http://moto.internal:5000");
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        // Allowed hosts resolve anywhere.
        assert!(p
            .check_resolved("moto.internal", &[ip("127.0.0.1")])
            .is_ok());
        // AWS's names may point into a VPC (interface endpoints), never at loopback or metadata.
        assert!(p
            .check_resolved("sts.us-east-1.amazonaws.com", &[ip("10.0.1.5")])
            .is_ok());
        assert!(p
            .check_resolved("sts.us-east-1.amazonaws.com.", &[ip("52.46.1.1")])
            .is_ok());
        assert!(p
            .check_resolved("sts.us-east-1.amazonaws.com", &[ip("127.0.0.1")])
            .is_err());
        assert!(p
            .check_resolved("iam.amazonaws.com", &[ip("169.254.169.254")])
            .is_err());
        // Any other name: public only, and one bad address refuses the answer.
        assert!(p
            .check_resolved("jwks.example.com", &[ip("93.184.215.14")])
            .is_ok());
        let err = p
            .check_resolved("localhost", &[ip("::1"), ip("127.0.0.1")])
            .unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        assert!(p
            .check_resolved("rebind.example.com", &[ip("93.184.215.14"), ip("10.0.0.1")])
            .is_err());
        assert!(p.check_resolved("nothing.example.com", &[]).is_err());
    }

    #[test]
    fn requests_are_checked_by_origin_whatever_their_path() {
        let p = policy("http://127.0.0.1:5000");
        assert!(p
            .check_request(AwsService::Iam, "http://127.0.0.1:5000/")
            .is_ok());
        assert!(p
            .check_request(AwsService::Sts, "https://sts.us-east-1.amazonaws.com/")
            .is_ok());
        let err = p
            .check_request(AwsService::Iam, "http://127.0.0.1:5001/")
            .unwrap_err();
        assert!(
            err.contains("http://127.0.0.1:5001") && err.contains(ALLOWED_ENDPOINTS_SETTING),
            "{err}"
        );
        assert!(p
            .check_request(AwsService::Iam, "http://localhost:5000/")
            .is_err());
        assert!(p
            .check_request(AwsService::Iam, "https://sts.amazonaws.com/")
            .is_err());
    }

    #[test]
    fn allowed_lists_report_every_bad_entry() {
        let errors = AllowedOrigin::parse_list(
            "http://127.0.0.1:5000, ftp://x, http://h/path, http://u:p@h, nonsense,,",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        let ok =
            AllowedOrigin::parse_list("http://127.0.0.1:5000/,HTTP://127.0.0.1:5000,").unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].to_string(), "http://127.0.0.1:5000");
        assert_eq!(
            AllowedOrigin::parse("https://[::1]:443")
                .unwrap()
                .to_string(),
            "https://[::1]"
        );
        assert_eq!(
            AllowedOrigin::of_url("http://moto:5000/some/path")
                .unwrap()
                .to_string(),
            "http://moto:5000"
        );
    }
}
