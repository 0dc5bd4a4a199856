//! The plumbing the test servers share (JWKS, Kubernetes API, instance metadata, federation):
//! a loopback listener served on a thread of its own until its handle is
//! dropped, reading one HTTP/1.1 request, and writing one response that ends the connection.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

/// A listener on `127.0.0.1`; stops accepting when dropped.
pub(crate) struct Listening {
    pub(crate) port: u16,
    stop: Arc<AtomicBool>,
}

impl Listening {
    /// Listens on a free loopback port and hands each connection (blocking, with a read
    /// timeout) to `handle`: on a thread of its own when `concurrent`, else in turn.
    pub(crate) fn start(
        what: &str,
        concurrent: bool,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> Listening {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind {what}: {e}"));
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let handle = Arc::new(handle);
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let ready = stream.set_nonblocking(false).is_ok()
                            && stream
                                .set_read_timeout(Some(Duration::from_secs(10)))
                                .is_ok();
                        if !ready {
                            continue;
                        }
                        if concurrent {
                            let handle = handle.clone();
                            std::thread::spawn(move || handle(stream));
                        } else {
                            handle(stream);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Listening { port, stop }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request: its head (request line and headers, as text) and its body
/// (`content-length` bytes).
pub(crate) fn read_request(stream: &mut impl Read) -> std::io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 || data.len() > 64 * 1024 {
            return Err(std::io::Error::other("incomplete request"));
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length = header(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
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

/// The value of header `name` (any case) in a request or response head.
pub(crate) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Writes a whole response and says the connection ends with it.
pub(crate) fn respond(
    stream: &mut impl Write,
    status: u16,
    extra_headers: &str,
    body: &[u8],
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{extra_headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}
