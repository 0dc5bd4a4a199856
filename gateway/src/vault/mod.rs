//! The Vault-compatible front door: Vault's HTTP API under `/v1/`, on the same port as the
//! Akeyless API, for the clients teams already run (hvac, Vault Agent, the Terraform `vault`
//! provider, External Secrets Operator, Spring Cloud Vault).
//!
//! It is an adapter and nothing more: every endpoint parses Vault's request into the same
//! core calls the Akeyless routes make (`mayfly_app::authn`, `access`, `dynamic_secrets`,
//! `tmp_creds`, `leases::issue::get_value`, `targets`) and shapes the answer as Vault does.
//! Authorization, issuing, revocation and the audit trail are the core's and `crate::http`'s,
//! so they cannot drift between the two APIs.
//!
//! - [`path`]: which endpoint a path and method name (role names percent-encoded or not).
//! - [`wire`]: Vault's value conventions and the response envelope.
//! - [`error`]: `{"errors": [...]}` with Vault's statuses (a missing token is 403).
//! - [`auth`]: AppRole, JWT and Kubernetes logins, and the token endpoints.
//! - [`aws`]: the AWS secrets engine at the configured mount: roles, creds, config.
//! - [`leases`]: `sys/leases/*` over tmp creds.
//! - [`sys`]: health, seal status, mounts, capabilities.

pub mod auth;
pub mod aws;
pub mod error;
pub mod leases;
pub mod path;
pub mod sys;
pub mod wire;

use actix_web::{http::header, web, HttpMessage, HttpRequest, HttpResponse};
use mayfly_app::{access::Caller, state::AppState};
use mayfly_domain::ItemName;
use mayfly_store::Millis;
use serde_json::Value;

use crate::{
    call::{client_address, parse_object, AuditNote},
    error::{ApiError, ApiResult},
    http::{audit_request, read_body, server_timing, RequestId},
    operation::Effect,
};

use path::{Route, Verb};
use wire::Params;

/// Where the AWS engine is mounted and which target it stands for.
#[derive(Debug, Clone)]
pub struct VaultSettings {
    /// The mount name (`aws`): paths are `/v1/<mount>/creds/<name>` and so on.
    pub mount: String,
    /// The target `<mount>/config/root` reads and writes, and roles written through this API
    /// are created on.
    pub target: ItemName,
}

/// What a handler answers on success.
pub enum Reply {
    /// 200 with a JSON body (every successful read: hvac reads a body only from 200).
    Json(Value),
    /// 204, no body (writes with nothing to say).
    NoContent,
    /// Another status with a JSON body (`sys/health`'s codes).
    Status(u16, Value),
    /// An empty list or a read of nothing: 404 with `{"errors": []}`, as Vault answers.
    Empty,
}

/// One request as a handler sees it.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub settings: &'a VaultSettings,
    pub http: &'a HttpRequest,
    pub params: Params,
    pub audit: &'a mut AuditNote,
}

/// The caller behind a token, with the token and its expiry.
pub struct Session {
    pub caller: Caller,
    pub token: String,
    pub expires_at: Millis,
}

impl Ctx<'_> {
    /// The request id (also in `x-request-id`), which Vault answers as `request_id`.
    pub fn request_id(&self) -> String {
        self.http
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default()
    }

    pub fn client_address(&self) -> String {
        client_address(self.http)
    }

    /// The caller of `X-Vault-Token` (Vault's header) or `Authorization: Bearer`; a missing
    /// or unknown token is [`ApiError::Unauthorized`], which this door answers with 403.
    pub async fn session(&mut self) -> ApiResult<Session> {
        let headers = self.http.headers();
        let token = headers
            .get("x-vault-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .or_else(|| {
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        v.strip_prefix("Bearer ")
                            .or_else(|| v.strip_prefix("bearer "))
                    })
                    .map(str::trim)
            })
            .map(str::to_owned);
        let (caller, expires_at) =
            mayfly_app::authn::resolve_with_expiry(self.state, token.as_deref())
                .await
                .map_err(|e| match e {
                    mayfly_app::error::AppError::Unauthenticated(_) => ApiError::Unauthorized(
                        "permission denied: send a Mayfly token as X-Vault-Token (log in with auth/approle/login)".into(),
                    ),
                    other => other.into(),
                })?;
        self.audit.access_id = caller.access_id.clone();
        self.audit.identity = caller.identity.clone();
        Ok(Session {
            caller,
            token: token.unwrap_or_default(),
            expires_at,
        })
    }
}

