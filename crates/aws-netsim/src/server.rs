//! The proxy itself: an HTTP/1.1 server (keep-alive, one task per connection) that delays,
//! throttles or forwards each call to the upstream (moto).
//!
//! Every call runs in its own task and waits on timers only, never under a lock, so calls
//! made in parallel overlap here as they would against AWS, whatever moto does with them (it
//! answers one at a time, in a few milliseconds). The locks below guard counters, buckets and
//! settings for a few instructions each.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{
    body::Incoming,
    header::{self, HeaderValue},
    server::conn::http1,
    service::service_fn,
    Request, Response, StatusCode, Uri,
};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::{TokioExecutor, TokioIo},
};
use tokio::{net::TcpListener, sync::oneshot};

use crate::{
    bucket::Throttles,
    call::Call,
    config::{Latency, NetSimConfig, Throttle},
    counters::Tally,
    throttling::{throttling_body, THROTTLING_STATUS},
    Canned, Interceptor,
};

/// Whether a header is about one hop's connection (never passed on to the next).
fn hop_by_hop(name: &header::HeaderName) -> bool {
    [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::TE,
    ]
    .contains(name)
        || name.as_str() == "keep-alive"
}

/// What every connection task shares.
pub(crate) struct Shared {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    latency: Mutex<Latency>,
    throttles: Mutex<Throttles>,
    pub(crate) tally: Tally,
    /// `Some` while calls are being recorded.
    recorded: Mutex<Option<Vec<Call>>>,
    interceptor: Mutex<Option<Interceptor>>,
}

impl Shared {
    pub(crate) fn new(upstream: &str, config: &NetSimConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
            latency: Mutex::new(config.latency),
            throttles: Mutex::new(Throttles::new(&config.throttles, Instant::now())),
            tally: Tally::default(),
            recorded: Mutex::new(config.record_calls.then(Vec::new)),
            interceptor: Mutex::new(None),
        }
    }

    pub(crate) fn set_latency(&self, latency: Latency) {
        *lock(&self.latency) = latency;
    }

    pub(crate) fn add_throttle(&self, throttle: Throttle) {
        lock(&self.throttles).add(throttle, Instant::now());
    }

    pub(crate) fn clear_throttles(&self) {
        lock(&self.throttles).clear();
    }

    pub(crate) fn set_interceptor(&self, interceptor: Option<Interceptor>) {
        *lock(&self.interceptor) = interceptor;
    }

    pub(crate) fn recorded(&self) -> Vec<Call> {
        lock(&self.recorded).clone().unwrap_or_default()
    }

    fn record(&self, call: &Call) {
        if let Some(calls) = lock(&self.recorded).as_mut() {
            calls.push(call.clone());
        }
    }

    fn intercept(&self, call: &Call) -> Option<Canned> {
        // Cloned out first: the interceptor runs without this lock held.
        let interceptor = lock(&self.interceptor).clone()?;
        interceptor(call)
    }

    fn admit(&self, action: &str) -> bool {
        lock(&self.throttles).admit(action, Instant::now())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Accepts connections until `stop` fires (or its sender is dropped).
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, stop: oneshot::Receiver<()>) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| handle(shared.clone(), req));
                        // A connection that breaks ends its own task; nothing else to do.
                        let _ = http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // Out of file descriptors, say: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }
}

/// One call: counted, delayed by half a round trip, then answered by the interceptor, the
/// throttle or the upstream, and delayed by the other half.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                format!("reading the call: {e}"),
            ))
        }
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let call = Call::parse(
        parts.uri.query(),
        header("authorization"),
        header("x-amz-target"),
        &body,
    );
    let in_flight = shared.tally.enter(call.action());
    shared.record(&call);
    let rtt = lock(&shared.latency).sample();
    let there = rtt / 2;
    tokio::time::sleep(there).await;
    let response = if let Some(canned) = shared.intercept(&call) {
        canned.into_response()
    } else if !shared.admit(call.action()) {
        in_flight.throttled();
        throttled()
    } else {
        forward(&shared, parts, body).await
    };
    tokio::time::sleep(rtt.saturating_sub(there)).await;
    drop(in_flight);
    Ok(response)
}

/// The call as it came (same method, path, headers including the signed `Host`, body) to
/// the upstream, and its answer back.
async fn forward(
    shared: &Shared,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri: Uri = match format!("{}{path}", shared.upstream).parse() {
        Ok(u) => u,
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("upstream URL: {e}")),
    };
    let mut request = Request::builder().method(parts.method).uri(uri);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            request = request.header(name, value);
        }
    }
    let request = match request.body(Full::new(body)) {
        Ok(r) => r,
        Err(e) => return plain(StatusCode::BAD_REQUEST, format!("rebuilding the call: {e}")),
    };
    let answer = match shared.client.request(request).await {
        Ok(a) => a,
        Err(e) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                format!("upstream unreachable: {e}"),
            )
        }
    };
    let (head, body) = answer.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("upstream answer: {e}")),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = head.status;
    for (name, value) in &head.headers {
        if !hop_by_hop(name) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// AWS's `Throttling` answer.
fn throttled() -> Response<Full<Bytes>> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = Response::new(Full::new(Bytes::from(throttling_body(&request_id))));
    *response.status_mut() =
        StatusCode::from_u16(THROTTLING_STATUS).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

impl Canned {
    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        response
    }
}
