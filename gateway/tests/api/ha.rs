//! Several gateways on one PostgreSQL behave as one: any gateway serves any request, each
//! expired credential is revoked exactly once, and a gateway killed mid-work has its work
//! taken over by the others.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

use mayfly_testkit::{moto::MotoServer, TestGateway};
use serde_json::{json, Value};

use crate::{
    aws::{create_moto_target, unique_path, users_under},
    helpers::builder,
};

/// One master key for the whole cluster: every gateway must open every target's secret.
const CLUSTER_MASTER_KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn cluster_member(database_url: Option<&str>, path: &str) -> Option<TestGateway> {
    let mut b = builder()
        .env("MAYFLY_MASTER_KEY", CLUSTER_MASTER_KEY)
        .env("MAYFLY_IAM_USER_PATH", path)
        .env("MAYFLY_REVOKE_INTERVAL", "1s")
        .env("MAYFLY_RECONCILE_INTERVAL", "2s")
        .env("MAYFLY_RECONCILE_MIN_AGE", "5s");
    b = match database_url {
        Some(url) => b.env("DATABASE_URL", url),
        None => b.postgres(true),
    };
    b.spawn()
}

fn post(
    gw: &TestGateway,
    token: &str,
    path: &str,
    mut body: Value,
) -> Result<(u16, Value), String> {
    body["token"] = json!(token);
    gw.client()
        .post(gw.url(path))
        .json(&body)
        .send()
        .map_err(|e| e.to_string())
        .and_then(|r| {
            let status = r.status().as_u16();
            r.json::<Value>()
                .map(|v| (status, v))
                .map_err(|e| e.to_string())
        })
}

