//! The proxy end to end, against a stand-in for moto that answers one call at a time (as moto
//! does) and echoes what it received. No assertion here rests on a tight timing: overlap is
//! shown by the in-flight counter, and the one wall-clock check has a wide margin.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use mayfly_aws_netsim::{
    Canned, Latency, NetSim, NetSimConfig, RateLimit, IAM_WRITE_ACTIONS, THROTTLING_STATUS,
};

/// A serial upstream: one thread, one call at a time; answers 200 with the call's `Host`
/// header and body, and counts the calls it answered.
struct Upstream {
    url: String,
    answered: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Upstream {
    fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answered = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (answered.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if answer(stream).is_ok() {
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Upstream {
            url,
            answered,
            stop,
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other("closed"));
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_lowercase();
    let value = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.strip_prefix(&format!("{name}:"))
                    .map(|v| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let length: usize = value("content-length").parse().unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body = format!(
        "<Echo><Host>{}</Host><Body>{}</Body></Echo>",
        value("host"),
        String::from_utf8_lossy(&data[head_end..])
    );
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Posts a Query API call of `action`; the status and body.
fn call(aws: &NetSim, action: &str) -> (u16, String) {
    let r = client()
        .post(format!("{}/", aws.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("Action={action}&Version=2010-05-08&UserName=u"))
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

#[test]
fn calls_are_forwarded_as_they_came() {
    let moto = Upstream::start();
    let aws = NetSim::start(&moto.url, NetSimConfig::new().record_calls()).unwrap();
    let (status, body) = call(&aws, "GetUser");
    assert_eq!(status, 200, "{body}");
    // The Host the client signed is the one the upstream sees, and the body is intact.
    let host = aws.url().trim_start_matches("http://").to_owned();
    assert!(body.contains(&format!("<Host>{host}</Host>")), "{body}");
    assert!(
        body.contains("<Body>Action=GetUser&amp;Version=2010-05-08&amp;UserName=u</Body>")
            || body.contains("<Body>Action=GetUser&Version=2010-05-08&UserName=u</Body>"),
        "{body}"
    );
    let calls = aws.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action(), "GetUser");
    assert_eq!(calls[0].field("UserName"), Some("u"));
    let c = aws.counters();
    assert_eq!(c.action("GetUser").calls, 1);
    assert_eq!(c.total.throttled, 0);
    assert_eq!(c.total.in_flight, 0);
}

#[test]
fn throttled_calls_get_aws_throttling_error_and_are_counted() {
    let moto = Upstream::start();
    let aws = NetSim::start(
        &moto.url,
        NetSimConfig::new().throttle(IAM_WRITE_ACTIONS, RateLimit::new(0.0, 2)),
    )
    .unwrap();
    // The burst of 2 passes; the bucket never refills, so every later write is throttled.
    assert_eq!(call(&aws, "CreateUser").0, 200);
    assert_eq!(call(&aws, "CreateAccessKey").0, 200);
    let (status, body) = call(&aws, "CreateUser");
    assert_eq!(status, THROTTLING_STATUS);
    assert_eq!(status, 400);
    assert!(
        body.starts_with("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>"),
        "{body}"
    );
    assert!(body.ends_with("</RequestId></ErrorResponse>"), "{body}");
    assert_eq!(call(&aws, "DeleteUser").0, 400, "writes share one bucket");
    assert_eq!(call(&aws, "GetUser").0, 200, "reads are not throttled");

    let c = aws.counters();
    assert_eq!(c.action("CreateUser").calls, 2);
    assert_eq!(c.action("CreateUser").throttled, 1);
    assert_eq!(c.action("DeleteUser").throttled, 1);
    assert_eq!(c.action("GetUser").throttled, 0);
    assert_eq!(c.total.calls, 5);
    assert_eq!(c.total.throttled, 2);
    assert_eq!(c.throttled_of(IAM_WRITE_ACTIONS), 2);
    assert_eq!(
        moto.answered.load(Ordering::SeqCst),
        3,
        "throttled calls never reach moto"
    );

    // Throttles change while running.
    aws.clear_throttles();
    assert_eq!(call(&aws, "CreateUser").0, 200);
    aws.throttle(&["GetUser"], RateLimit::refuse_all());
    assert_eq!(call(&aws, "GetUser").0, 400);
    aws.reset_counters();
    assert_eq!(aws.counters().total.calls, 0);
}

#[test]
fn parallel_calls_overlap_although_moto_answers_one_at_a_time() {
    let moto = Upstream::start();
    let rtt = Duration::from_millis(200);
    let aws = NetSim::start(&moto.url, NetSimConfig::new().latency(rtt, Duration::ZERO)).unwrap();
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| assert_eq!(call(&aws, "AssumeRole").0, 200));
        }
    });
    let elapsed = started.elapsed();
    let c = aws.counters();
    assert_eq!(c.action("AssumeRole").calls, 8);
    assert!(
        c.action("AssumeRole").max_in_flight > 1,
        "calls overlapped: {c:?}"
    );
    assert_eq!(c.total.in_flight, 0);
    // One after another they would take 8 × 200 ms; overlapping, about one round trip. The
    // bound leaves a loaded machine a wide margin and still fails a serial proxy.
    assert!(elapsed < rtt * 7, "{elapsed:?}");
    // Each call took at least its round trip.
    assert!(elapsed >= rtt, "{elapsed:?}");
}

#[test]
fn latency_and_interception_change_while_running() {
    let moto = Upstream::start();
    let aws = NetSim::start(&moto.url, NetSimConfig::new()).unwrap();
    aws.set_latency(Latency::new(Duration::from_millis(100), Duration::ZERO));
    let started = Instant::now();
    assert_eq!(call(&aws, "GetUser").0, 200);
    assert!(started.elapsed() >= Duration::from_millis(100));
    aws.intercept(Some(std::sync::Arc::new(|c: &mayfly_aws_netsim::Call| {
        (c.action() == "GetUser").then(|| Canned {
            status: 403,
            body: "<ErrorResponse/>".into(),
        })
    })));
    assert_eq!(call(&aws, "GetUser"), (403, "<ErrorResponse/>".to_owned()));
    assert_eq!(call(&aws, "ListUsers").0, 200);
    aws.intercept(None);
    assert_eq!(call(&aws, "GetUser").0, 200);
    assert_eq!(moto.answered.load(Ordering::SeqCst), 3);
}

#[test]
fn the_sdk_takes_the_answer_for_throttling_and_retries_it() {
    let moto = Upstream::start();
    let aws = NetSim::start(
        &moto.url,
        NetSimConfig::new().throttle(&["CreateUser"], RateLimit::refuse_all()),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The AWS SDK with its standard retry mode (3 attempts): it classifies the answer
        // as throttling (`Throttling` is in its list) and retries it.
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIAEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(
                aws_sdk_iam::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(10)),
            )
            .endpoint_url(aws.url())
            .build();
        let err = aws_sdk_iam::Client::from_conf(config)
            .create_user()
            .user_name("u")
            .send()
            .await
            .expect_err("throttled");
        use aws_sdk_iam::error::ProvideErrorMetadata;
        assert_eq!(err.code(), Some("Throttling"), "{err:?}");
        assert_eq!(err.message(), Some("Rate exceeded"));
        assert_eq!(
            aws.counters().action("CreateUser").throttled,
            3,
            "the SDK retried the throttled call"
        );

        // The gateway's own client (SDK retries off, its own policy decides) sees
        // AwsError::Throttled, which its policy retries.
        let mut conn = mayfly_aws::AwsConnection::new(
            "AKIAEXAMPLE",
            secrecy::SecretString::from("secret".to_owned()),
            "us-east-1",
        );
        conn.iam_endpoint = Some(aws.url());
        let iam = mayfly_aws::AwsFactory::from_env().clients(&conn).iam;
        let err = iam
            .create_user(&mayfly_aws::CreateUser {
                name: "u".into(),
                path: "/".into(),
                tags: Vec::new(),
                permissions_boundary: None,
            })
            .await
            .expect_err("throttled");
        assert!(matches!(err, mayfly_aws::AwsError::Throttled(_)), "{err:?}");
        assert!(err.is_retryable());
    });
    assert_eq!(moto.answered.load(Ordering::SeqCst), 0);
}
