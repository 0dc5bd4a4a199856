//! Building and running the application: storage, keys, the admin bootstrap, TLS and the
//! HTTP server. Tests and `main` both go through [`Application::build`].

use std::{io::IsTerminal, net::SocketAddr, sync::Arc, time::Duration};

use actix_web::{
    body::MessageBody,
    dev::{Server, ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web, App, HttpMessage,
};
use secrecy::ExposeSecret;
use tracing::Instrument;

use crate::{
    bootstrap::{self, AdminBootstrap},
    config::{Config, TlsMode},
    http,
    routes::health,
    tls,
};

use mayfly_app::state::AppState;

use mayfly_app::files;

use mayfly_app::keys;

use mayfly_app::aws_source::{SdkSource, SharedAwsSource};

/// A built, bound, not yet running gateway.
pub struct Application {
    server: Server,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        files::create_private_dir(&config.data_dir).map_err(|e| {
            anyhow::anyhow!("data_dir: cannot create {}: {e}", config.data_dir.display())
        })?;
        files::secure_data_files(&config.data_dir, &config.database_url)?;
        let (key_ring, generated) =
            keys::load_key_ring(config.master_keys.as_ref(), &config.data_dir)?;
        if generated {
            tracing::warn!(
                path = %config.data_dir.join("master.key").display(),
                "generated a new master key; back it up: without it stored target secrets cannot be read"
            );
        }

        let db = mayfly_store::connect(&config.database_url, config.db_max_connections)
            .await
            .map_err(|e| anyhow::anyhow!("database: {e}"))?;
        let kind = mayfly_store::DatabaseKind::from_url(&config.database_url)
            .map_err(anyhow::Error::msg)?;
        let cluster_id =
            mayfly_store::meta::ensure_cluster_id(&db, &uuid::Uuid::new_v4().to_string()).await?;
        tracing::info!(database = ?kind, cluster_id = %cluster_id, "database ready");

        let data_dir = config.data_dir.clone();
        let mut credentials_file = None;
        let bootstrap = bootstrap::ensure_admin(&db, config.admin_seed.as_ref(), |id, key| {
            let path = bootstrap::write_admin_credentials(&data_dir, id, key).map_err(|e| {
                format!(
                    "cannot write the generated admin key to {}: {e}; nothing was created, fix the data directory and start again",
                    data_dir.join(bootstrap::ADMIN_CREDENTIALS_FILE).display()
                )
            })?;
            credentials_file = Some(path);
            Ok(())
        })
        .await?;
        match bootstrap {
            AdminBootstrap::Existing => {}
            AdminBootstrap::FromEnvironment { access_id } => {
                tracing::info!(access_id = %access_id, "created the admin API key from MAYFLY_ADMIN_ACCESS_ID/MAYFLY_ADMIN_ACCESS_KEY");
            }
            AdminBootstrap::Generated {
                access_id,
                access_key,
            } => {
                let path = credentials_file.unwrap_or_default();
                // The key never goes to the log (stdout is the log in containers and under
                // journald): it is in the 0600 file, and on an interactive terminal only.
                tracing::warn!(
                    access_id = %access_id,
                    path = %path.display(),
                    "generated the admin API key; it is in this file (mode 0600), never in the log: store it, then delete the file"
                );
                if std::io::stdout().is_terminal() {
                    println!(
                        "\n=== Mayfly first start: admin API key (also in {}) ===\n  access id:  {access_id}\n  access key: {}\n  e.g. mayfly configure --access-id {access_id} --access-key <key> --gateway-url https://localhost:{}\n",
                        path.display(),
                        access_key.expose_secret(),
                        config.listen.port()
                    );
                }
            }
        }

        let metrics = Arc::new(mayfly_app::metrics::Metrics::default());
        if !config.outbound.allowed().is_empty() {
            let allowed: Vec<String> = config
                .outbound
                .allowed()
                .iter()
                .map(ToString::to_string)
                .collect();
            tracing::info!(allowed = %allowed.join(","), "outbound endpoints allowed besides AWS's own (MAYFLY_ALLOWED_ENDPOINTS, AWS_ENDPOINT_URL*)");
        }
        let aws: SharedAwsSource = Arc::new(
            SdkSource::guarded(
                config.outbound.clone(),
                Arc::new(mayfly_app::metrics::AwsObserver(metrics.clone())),
            )
            .with_iam_write_rate(config.aws_iam_write_rate),
        );
        let auditor = mayfly_app::audit::Auditor::from_env()?;
        auditor.start_writer(db.clone());
        let state = AppState::with_metrics(
            db,
            key_ring,
            aws,
            cluster_id,
            &config.settings(),
            auditor,
            metrics,
        );
        mayfly_app::rotation::master::bind_sealed_to_row_ids(state.db(), state.keys())
            .await
            .map_err(|e| anyhow::anyhow!("binding sealed target credentials to their rows: {e}"))?;
        let tls = match &config.tls {
            TlsMode::PlainHttp => {
                tracing::warn!("SERVING PLAIN HTTP (insecure_plain_http): tokens and secrets cross the network unencrypted; only use this behind a TLS-terminating proxy");
                None
            }
            TlsMode::Files { cert, key } => Some(tls::load(cert, key)?),
            TlsMode::Generated => {
                let paths = tls::GeneratedPaths::in_data_dir(&config.data_dir);
                if tls::ensure_generated(&paths)? {
                    tracing::info!(ca = %paths.ca.display(), "generated a local CA and TLS certificate; clients trust it with --ca-cert");
                }
                Some(tls::load(&paths.cert, &paths.key)?)
            }
        };
        if let Some(t) = &tls {
            println!("TLS certificate SHA-256 fingerprint: {}", t.fingerprint);
        }

        let listener = std::net::TcpListener::bind(config.listen)
            .map_err(|e| anyhow::anyhow!("listen: cannot bind {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        let data = web::Data::new(state.clone());
        let metrics_access = web::Data::new(config.metrics.clone());
        let vault = web::Data::new(config.vault.clone());
        if !config.trusted_proxies.is_empty() {
            tracing::info!(trusted_proxies = %config.trusted_proxies, "connections from these addresses may name their client with a PROXY header");
        }
        let settings = crate::listener::ListenerSettings {
            tls: tls.map(|t| Arc::new(t.config)),
            trusted_proxies: config.trusted_proxies.clone(),
            client_request_timeout: Duration::from_secs(30),
            shutdown_timeout: config.shutdown_grace,
        };
        // Signals are handled in `run_until_stopped`, which stops the workers at the same time.
        let server = crate::listener::serve(listener, settings, move || {
            App::new()
                .app_data(data.clone())
                .app_data(metrics_access.clone())
                .app_data(vault.clone())
                .wrap(actix_web::middleware::from_fn(request_context))
                .route("/metrics", web::get().to(crate::routes::metrics::serve))
                .route("/health", web::route().to(health::live))
                .route("/health/ready", web::route().to(health::ready))
                .route("/api/v2/health", web::route().to(health::live))
                .route("/api/v2/health/ready", web::route().to(health::ready))
                .route("/openapi.json", web::get().to(crate::openapi::serve))
                .route("/api/v2/openapi.json", web::get().to(crate::openapi::serve))
                // The Vault-compatible API: every method (LIST too), every path under /v1/.
                .route("/v1/{tail:.*}", web::route().to(crate::vault::dispatch))
                // The web console: HTML pages under /ui/ (GET and form POSTs).
                .configure(crate::console::configure)
                .default_service(web::to(http::dispatch))
        })?;
        tracing::info!(address = %addr, tls = !matches!(config.tls, TlsMode::PlainHttp), "mayfly-gateway listening");
        Ok(Application {
            server,
            addr,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Serves until SIGINT/SIGTERM, running the revoker, the reconciler and housekeeping
    /// alongside. Stopping is graceful: the listener closes, the lease workers claim nothing
    /// new, and requests and teardowns already started get `shutdown_grace` to finish. A
    /// teardown still running then is cancelled and its lease handed back (`revoke_failed`,
    /// due now) so that any gateway finishes it at once; teardown is idempotent, so redoing a
    /// half-done one is safe.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // Every worker ends on its own when the shutdown token is cancelled (between two
        // rounds); one still busy when the grace period is over is cut off.
        let workers = [
            tokio::spawn(mayfly_app::leases::revoker::run(self.state.clone())),
            tokio::spawn(mayfly_app::leases::reconciler::run(self.state.clone())),
            tokio::spawn(mayfly_app::housekeeping::run(self.state.clone())),
            tokio::spawn(mayfly_app::rotation::worker::run(self.state.clone())),
        ];
        let handle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        let mut stop_started = None;
        let result = tokio::select! {
            r = &mut server => r,
            () = stop_signal() => {
                stop_started = Some(tokio::time::Instant::now());
                tracing::info!(grace_s = self.state.shutdown_grace().as_secs_f64(), "stopping: finishing requests and teardowns already started");
                self.state.shutdown().cancel();
                handle.stop(true).await;
                server.await
            }
        };
        self.state.shutdown().cancel();
        let result = result.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        // One grace period for requests and teardowns together, counted from the signal.
        let deadline =
            stop_started.unwrap_or_else(tokio::time::Instant::now) + self.state.shutdown_grace();
        for mut w in workers {
            if tokio::time::timeout_at(deadline, &mut w).await.is_err() {
                w.abort();
                let _ = w.await;
            }
        }
        // Whatever this gateway still holds (a teardown cut off above, a request's revocation
        // that did not finish) goes back for any gateway to finish now.
        match mayfly_store::leases::release_claims(
            self.state.db(),
            self.state.instance_id(),
            mayfly_store::now_millis(),
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                released = n,
                "stopped before these teardowns finished; handed them back for any gateway to finish"
            ),
            Err(e) => tracing::warn!(error = %e, "could not hand back unfinished teardowns; the reconciler finishes them after its minimum age"),
        }
        // Requests are done: what they queued for the audit trail is written before exit.
        self.state.auditor().flush_all(self.state.db()).await;
        tracing::info!("stopped");
        result
    }
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on SIGINT only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Gives every request an id (`x-request-id`, on every log line through the span) and logs
/// one line per request with its status and duration.
async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path()
    );
    let started = std::time::Instant::now();
    req.extensions_mut()
        .insert(crate::http::RequestId(request_id.clone()));
    async move {
        let mut res = next.call(req).await?;
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            res.headers_mut()
                .insert(HeaderName::from_static("x-request-id"), value);
        }
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
        Ok(res)
    }
    .instrument(span)
    .await
}