/// The operation name metrics and the audit trail use (`vault:creds`), and its effect. Names
/// never carry a role name: metric labels stay few.
fn describe(route: &Route, verb: Verb) -> (&'static str, Effect) {
    use Effect::*;
    match (route, verb) {
        (Route::Health, _) => ("vault:sys/health", Read),
        (Route::SealStatus, _) => ("vault:sys/seal-status", Read),
        (Route::Mounts, _) => ("vault:sys/mounts", Read),
        (Route::CapabilitiesSelf, _) => ("vault:sys/capabilities-self", Read),
        (Route::LeaseLookup, _) => ("vault:sys/leases/lookup", Read),
        (Route::LeaseList(_), _) => ("vault:sys/leases/lookup-list", Read),
        (Route::LeaseRenew, _) => ("vault:sys/leases/renew", Act),
        (Route::LeaseRevoke(_), _) => ("vault:sys/leases/revoke", Act),
        (Route::LeaseRevokePrefix(_), _) => ("vault:sys/leases/revoke-prefix", Act),
        (Route::Login(_), _) => ("vault:auth/login", Login),
        (Route::TokenLookupSelf, _) => ("vault:auth/token/lookup-self", Read),
        (Route::TokenRevokeSelf, _) => ("vault:auth/token/revoke-self", Configure),
        (Route::TokenRenewSelf, _) => ("vault:auth/token/renew-self", Read),
        (Route::TokenCreate, _) => ("vault:auth/token/create", Configure),
        (Route::Creds { sts: false, .. }, _) => ("vault:creds", Issue),
        (Route::Creds { sts: true, .. }, _) => ("vault:sts", Issue),
        (Route::Roles(_), Verb::Write) => ("vault:roles-write", Configure),
        (Route::Roles(_), Verb::Delete) => ("vault:roles-delete", Configure),
        (Route::Roles(_), _) => ("vault:roles-read", Read),
        (Route::ConfigRoot, Verb::Write) => ("vault:config/root-write", Configure),
        (Route::ConfigRoot, _) => ("vault:config/root", Read),
        (Route::ConfigLease, Verb::Write) => ("vault:config/lease-write", Configure),
        (Route::ConfigLease, _) => ("vault:config/lease", Read),
    }
}

/// The handler behind every `/v1/` path: the route, the body within its limit, the
/// handler under the request deadline, then metrics, `Server-Timing` and the audit record
/// exactly as the Akeyless API writes them.
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    settings: web::Data<VaultSettings>,
) -> HttpResponse {
    let query = req.query_string().to_owned();
    let parsed = path::route(req.uri().path(), &settings.mount)
        .and_then(|route| Ok((route, Verb::of(req.method(), Params::wants_list(&query))?)));
    let (route, verb) = match parsed {
        Ok(found) => found,
        Err(e) => {
            let status = error::status_of(&e).as_u16();
            state
                .metrics()
                .record_request("vault:unknown", status, std::time::Duration::ZERO);
            return error::respond(&e);
        }
    };
    let (operation, effect) = describe(&route, verb);
    let deadline = state.request_timeout();
    let started = std::time::Instant::now();
    let aws_timer = mayfly_app::metrics::new_aws_timer();
    let mut audit = AuditNote::default();
    let work = async {
        let body = read_body(payload, state.max_body_bytes()).await?;
        let body = parse_object(&body)?;
        let mut cx = Ctx {
            state: &state,
            settings: &settings,
            http: &req,
            params: Params::new(body, &query),
            audit: &mut audit,
        };
        let result = handle(&mut cx, route, verb).await;
        if effect == Effect::Configure && result.is_ok() {
            // As on the Akeyless API: seen at once here, by other gateways within the
            // cache TTL; a refused change empties nothing.
            state.invalidate_caches();
        }
        result
    };
    let work = mayfly_app::metrics::with_aws_timer(Some(aws_timer.clone()), work);
    let result = match tokio::time::timeout(deadline, work).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::Timeout(deadline.as_secs())),
    };
    let mut response = match &result {
        Ok(Reply::Json(body)) => HttpResponse::Ok().json(body),
        Ok(Reply::Status(code, body)) => {
            let status = actix_web::http::StatusCode::from_u16(*code)
                .unwrap_or(actix_web::http::StatusCode::OK);
            HttpResponse::build(status).json(body)
        }
        Ok(Reply::NoContent) => HttpResponse::NoContent().finish(),
        Ok(Reply::Empty) => error::not_found_empty(),
        Err(e) => error::respond(e),
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state.metrics().record_request(operation, status, elapsed);
    if result.is_ok() {
        server_timing(&mut response, aws_timer.waited(), elapsed);
    }
    let error = result.as_ref().err().map(ToString::to_string);
    audit_request(
        &state,
        &req,
        operation.to_owned(),
        effect,
        status,
        audit,
        error,
    )
    .await;
    response
}

