//! AWS's federation endpoint for tests (`getSigninToken`): it answers a sign-in token for
//! any session and records which session asked, so a test can check that a console link was
//! made from the credential it was handed.

use std::sync::{Arc, Mutex};

use crate::loopback::{read_request, respond, Listening};

/// The fake endpoint; stops when dropped.
pub struct FakeFederation {
    listening: Listening,
    sessions: Arc<Mutex<Vec<String>>>,
}

impl FakeFederation {
    pub fn start() -> FakeFederation {
        let sessions = Arc::new(Mutex::new(Vec::new()));
        let seen = sessions.clone();
        let listening = Listening::start("federation endpoint", false, move |mut stream| {
            let Ok((head, _)) = read_request(&mut stream) else {
                return;
            };
            let target = head
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let query = url::Url::parse(&format!("http://x{target}")).ok();
            let pair = |name: &str| {
                query.as_ref().and_then(|q| {
                    q.query_pairs()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.into_owned())
                })
            };
            let session = pair("Session")
                .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
                .and_then(|v| v["sessionId"].as_str().map(str::to_owned));
            let (status, body) = match (pair("Action").as_deref(), session) {
                (Some("getSigninToken"), Some(id)) => {
                    if let Ok(mut s) = seen.lock() {
                        s.push(id.clone());
                    }
                    (
                        200,
                        serde_json::json!({"SigninToken": format!("token-for-{id}")}),
                    )
                }
                _ => (400, serde_json::json!({"error": "bad request"})),
            };
            let _ = respond(&mut stream, status, "", body.to_string().as_bytes());
        });
        FakeFederation {
            listening,
            sessions,
        }
    }

    /// `http://127.0.0.1:PORT/federation`, for `MAYFLY_FEDERATION_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/federation", self.listening.port)
    }

    /// The access key ids of the sessions that asked for a token.
    pub fn sessions(&self) -> Vec<String> {
        self.sessions.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
