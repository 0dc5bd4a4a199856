//! Bulk revocations at sizes real users reach: revoke-all, deleting a producer and
//! force-deleting a target answer at once with a count, and the revoker ends every
//! credential right after (each teardown is 10+ IAM calls, so doing them inside the request,
//! as before, overran its deadline after a few dozen users and stopped at the first error).

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use mayfly_testkit::{moto::MotoServer, TestGateway};
use serde_json::{json, Value};

use crate::{
    aws::{create_moto_target, unique_path, users_under, wait_until_no_users},
    helpers::builder,
};

fn producer(name: &str, target: &str) -> Value {
    json!({
        "name": name, "target-name": target, "access-mode": "iam_user",
        "aws-user-policies": "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        "user-ttl": "60m", "aws-user-programmatic-access": true,
    })
}

/// Issues `n` credentials of `name`, 16 at a time.
fn issue_many(gw: &TestGateway, name: &str, n: usize) {
    let next = AtomicUsize::new(0);
    let token = gw.admin_token();
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let (status, v) = gw.post(
                        "/get-dynamic-secret-value",
                        json!({"name": name, "token": token}),
                    );
                    assert_eq!(status, 200, "{v}");
                }
            });
        }
    });
}

fn live_tmp_creds(gw: &TestGateway, name: &str) -> usize {
    let (status, v) = gw.post_authed("/gateway-get-producer-tmp-creds", json!({ "name": name }));
    assert_eq!(status, 200, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] != "revoked")
        .count()
}

#[test]
fn five_hundred_credentials_revoked_in_one_call_and_a_producer_deleted_with_two_hundred() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        // The request deadline that the old one-by-one revocation overran.
        .env("MAYFLY_REQUEST_TIMEOUT", "30s")
        .spawn()
        .unwrap();
    create_moto_target(&gw, moto);
    for name in ["/bulk/a", "/bulk/b"] {
        let (status, body) = gw.post_authed("/gateway-create-producer-aws", producer(name, "/aws"));
        assert_eq!(status, 200, "{body}");
    }
    issue_many(&gw, "/bulk/a", 500);
    issue_many(&gw, "/bulk/b", 200);
    assert_eq!(users_under(moto, &path).len(), 700);

    let started = Instant::now();
    let (status, body) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/bulk/a", "revoke-all": true}),
    );
    assert_eq!((status, &body["revoking"]), (200, &json!(500)), "{body}");
    let answered = started.elapsed();
    let (status, body) = gw.post_authed("/gateway-delete-producer", json!({"name": "/bulk/b"}));
    assert_eq!((status, &body["revoking"]), (200, &json!(200)), "{body}");
    eprintln!("revoke-all of 500 answered in {answered:?}");

    // The revoker ends all 700; revoke-all's progress is visible in tmp creds meanwhile.
    let deadline = Instant::now() + Duration::from_secs(300);
    while live_tmp_creds(&gw, "/bulk/a") > 0 {
        assert!(Instant::now() < deadline, "revocation did not finish");
        std::thread::sleep(Duration::from_millis(500));
    }
    wait_until_no_users(moto, &path, Duration::from_secs(120));
    let (status, body) = gw.post_authed(
        "/get-audit-events",
        json!({"operation": "lease-revoked", "limit": 1000}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["events"].as_array().unwrap().len(),
        700,
        "each teardown audited once"
    );
}

/// Force-deleting a target ends the credentials issued through it (also those of producers
/// that moved to another target) and keeps the key until the last one is gone; the name is
/// free at once.
#[test]
fn a_force_deleted_target_ends_its_credentials_before_its_key_goes() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .unwrap();
    create_moto_target(&gw, moto);
    let (status, body) = gw.post_authed("/gateway-create-producer-aws", producer("/t/p", "/aws"));
    assert_eq!(status, 200, "{body}");
    issue_many(&gw, "/t/p", 20);

    let (status, body) = gw.post_authed("/delete-target", json!({"name": "/aws"}));
    assert_eq!(status, 409, "used by /t/p: {body}");
    let (status, body) = gw.post_authed(
        "/delete-target",
        json!({"name": "/aws", "force-deletion": true}),
    );
    assert_eq!(status, 200, "{body}");
    // The name is free at once, while the old key still serves the teardowns.
    create_moto_target(&gw, moto);
    wait_until_no_users(moto, &path, Duration::from_secs(60));
    let (_, listed) = gw.post_authed("/list-targets", json!({}));
    let names: Vec<&str> = listed["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["/aws"], "the retired target is not listed");
}

/// A gateway stopped (SIGTERM) in the middle of a drain finishes or hands back every teardown
/// it started: nothing is left `revoking` for the reconciler to find minutes later, and the
/// next start ends the rest at once.
#[test]
fn a_graceful_stop_mid_drain_leaves_no_lease_revoking() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let mut gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .env("MAYFLY_SHUTDOWN_GRACE", "1s")
        .spawn()
        .unwrap();
    create_moto_target(&gw, moto);
    let (status, body) = gw.post_authed("/gateway-create-producer-aws", producer("/drain", "/aws"));
    assert_eq!(status, 200, "{body}");
    issue_many(&gw, "/drain", 120);
    let (status, body) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/drain", "revoke-all": true}),
    );
    assert_eq!((status, &body["revoking"]), (200, &json!(120)), "{body}");
    // Mid-drain: some ended, many still due or being torn down.
    let deadline = Instant::now() + Duration::from_secs(60);
    while users_under(moto, &path).len() > 100 {
        assert!(Instant::now() < deadline, "the revoker did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = gw
        .terminate(Duration::from_secs(20))
        .expect("the gateway stops within its grace period");
    assert!(status.success(), "exit status {status:?}\n{}", gw.logs());
    assert!(
        !users_under(moto, &path).is_empty(),
        "the stop came too late to test anything"
    );
    // The stopped gateway's database: nothing is left `revoking` (claimed by it).
    let revoking = crate::aws::block_on(async {
        let db = mayfly_store::connect(&gw.database_url(), 1)
            .await
            .expect("open the stopped gateway's database");
        mayfly_store::leases::count_in_state(&db, mayfly_store::leases::LeaseState::Revoking)
            .await
            .expect("count leases")
    });
    assert_eq!(revoking, 0, "leases left revoking after a graceful stop");
    // The next start finishes them at once (not after the reconciler's minimum age).
    gw.set_env("MAYFLY_RECONCILE_MIN_AGE", "1h");
    gw.restart();
    let deadline = Instant::now() + Duration::from_secs(120);
    while live_tmp_creds(&gw, "/drain") > 0 {
        assert!(
            Instant::now() < deadline,
            "revocation did not finish after restart"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    wait_until_no_users(moto, &path, Duration::from_secs(60));
}
