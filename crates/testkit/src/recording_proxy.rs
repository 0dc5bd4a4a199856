//! A recording HTTP proxy in front of moto: what moto does not check (an `ExternalId`, a role
//! session name, how many `AssumeRole` calls a burst of requests makes), the test reads from
//! the requests the proxy saw.
//!
//! Plain HTTP on a loopback port; each request is forwarded as is (one connection per
//! request, `Connection: close`) and its form body recorded.

use std::{
    io::{Read, Write},
    net::TcpStream,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::loopback::{header, read_request, Listening};

/// One request the proxy forwarded.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The form body (`Action=AssumeRole&RoleArn=...`), percent-decoded into pairs.
    pub form: Vec<(String, String)>,
    /// The access key id the request was signed with (SigV4 `Credential=`).
    pub access_key_id: Option<String>,
}

impl Seen {
    /// The first value of form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The AWS action (`AssumeRole`, `CreateUser`).
    pub fn action(&self) -> &str {
        self.field("Action").unwrap_or_default()
    }
}

/// Keys that fail their first uses (IAM's eventual consistency, made certain).
#[derive(Debug, Default)]
struct NewKeyFaults {
    /// How many first uses of each key fail.
    first_uses: usize,
    /// Keys that never fail (the target's own).
    except: Vec<String>,
    uses: std::collections::HashMap<String, usize>,
}

/// The proxy; stops when dropped.
pub struct RecordingProxy {
    listening: Listening,
    seen: Arc<Mutex<Vec<Seen>>>,
    faults: Arc<Mutex<NewKeyFaults>>,
}

impl RecordingProxy {
    /// Forwards to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> RecordingProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let faults = Arc::new(Mutex::new(NewKeyFaults::default()));
        let (recorded, injected) = (seen.clone(), faults.clone());
        let listening = Listening::start("recording proxy", true, move |stream| {
            let _ = forward(stream, &upstream, &recorded, &injected);
        });
        RecordingProxy {
            listening,
            seen,
            faults,
        }
    }

    /// From now on, the first `first_uses` requests signed with any key but `except` are
    /// refused as AWS refuses a key it does not know yet (`InvalidClientTokenId`, 403).
    pub fn fail_new_keys(&self, first_uses: usize, except: &[&str]) {
        if let Ok(mut f) = self.faults.lock() {
            f.first_uses = first_uses;
            f.except = except.iter().map(|k| (*k).to_owned()).collect();
            f.uses.clear();
        }
    }

    /// How many requests were signed with `access_key_id`.
    pub fn uses_of(&self, access_key_id: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.access_key_id.as_deref() == Some(access_key_id))
            .count()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.listening.port)
    }

    /// The requests forwarded so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The requests of one AWS action.
    pub fn calls(&self, action: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.action() == action)
            .collect()
    }
}

fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// AWS's answer to a key it does not know (yet).
const UNKNOWN_KEY: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>";

fn forward(
    mut client: TcpStream,
    upstream: &str,
    seen: &Mutex<Vec<Seen>>,
    faults: &Mutex<NewKeyFaults>,
) -> std::io::Result<()> {
    let (head, body) = read_request(&mut client)?;
    let form = String::from_utf8_lossy(&body)
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((decode(k), decode(v)))
        })
        .collect();
    let access_key_id = header(&head, "authorization")
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .map(str::to_owned);
    let refuse = match (&access_key_id, faults.lock()) {
        (Some(key), Ok(mut f)) if f.first_uses > 0 && !f.except.contains(key) => {
            let uses = f.uses.entry(key.clone()).or_default();
            *uses += 1;
            *uses <= f.first_uses
        }
        _ => false,
    };
    if let Ok(mut s) = seen.lock() {
        s.push(Seen {
            form,
            access_key_id,
        });
    }
    if refuse {
        write!(
            client,
            "HTTP/1.1 403 Forbidden\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{UNKNOWN_KEY}",
            UNKNOWN_KEY.len()
        )?;
        return client.flush();
    }
    // Same request, one connection: drop the client's keep-alive.
    let mut rewritten = String::new();
    for line in head.trim_end().lines() {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(30)))?;
    up.write_all(rewritten.as_bytes())?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    // The client may expect keep-alive: tell it this connection ends.
    let text_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |i| i + 4);
    let answer_head = String::from_utf8_lossy(&answer[..text_end]).into_owned();
    let mut out_head = String::new();
    for line in answer_head.trim_end().lines() {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out_head.push_str(line);
        out_head.push_str("\r\n");
    }
    out_head.push_str("connection: close\r\n\r\n");
    client.write_all(out_head.as_bytes())?;
    client.write_all(&answer[text_end..])?;
    client.flush()
}
