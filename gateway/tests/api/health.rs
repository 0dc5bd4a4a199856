use crate::helpers::spawn_sqlite;

#[test]
fn health_and_readiness_answer_over_https_with_a_request_id() {
    let gw = spawn_sqlite();
    for path in ["/health", "/health/ready", "/api/v2/health"] {
        let res = gw.client().get(gw.url(path)).send().unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let id = res.headers().get("x-request-id").expect("x-request-id");
        assert_eq!(id.len(), 32);
    }
}

#[test]
fn the_listener_speaks_only_tls() {
    let gw = spawn_sqlite();
    let plain = reqwest::blocking::Client::new()
        .get(format!("http://127.0.0.1:{}/health", gw.port()))
        .send();
    match plain {
        Err(_) => {}
        Ok(res) => assert_ne!(res.status(), 200, "plain HTTP must not be served"),
    }
    // And a client that does not trust the generated CA refuses the certificate.
    let untrusting = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .build()
        .unwrap();
    assert!(untrusting.get(gw.url("/health")).send().is_err());
}

#[test]
fn unknown_endpoints_and_wrong_methods_get_json_errors() {
    let gw = spawn_sqlite();
    let (status, body) = gw.post_authed("/no-such-operation", serde_json::json!({}));
    assert_eq!(status, 404);
    assert!(crate::helpers::error_of(&body).contains("unknown endpoint"));
    let res = gw.client().get(gw.url("/list-targets")).send().unwrap();
    assert_eq!(res.status(), 405);
    let body: serde_json::Value = res.json().unwrap();
    assert!(body["error"].as_str().unwrap().contains("POST"));
}

/// Log lines go to stdout through a writer thread; a graceful stop writes out everything
/// queued, down to the last line the gateway logs.
#[test]
fn a_graceful_stop_writes_out_every_log_line() {
    // Debug logging: many lines queued for the writer when the stop comes.
    let mut gw = crate::helpers::builder()
        .env("RUST_LOG", "debug")
        .spawn()
        .expect("gateway");
    for _ in 0..20 {
        let res = gw.client().get(gw.url("/health")).send().unwrap();
        assert_eq!(res.status(), 200);
    }
    let status = gw
        .terminate(std::time::Duration::from_secs(30))
        .expect("the gateway stops within the grace period");
    assert!(status.success(), "{status:?}");
    let logs = gw.logs();
    assert!(
        logs.lines().any(|l| l.trim_end().ends_with(" stopped")),
        "the last line the gateway logs before exiting is written out; the log ends with:\n{}",
        logs.lines().rev().take(10).collect::<Vec<_>>().join("\n")
    );
}