/// Gateways cache resolved tokens for `MAYFLY_CACHE_TTL`: a revoked token stops working at
/// once on the gateway that revoked it and within that time on the others.
#[test]
fn a_revoked_token_stops_working_on_every_gateway_within_the_cache_ttl() {
    let member = |url: Option<&str>| {
        let b = builder()
            .env("MAYFLY_MASTER_KEY", CLUSTER_MASTER_KEY)
            .env("MAYFLY_CACHE_TTL", "1s");
        match url {
            Some(url) => b.env("DATABASE_URL", url),
            None => b.postgres(true),
        }
        .spawn()
    };
    let Some(a) = member(None) else {
        return; // PostgreSQL unreachable and not required: the testkit said so loudly.
    };
    let b = member(Some(&a.database_url())).expect("second gateway");
    let doomed = a.admin_token();
    // A second token of the same (cluster-wide) admin key, from the other gateway.
    let (status, login) = b.post(
        "/auth",
        json!({"access-id": a.admin_access_id(), "access-key": a.admin_access_key(),
               "access-type": "access_key"}),
    );
    assert_eq!(status, 200, "{login}");
    let other = login["token"].as_str().unwrap().to_owned();
    assert_ne!(doomed, other);
    let works =
        |gw: &TestGateway, token: &str| post(gw, token, "/list-items", json!({})).unwrap().0 == 200;
    // B resolves (and caches) the token before it is revoked.
    assert!(works(&b, &doomed));
    assert!(works(&a, &doomed));

    let (status, body) = post(&a, &doomed, "/revoke-token", json!({})).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        !works(&a, &doomed),
        "at once on the gateway that revoked it"
    );
    let revoked_at = Instant::now();
    while works(&b, &doomed) {
        assert!(
            revoked_at.elapsed() < Duration::from_millis(1500),
            "still accepted by the other gateway after the 1 s cache TTL"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(works(&b, &other), "other tokens are unaffected");
}

#[test]
fn three_gateways_share_the_work_and_survive_losing_one() {
    let path = unique_path();
    // Started before the gateways, so that they allow its endpoint.
    let moto = MotoServer::shared();
    let Some(first) = cluster_member(None, &path) else {
        return; // PostgreSQL unreachable and not required: the testkit said so loudly.
    };
    let database = first.database_url();
    let mut gateways = vec![first];
    for _ in 0..2 {
        gateways
            .push(cluster_member(Some(&database), &path).expect("gateway on the shared database"));
    }

    // Set up on one gateway; a token issued by it works on all of them.
    create_moto_target(&gateways[0], moto);
    let token = gateways[0].admin_token();
    let producer = json!({
        "name": "/ha/reader", "target-name": "/aws", "access-mode": "iam_user",
        "aws-user-policies": "arn:aws:iam::aws:policy/IAMReadOnlyAccess", "user-ttl": "1m",
    });
    let (status, body) = post(
        &gateways[1],
        &token,
        "/gateway-create-producer-aws",
        producer,
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    for gw in &gateways {
        let (status, got) = post(
            gw,
            &token,
            "/gateway-get-producer",
            json!({"name": "/ha/reader"}),
        )
        .unwrap();
        assert_eq!(status, 200, "every gateway sees the producer: {got}");
    }

    // Issue 300 credentials over all three; kill the third halfway.
    const TOTAL: usize = 300;
    let issued = Mutex::new(BTreeMap::<String, Instant>::new());
    let next = AtomicUsize::new(0);
    let third_dead = AtomicBool::new(false);
    let survivor_failures = Mutex::new(Vec::<String>::new());
    let started = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..6 {
            let (issued, next, third_dead, survivor_failures, gateways, token) = (
                &issued,
                &next,
                &third_dead,
                &survivor_failures,
                &gateways,
                &token,
            );
            s.spawn(move || loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= TOTAL {
                    break;
                }
                let target = (n + worker) % 3;
                let target = if target == 2 && third_dead.load(Ordering::SeqCst) {
                    n % 2
                } else {
                    target
                };
                match post(
                    &gateways[target],
                    token,
                    "/get-dynamic-secret-value",
                    json!({"name": "/ha/reader"}),
                ) {
                    Ok((200, v)) => {
                        issued
                            .lock()
                            .unwrap()
                            .insert(v["id"].as_str().unwrap().to_owned(), Instant::now());
                    }
                    Ok((status, v)) if target != 2 => survivor_failures
                        .lock()
                        .unwrap()
                        .push(format!("{status} {v}")),
                    Err(e) if target != 2 => survivor_failures.lock().unwrap().push(e),
                    _ => {} // In flight on the gateway that was killed.
                }
            });
        }
        // Kill the third gateway once about half the credentials exist.
        while issued.lock().unwrap().len() < TOTAL / 2 {
            std::thread::sleep(Duration::from_millis(20));
        }
        third_dead.store(true, Ordering::SeqCst);
        // The workers hold shared references to the handles, so kill by pid here; the
        // handle's own `kill` (which needs `&mut`) reaps the process after the scope.
        if let Some(pid) = gateways[2].pid() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    });
    let issue_time = started.elapsed();
    let failures = survivor_failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "requests to surviving gateways failed: {failures:?}"
    );
    let issued = issued.into_inner().unwrap();
    assert!(
        issued.len() >= TOTAL * 9 / 10,
        "only {} of {TOTAL} issued",
        issued.len()
    );
    gateways[2].kill();

    // All expire after a minute; the survivors revoke everything, the dead one's share too.
    let deadline = Instant::now() + Duration::from_secs(60) + issue_time + Duration::from_secs(90);
    loop {
        let (_, live) = post(
            &gateways[0],
            &token,
            "/gateway-get-producer-tmp-creds",
            json!({"name": "/ha/reader"}),
        )
        .unwrap();
        let remaining = live.as_array().map_or(usize::MAX, Vec::len);
        if remaining == 0 && users_under(moto, &path).is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{remaining} leases still live; users: {:?}",
            users_under(moto, &path)
        );
        std::thread::sleep(Duration::from_secs(1));
    }

    // Exactly once: one revocation event per issued credential, none twice.
    let mut revocations: BTreeMap<String, usize> = BTreeMap::new();
    let mut page = String::new();
    loop {
        let (status, events) = post(
            &gateways[1],
            &token,
            "/get-audit-events",
            json!({"operation": "lease-revoked", "limit": 1000, "pagination-token": page}),
        )
        .unwrap();
        assert_eq!(status, 200, "{events}");
        for e in events["events"].as_array().unwrap() {
            let detail = e["detail"].as_str().unwrap();
            let id = detail.split_whitespace().nth(2).unwrap().to_owned();
            *revocations.entry(id).or_default() += 1;
        }
        page = events["next_page"].as_str().unwrap_or_default().to_owned();
        if page.is_empty() {
            break;
        }
    }
    let twice: Vec<_> = revocations.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "revoked more than once: {twice:?}");
    let issued_ids: BTreeSet<&String> = issued.keys().collect();
    let revoked_ids: BTreeSet<&String> = revocations.keys().collect();
    assert!(
        issued_ids.is_subset(&revoked_ids),
        "issued but never revoked: {:?}",
        issued_ids.difference(&revoked_ids).collect::<Vec<_>>()
    );
    let revokers: BTreeSet<String> = {
        let (_, events) = post(
            &gateways[0],
            &token,
            "/get-audit-events",
            json!({"operation": "lease-revoked", "limit": 1000}),
        )
        .unwrap();
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["access_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        revokers.len() >= 2,
        "the survivors shared the revoking: {revokers:?}"
    );
}

