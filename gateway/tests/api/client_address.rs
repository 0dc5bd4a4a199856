//! Whose address a request has: the login throttle and the audit trail key on it.
//!
//! Behind a TCP load balancer every connection comes from the balancer. A balancer listed in
//! `MAYFLY_TRUSTED_PROXIES` names the real client in a PROXY protocol header (v1 or v2); from
//! any other address the header is never read, so nobody can pick the address they are
//! throttled and audited under. These tests speak raw TCP + TLS from chosen loopback source
//! addresses (all of 127.0.0.0/8 is local on Linux) so they can send the header themselves.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use mayfly_testkit::TestGateway;
use rustls_pki_types::{pem::PemObject, CertificateDer, ServerName};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpSocket,
};

use crate::helpers::builder;

/// What came back on a raw connection.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A PROXY v1 line naming `client`.
fn v1(client: &str) -> Vec<u8> {
    let client: SocketAddr = client.parse().unwrap();
    format!(
        "PROXY TCP4 {} 127.0.0.1 {} 8000\r\n",
        client.ip(),
        client.port()
    )
    .into_bytes()
}

/// A PROXY v2 header: `PROXY` naming `client` (IPv4), or `LOCAL` (health checks).
fn v2(client: Option<&str>) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    match client {
        None => h.extend_from_slice(&[0x20, 0x00, 0, 0]),
        Some(client) => {
            let client: SocketAddr = client.parse().unwrap();
            let IpAddr::V4(ip) = client.ip() else {
                panic!("IPv4 only")
            };
            h.extend_from_slice(&[0x21, 0x11, 0, 12]);
            h.extend_from_slice(&ip.octets());
            h.extend_from_slice(&[127, 0, 0, 1]);
            h.extend_from_slice(&client.port().to_be_bytes());
            h.extend_from_slice(&8000u16.to_be_bytes());
        }
    }
    h
}

/// POSTs `body` to `path` over a new connection from `source`, sending `preamble` (a PROXY
/// header, or nothing) before the TLS handshake. `Err`: the gateway closed the connection
/// before answering.
fn post_raw(
    gw: &TestGateway,
    source: &str,
    preamble: &[u8],
    path: &str,
    body: &Value,
) -> std::io::Result<RawResponse> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(format!("{source}:0").parse().unwrap())?;
        let mut tcp = socket
            .connect(SocketAddr::from(([127, 0, 0, 1], gw.port())))
            .await?;
        tcp.write_all(preamble).await?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(gw.ca_cert_path()).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let mut tls = tokio::time::timeout(
            Duration::from_secs(20),
            connector.connect(ServerName::try_from("localhost").unwrap(), tcp),
        )
        .await??;
        let body = body.to_string();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        // The gateway closes after its answer (Connection: close); a missing close_notify is
        // not this test's business once the whole answer is in.
        let _ = tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut raw)).await;
        parse_response(&raw)
    })
}

fn parse_response(raw: &[u8]) -> std::io::Result<RawResponse> {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("no complete response: {text:?}"),
        ));
    };
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn login(gw: &TestGateway, key: &str) -> Value {
    json!({"access-id": gw.admin_access_id(), "access-key": key})
}

/// Audit events of `operation` from `client`, read as the admin (whose read also closes the
/// counting windows of anonymous refusals, so they show at once).
fn audited_from(gw: &TestGateway, operation: &str, client: &str) -> Vec<Value> {
    let (status, page) = gw.post_authed(
        "/get-audit-events",
        json!({"operation": operation, "limit": 1000}),
    );
    assert_eq!(status, 200, "{page}");
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["client_address"] == client)
        .cloned()
        .collect()
}

