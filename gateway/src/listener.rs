//! Accepting connections: the PROXY header from trusted load balancers, then TLS, then HTTP.
//!
//! actix-web's `HttpServer` does TLS and HTTP but has no place to read a PROXY header before
//! the handshake, and takes each request's client address from the socket. This module runs
//! the same pieces itself (actix-server's workers, tokio-rustls, actix-http's dispatcher)
//! with one step in front: a connection from a `trusted_proxies` address may start with a
//! PROXY header, and the client it names becomes the request's `peer_addr`, which the
//! login throttle and the audit trail use. Everyone else's first byte is never interpreted,
//! so no client can choose its own address.

use std::{fmt, net::SocketAddr, rc::Rc, sync::Arc, time::Duration};

use actix_http::{body::MessageBody, HttpService, Protocol, Request, Response};
use actix_server::Server;
use actix_service::{
    fn_factory, fn_service, map_config, IntoServiceFactory, Service, ServiceFactory,
    ServiceFactoryExt,
};
use actix_web::dev::AppConfig;
use tokio::net::TcpStream;
use tokio_rustls::{server::TlsStream, TlsAcceptor};
use tokio_util::either::Either;

use crate::proxy_protocol::{self, canonical_ip, Start, TrustedProxies};

/// What a connection becomes once its preamble is done.
type Io = Either<TlsStream<TcpStream>, TcpStream>;

/// How long a connection may take to send its PROXY header and finish the TLS handshake.
/// Generous for a slow client, short enough that idle sockets do not pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the listener serves.
pub struct ListenerSettings {
    /// TLS, or plain HTTP (`insecure_plain_http`).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Addresses allowed to send a PROXY header.
    pub trusted_proxies: TrustedProxies,
    /// Time a client gets to send a request's head (actix's `client_request_timeout`).
    pub client_request_timeout: Duration,
    /// How long a stop waits for connections to finish.
    pub shutdown_timeout: Duration,
}

/// Serves `app` on `listener` until the returned server is stopped. Signals are not
/// handled here: the caller stops the server (and the background workers with it).
pub fn serve<F, I, S, B>(
    listener: std::net::TcpListener,
    settings: ListenerSettings,
    app: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let local = listener.local_addr()?;
    let secure = settings.tls.is_some();
    let tls = settings.tls.map(|config| {
        let mut config = (*config).clone();
        // What actix-web offers without its http2 feature: HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    });
    let trusted = Arc::new(settings.trusted_proxies);
    let request_timeout = settings.client_request_timeout;
    let builder = actix_server::ServerBuilder::default()
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs().max(1))
        .backlog(1024);
    let shutdown = builder.graceful_shutdown_signal();
    builder
        .listen("mayfly-gateway", listener, move || {
            // Once per worker thread.
            let shutdown = shutdown.clone();
            let http = HttpService::<Io, _, _>::build()
                .client_request_timeout(request_timeout)
                .graceful_shutdown_signal(move || {
                    let signal = shutdown.clone();
                    async move { signal.notified().await }
                })
                .finish(map_config(
                    app()
                        .into_factory()
                        .map_err(|err| err.into().error_response()),
                    move |()| {
                        // The same configuration HttpServer gives the app (`secure` and the
                        // host decide what `connection_info` reports); its public
                        // constructor is the one actix-test uses.
                        AppConfig::__priv_test_new(secure, local.to_string(), local)
                    },
                ));
            let tls = tls.clone();
            let trusted = trusted.clone();
            fn_factory(move || {
                let handler = http.new_service(());
                let tls = tls.clone();
                let trusted = trusted.clone();
                async move {
                    let handler = Rc::new(handler.await.map_err(|_| ())?);
                    Ok::<_, ()>(fn_service(move |tcp: TcpStream| {
                        let handler = handler.clone();
                        let tls = tls.clone();
                        let trusted = trusted.clone();
                        async move {
                            let Some((io, client)) =
                                tokio::time::timeout(HANDSHAKE_TIMEOUT, preamble(tcp, tls.as_ref(), &trusted))
                                    .await
                                    .ok()
                                    .flatten()
                            else {
                                return Ok::<_, ()>(());
                            };
                            if let Err(e) = handler.call((io, Protocol::Http1, Some(client))).await {
                                tracing::debug!(client = %client, error = ?e, "connection ended with an error");
                            }
                            Ok(())
                        }
                    }))
                }
            })
        })
        .map(|b| b.run())
}

/// Reads the PROXY header (trusted peers only) and does the TLS handshake. `None`: the
/// connection is dropped (the reason is logged; nothing a client sent is echoed).
async fn preamble(
    mut tcp: TcpStream,
    tls: Option<&TlsAcceptor>,
    trusted: &TrustedProxies,
) -> Option<(Io, SocketAddr)> {
    let peer = tcp.peer_addr().ok()?;
    let peer = SocketAddr::new(canonical_ip(peer.ip()), peer.port());
    let _ = tcp.set_nodelay(true);
    let mut client = peer;
    if trusted.contains(peer.ip()) {
        let mut first = [0u8; 1];
        // Waits for the first byte without taking it: a connection without a header is
        // left whole for the TLS handshake.
        if tcp.peek(&mut first).await.ok()? == 0 {
            return None;
        }
        match proxy_protocol::read(&mut tcp, Start::of(first[0])).await {
            Ok(Some(proxy_protocol::Header::Client(addr))) => {
                client = SocketAddr::new(canonical_ip(addr.ip()), addr.port());
            }
            Ok(Some(proxy_protocol::Header::Local) | None) => {}
            Err(e) => {
                tracing::warn!(proxy = %peer, error = %e, "closed a connection from a trusted proxy: its PROXY header is invalid");
                return None;
            }
        }
    }
    match tls {
        None => Some((Either::Right(tcp), client)),
        Some(acceptor) => match acceptor.accept(tcp).await {
            Ok(stream) => Some((Either::Left(stream), client)),
            Err(e) => {
                tracing::debug!(client = %client, error = %e, "TLS handshake failed");
                None
            }
        },
    }
}