/// A private PostgreSQL server that this test may stop and start (the shared one serves the
/// other tests). It runs as the `postgres` system user, as PostgreSQL refuses to run as root.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    port: u16,
    bin: std::path::PathBuf,
}

impl PrivatePostgres {
    /// `None` (said loudly) when this machine cannot run one, unless PostgreSQL is required.
    fn start() -> Option<PrivatePostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .find(|p| p.join("initdb").exists())
        });
        let usable = bin.is_some() && std::path::Path::new("/usr/sbin/runuser").exists();
        if !usable {
            let msg =
                "POSTGRES RESTART TEST SKIPPED: no PostgreSQL server binaries or runuser here";
            assert!(
                std::env::var("MAYFLY_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "{msg}"
            );
            eprintln!("{msg}");
            return None;
        }
        let bin = bin.unwrap();
        let dir = tempfile::Builder::new()
            .prefix("mayfly-pg-")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        let chown = std::process::Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(chown.success());
        let port = mayfly_testkit::port::free_loopback_port().unwrap();
        let pg = PrivatePostgres { dir, port, bin };
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ],
        );
        pg.pg_ctl("start");
        Some(pg)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = std::process::Command::new("/usr/sbin/runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("postgres.log");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &opts,
                "-w",
                "-m",
                "fast",
                action,
            ],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = std::process::Command::new("/usr/sbin/runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

#[test]
fn gateways_recover_by_themselves_when_postgresql_restarts_under_load() {
    let Some(pg) = PrivatePostgres::start() else {
        return;
    };
    let path = unique_path();
    let gateways: Vec<TestGateway> = (0..2)
        .map(|_| cluster_member(Some(&pg.url()), &path).expect("gateway"))
        .collect();
    let token = gateways[0].admin_token();
    let (status, _) = post(
        &gateways[0],
        &token,
        "/create-aws-target",
        json!({"name": "/t", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "s"}),
    )
    .unwrap();
    assert_eq!(status, 200);

    let stop = AtomicBool::new(false);
    let statuses = Mutex::new(Vec::<(Duration, u16)>::new());
    std::thread::scope(|s| {
        for i in 0..4 {
            let (stop, statuses, gateways, token) = (&stop, &statuses, &gateways, &token);
            s.spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let asked = Instant::now();
                    let status = post(
                        &gateways[i % 2],
                        token,
                        "/get-target",
                        json!({"name": "/t"}),
                    )
                    .map_or(0, |(s, _)| s);
                    statuses.lock().unwrap().push((asked.elapsed(), status));
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        std::thread::sleep(Duration::from_secs(1));
        pg.pg_ctl("stop");
        std::thread::sleep(Duration::from_secs(2));
        pg.pg_ctl("start");
        let restarted = Instant::now();
        // Within seconds every gateway answers again, without being restarted.
        let deadline = restarted + Duration::from_secs(20);
        loop {
            let ok = gateways.iter().all(|gw| {
                post(gw, &token, "/get-target", json!({"name": "/t"})).is_ok_and(|(s, _)| s == 200)
            });
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "gateways did not recover after PostgreSQL came back"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::SeqCst);
    });
    let statuses = statuses.into_inner().unwrap();
    let codes: BTreeSet<u16> = statuses.iter().map(|(_, s)| *s).collect();
    // During the outage a request either waits for a connection and succeeds, or gets a clear
    // 503; never a 500, a dropped connection, or a hang.
    assert!(codes.iter().all(|c| [200, 503].contains(c)), "{codes:?}");
    let slowest = statuses.iter().map(|(d, _)| *d).max().unwrap();
    assert!(
        slowest < Duration::from_secs(15),
        "a request hung for {slowest:?}"
    );
    assert!(
        slowest > Duration::from_millis(500) || codes.contains(&503),
        "the outage was felt: slowest {slowest:?}, {codes:?}"
    );
    let last: Vec<u16> = statuses.iter().rev().take(8).map(|(_, s)| *s).collect();
    assert!(
        last.iter().all(|s| *s == 200),
        "requests succeed again: {last:?}"
    );
    for gw in &gateways {
        let res = gw.client().get(gw.url("/health/ready")).send().unwrap();
        assert_eq!(res.status(), 200);
    }
}