#[test]
fn a_trusted_proxy_names_the_client_that_is_throttled_and_audited() {
    let gw = builder()
        .env("MAYFLY_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .unwrap();
    let wrong = login(&gw, "wrong-key-wrong-key");

    // A guesser behind the proxy (v2, as HAProxy's send-proxy-v2 sends it): three free
    // failures, a fourth, then it must wait, with Retry-After.
    let guesser = v2(Some("203.0.113.7:40000"));
    for _ in 0..4 {
        let r = post_raw(&gw, "127.0.0.1", &guesser, "/auth", &wrong).unwrap();
        assert_eq!(r.status, 401, "{r:?}");
    }
    let r = post_raw(&gw, "127.0.0.1", &guesser, "/auth", &wrong).unwrap();
    assert_eq!(r.status, 429, "{r:?}");
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After on a 429")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(r.body["error"].as_str().unwrap().contains("retry"), "{r:?}");
    // The same id with its leading/trailing space or other case is the same id to the
    // throttle (access ids are canonicalized before counting).
    let padded = json!({"access-id": format!("  {} ", gw.admin_access_id()), "access-key": "x"});
    let r = post_raw(&gw, "127.0.0.1", &guesser, "/auth", &padded).unwrap();
    assert_eq!(r.status, 429, "a padded id is still throttled: {r:?}");

    // Another client behind the same proxy (v1 this time) logs in at once, as does the proxy
    // host itself without a header: the guesser's failures slow only the guesser.
    let other = v1("198.51.100.20:51000");
    let r = post_raw(
        &gw,
        "127.0.0.1",
        &other,
        "/auth",
        &login(&gw, gw.admin_access_key()),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    let (status, body) = gw.post("/auth", login(&gw, gw.admin_access_key()));
    assert_eq!(status, 200, "{body}");
    // A health check (v2 LOCAL) is the proxy itself.
    let r = post_raw(
        &gw,
        "127.0.0.1",
        &v2(None),
        "/auth",
        &login(&gw, gw.admin_access_key()),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{r:?}");

    // The audit trail names the real clients, never the proxy for them.
    assert!(
        !audited_from(&gw, "auth", "203.0.113.7").is_empty(),
        "the guesser's refusals are under its own address"
    );
    let ok_other = audited_from(&gw, "auth", "198.51.100.20");
    assert!(
        ok_other.iter().any(|e| e["outcome"] == "ok"),
        "{ok_other:?}"
    );
    assert!(audited_from(&gw, "auth", "127.0.0.1")
        .iter()
        .all(|e| e["outcome"] == "ok"));

    // A trusted proxy that sends garbage gets its connection closed, not a guess.
    let bad = b"PROXY TCP4 not-an-ip 127.0.0.1 1 2\r\n";
    assert!(post_raw(&gw, "127.0.0.1", bad, "/auth", &wrong).is_err());
    assert!(gw.wait_for_log("PROXY header is invalid", Duration::from_secs(10)));
}

#[test]
fn a_client_that_is_not_a_trusted_proxy_cannot_choose_its_address() {
    // Only 127.0.0.2 is a proxy; the test's own connections come from 127.0.0.1 and .3.
    let gw = builder()
        .env("MAYFLY_TRUSTED_PROXIES", "127.0.0.2/32")
        .spawn()
        .unwrap();
    let right = login(&gw, gw.admin_access_key());
    // From 127.0.0.3 a PROXY header is not read: the bytes are not TLS, the handshake fails.
    assert!(post_raw(&gw, "127.0.0.3", &v2(Some("192.0.2.1:1")), "/auth", &right).is_err());
    assert!(post_raw(&gw, "127.0.0.3", &v1("192.0.2.1:1"), "/auth", &right).is_err());
    assert!(audited_from(&gw, "auth", "192.0.2.1").is_empty());
    // Plain TLS from 127.0.0.3 is served under its own address; from the proxy, the header
    // is believed.
    let r = post_raw(&gw, "127.0.0.3", b"", "/auth", &right).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    let r = post_raw(&gw, "127.0.0.2", &v1("192.0.2.9:1234"), "/auth", &right).unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(audited_from(&gw, "auth", "127.0.0.3").len(), 1);
    assert_eq!(audited_from(&gw, "auth", "192.0.2.9").len(), 1);
    assert!(audited_from(&gw, "auth", "127.0.0.2").is_empty());
}
