//! An EC2 instance metadata service for tests: IMDSv2 tokens and an instance profile's
//! credentials, which the test can rotate, as EC2 does hours before they expire. The
//! gateway finds it through `AWS_EC2_METADATA_SERVICE_ENDPOINT`.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// The instance profile's role name the service reports.
pub const PROFILE: &str = "mayfly-test-instance";

/// Credentials the service hands out.
#[derive(Debug, Clone)]
pub struct ImdsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub token: String,
    /// How long after each fetch they expire.
    pub lifetime: Duration,
}

/// The fake service; stops when dropped.
pub struct FakeImds {
    port: u16,
    credentials: Arc<Mutex<ImdsCredentials>>,
    fetches: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FakeImds {
    pub fn start(credentials: ImdsCredentials) -> FakeImds {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind IMDS");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let server = FakeImds {
            port,
            credentials: Arc::new(Mutex::new(credentials)),
            fetches: Arc::new(AtomicUsize::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (creds, fetches, stop) = (
            server.credentials.clone(),
            server.fetches.clone(),
            server.stop.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = serve(stream, &creds, &fetches);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        server
    }

    /// `http://127.0.0.1:PORT`, for `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Hands out other credentials from now on (EC2 rotating the instance profile's keys).
    pub fn rotate(&self, credentials: ImdsCredentials) {
        if let Ok(mut c) = self.credentials.lock() {
            *c = credentials;
        }
    }

    /// How many times credentials were fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for FakeImds {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn serve(
    mut stream: TcpStream,
    creds: &Mutex<ImdsCredentials>,
    fetches: &AtomicUsize,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&request);
    let line = text.lines().next().unwrap_or_default().to_owned();
    let (status, extra, body) = if line.starts_with("PUT /latest/api/token") {
        (
            200,
            "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n",
            "imds-test-token".to_owned(),
        )
    } else if line.starts_with(&format!(
        "GET /latest/meta-data/iam/security-credentials/{PROFILE} "
    )) {
        fetches.fetch_add(1, Ordering::SeqCst);
        let c = creds.lock().map(|c| c.clone()).expect("credentials");
        let body = serde_json::json!({
            "Code": "Success",
            "LastUpdated": rfc3339(SystemTime::now()),
            "Type": "AWS-HMAC",
            "AccessKeyId": c.access_key_id,
            "SecretAccessKey": c.secret_access_key,
            "Token": c.token,
            "Expiration": rfc3339(SystemTime::now() + c.lifetime),
        });
        (200, "", body.to_string())
    } else if line.starts_with("GET /latest/meta-data/iam/security-credentials/ ") {
        (200, "", PROFILE.to_owned())
    } else {
        (404, "", "not found".to_owned())
    };
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(
            super::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_385_200)),
            "2025-11-29T03:00:00Z"
        );
    }
}
