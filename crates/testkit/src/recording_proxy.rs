//! A recording HTTP proxy in front of moto: what moto does not check (an `ExternalId`, a role
//! session name, how many `AssumeRole` calls a burst of requests makes), the test reads from
//! the requests the proxy saw.
//!
//! Plain HTTP on a loopback port; each request is forwarded as is (one connection per
//! request, `Connection: close`) and its form body recorded.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

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

/// The proxy; stops when dropped.
pub struct RecordingProxy {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl RecordingProxy {
    /// Forwards to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> RecordingProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (s, up) = (s.clone(), upstream.clone());
                        std::thread::spawn(move || {
                            let _ = forward(stream, &up, &s);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RecordingProxy { port, seen, stop }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
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

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
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
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Ok((head, data[head_end..].to_vec()))
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

fn forward(mut client: TcpStream, upstream: &str, seen: &Mutex<Vec<Seen>>) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    let (head, body) = read_request(&mut client)?;
    let form = String::from_utf8_lossy(&body)
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((decode(k), decode(v)))
        })
        .collect();
    let access_key_id = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if !k.eq_ignore_ascii_case("authorization") {
            return None;
        }
        let cred = v.split("Credential=").nth(1)?;
        cred.split('/').next().map(str::to_owned)
    });
    if let Ok(mut s) = seen.lock() {
        s.push(Seen {
            form,
            access_key_id,
        });
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
