//! An EC2 instance metadata service for tests: IMDSv2 tokens and an instance profile's
//! credentials, which the test can rotate, as EC2 does hours before they expire. The
//! gateway finds it through `AWS_EC2_METADATA_SERVICE_ENDPOINT`.

use std::{
    net::TcpStream,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::loopback::{read_request, respond, Listening};

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
    listening: Listening,
    credentials: Arc<Mutex<ImdsCredentials>>,
    fetches: Arc<AtomicUsize>,
}

impl FakeImds {
    pub fn start(credentials: ImdsCredentials) -> FakeImds {
        let credentials = Arc::new(Mutex::new(credentials));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (creds, count) = (credentials.clone(), fetches.clone());
        let listening = Listening::start("IMDS", false, move |stream| {
            let _ = serve(stream, &creds, &count);
        });
        FakeImds {
            listening,
            credentials,
            fetches,
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.listening.port)
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
    let (text, _) = read_request(&mut stream)?;
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
    respond(&mut stream, status, extra, body.as_bytes())
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