async fn handle(cx: &mut Ctx<'_>, route: Route, verb: Verb) -> ApiResult<Reply> {
    let method = cx.http.method().to_string();
    let not_allowed =
        || ApiError::MethodNotAllowed(format!("{method} is not supported on this path"));
    match route {
        Route::Health => match verb {
            Verb::Read | Verb::Head => sys::health(cx).await,
            _ => Err(not_allowed()),
        },
        Route::SealStatus => match verb {
            Verb::Read => sys::seal_status(cx),
            _ => Err(not_allowed()),
        },
        Route::Mounts => match verb {
            Verb::Read => sys::mounts(cx).await,
            _ => Err(not_allowed()),
        },
        Route::CapabilitiesSelf => match verb {
            Verb::Write => sys::capabilities_self(cx).await,
            _ => Err(not_allowed()),
        },
        Route::LeaseLookup => match verb {
            Verb::Write => leases::lookup(cx).await,
            Verb::List => leases::list(cx, "").await,
            _ => Err(not_allowed()),
        },
        Route::LeaseList(prefix) => match verb {
            Verb::List => leases::list(cx, &prefix).await,
            _ => Err(not_allowed()),
        },
        Route::LeaseRenew => match verb {
            Verb::Write => leases::renew(cx).await,
            _ => Err(not_allowed()),
        },
        Route::LeaseRevoke(id) => match verb {
            Verb::Write => leases::revoke(cx, id).await,
            _ => Err(not_allowed()),
        },
        Route::LeaseRevokePrefix(prefix) => match verb {
            Verb::Write => leases::revoke_prefix(cx, &prefix).await,
            _ => Err(not_allowed()),
        },
        Route::Login(kind) => match verb {
            Verb::Write => auth::login(cx, kind).await,
            _ => Err(not_allowed()),
        },
        Route::TokenLookupSelf => match verb {
            Verb::Read | Verb::Write => auth::lookup_self(cx).await,
            _ => Err(not_allowed()),
        },
        Route::TokenRevokeSelf => match verb {
            Verb::Write => auth::revoke_self(cx).await,
            _ => Err(not_allowed()),
        },
        Route::TokenRenewSelf => match verb {
            Verb::Write => auth::renew_self(cx).await,
            _ => Err(not_allowed()),
        },
        Route::TokenCreate => match verb {
            Verb::Write => auth::create_token(cx).await,
            _ => Err(not_allowed()),
        },
        Route::Creds { name, sts } => match verb {
            Verb::Read | Verb::Write => aws::credentials(cx, &name, sts).await,
            _ => Err(not_allowed()),
        },
        Route::Roles(None) => match verb {
            Verb::List => aws::list_roles(cx, None).await,
            _ => Err(not_allowed()),
        },
        Route::Roles(Some(name)) => match verb {
            Verb::List => aws::list_roles(cx, Some(&name)).await,
            Verb::Read => aws::read_role(cx, &name).await,
            Verb::Write => aws::write_role(cx, &name).await,
            Verb::Delete => aws::delete_role(cx, &name).await,
            Verb::Head => Err(not_allowed()),
        },
        Route::ConfigRoot => match verb {
            Verb::Read => aws::read_config_root(cx).await,
            Verb::Write => aws::write_config_root(cx).await,
            _ => Err(not_allowed()),
        },
        Route::ConfigLease => match verb {
            Verb::Read => aws::read_config_lease(cx).await,
            Verb::Write => aws::write_config_lease(cx).await,
            _ => Err(not_allowed()),
        },
    }
}

/// The item name a Vault role (or creds path) names: `team-a/s3` is the dynamic secret
/// `/team-a/s3`. Anything that is not a valid item name (`..`, empty segments, characters
/// outside names) is refused here, before any lookup.
pub fn item_name(field: &str, raw: &str) -> ApiResult<ItemName> {
    let raw = raw.trim();
    if raw.starts_with('/') {
        return Err(ApiError::bad_request(format!(
            "{field}: {raw:?} has an empty segment ('//'); name the role without a leading slash"
        )));
    }
    ItemName::parse(raw).map_err(|e| ApiError::bad_request(format!("{field}: {e}")))
}

/// The role name Vault shows for an item: its path without the leading `/`.
pub fn role_name(item: &str) -> &str {
    item.strip_prefix('/').unwrap_or(item)
}
