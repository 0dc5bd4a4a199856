//! Access: auth methods, roles, their rules and associations.
//!
//! - `/ui/access` lists the auth methods and roles the caller may list (`auth_methods::list`,
//!   `roles::list`, as `list-auth-methods` and `list-roles`), with forms to create an API key,
//!   a JWT/OIDC, Kubernetes or AWS IAM auth method (one form per kind, only its fields) and a
//!   role, and buttons to reset an API key's access key and to delete them.
//! - `/ui/role?name=` shows one role (`roles::get`, as `get-role`) with its rules and holders,
//!   and forms to set and delete rules and to give the role to an auth method (narrowed by
//!   sub-claims) or take it back.
//!
//! Every action is the Akeyless route's own function (`crate::routes::access`, the handler of
//! `create-auth-method`, `create-role`, `set-role-rule`, `assoc-role-am`, ...) called with the
//! session's caller and the form read as that route's request DTO: the same parsers, the same
//! core operation, the same authorization. A parser's `field: problem` answer is shown next
//! to the field it names. A new (or reset) API key's access key is shown once, on the answer
//! to the POST (`no-store`), and never recorded: the audit record names only the access id.
//! Fields the API takes as objects (`bound-claims`, `sub-claims`) are `claim=values` lines
//! here, and a JWKS is pasted as JSON; both become the API's shapes before its parser runs.

use std::collections::HashMap;

use actix_web::{http::StatusCode, HttpRequest, HttpResponse};
use futures_util::{future::LocalBoxFuture, FutureExt, TryFutureExt};
use maud::{html, Markup};
use mayfly_api_types::{access as dto, request};
use mayfly_app::{access::Caller, auth_methods, roles, state::AppState};
use mayfly_domain::{AuthMethodKind, ItemName, JwksSource, ValidationErrors};

use super::{
    get, post,
    view::{self, q, Field, Nav},
    Form, FormBody, Outcome, Posted, Query, Session, State,
};
use crate::{error::ApiError, operation::Effect, routes::access as api};

/// The rule types `set-role-rule` takes, as the form offers them.
const RULE_TYPES: [(&str, &str); 4] = [
    ("item-rule", "Items (dynamic secrets, folders)"),
    ("target-rule", "Targets"),
    ("role-rule", "Roles"),
    ("auth-method-rule", "Auth methods"),
];
/// The capabilities `set-role-rule` takes (`use`: target rules only).
const CAPABILITIES: [&str; 7] = ["read", "list", "create", "update", "delete", "use", "deny"];
const AUDIT_ACCESS: [&str; 3] = ["none", "own", "all"];

/// The fields of each form, named as the API request's fields.
const AUTH_METHOD_FIELDS: &[&str] = &["name", "description", "delete_protection"];
const ROLE_FIELDS: &[&str] = &["name", "description", "audit-access", "delete_protection"];
const RULE_FIELDS: &[&str] = &["role-name", "rule-type", "path", "capability"];
const ASSOC_FIELDS: &[&str] = &["role-name", "am-name", "sub-claims", "case-sensitive"];
const JWT_FIELDS: &[&str] = &[
    "name",
    "description",
    "delete_protection",
    "jwks-uri",
    "jwks-json-data",
    "issuer",
    "audience",
    "unique-identifier",
    "bound-client-ids",
    "bound-claims",
    "force-sub-claims",
    "jwt-ttl",
    "access-expires",
];
const K8S_FIELDS: &[&str] = &[
    "name",
    "description",
    "delete_protection",
    "jwks-json-data",
    "k8s-issuer",
    "audience",
    "bound-namespaces",
    "bound-sa-names",
    "bound-pod-names",
    "force-sub-claims",
    "jwt-ttl",
    "access-expires",
];
const AWS_IAM_FIELDS: &[&str] = &[
    "name",
    "description",
    "delete_protection",
    "bound-aws-account-id",
    "bound-arn",
    "bound-role-name",
    "bound-user-name",
    "bound-role-id",
    "bound-user-id",
    "sts-url",
    "force-sub-claims",
    "jwt-ttl",
    "access-expires",
];

/// The checkboxes among the forms' fields: sent as `"true"` when ticked, `"false"` otherwise.
const CHECKBOXES: &[&str] = &["delete_protection", "force-sub-claims", "case-sensitive"];
/// The fields the API takes as an object of claim name to comma-separated values, which the
/// forms take as a textarea of `claim=values` lines.
const CLAIM_MAPS: &[&str] = &["bound-claims", "sub-claims"];

/// The kinds of auth method the access page creates, each with its own form (`kind`), the
/// fields of its API request, and the API operation it is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NewKind {
    ApiKey,
    Jwt,
    K8s,
    AwsIam,
}

impl NewKind {
    /// The form's hidden `kind` field; absent means an API key (the first form there was).
    fn of(form: &Form) -> Result<NewKind, ApiError> {
        match form.get("kind").unwrap_or("api_key") {
            "api_key" => Ok(NewKind::ApiKey),
            "jwt" => Ok(NewKind::Jwt),
            "k8s" => Ok(NewKind::K8s),
            "aws_iam" => Ok(NewKind::AwsIam),
            other => Err(ApiError::bad_request(format!(
                "kind: {:?} is not api_key, jwt, k8s or aws_iam",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }

    fn key(self) -> &'static str {
        match self {
            NewKind::ApiKey => "api_key",
            NewKind::Jwt => "jwt",
            NewKind::K8s => "k8s",
            NewKind::AwsIam => "aws_iam",
        }
    }

    /// The id prefix of the form's inputs (`jwt-issuer`).
    fn prefix(self) -> &'static str {
        match self {
            NewKind::ApiKey => "am",
            NewKind::Jwt => "jwt",
            NewKind::K8s => "k8s",
            NewKind::AwsIam => "iam",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            NewKind::ApiKey => AUTH_METHOD_FIELDS,
            NewKind::Jwt => JWT_FIELDS,
            NewKind::K8s => K8S_FIELDS,
            NewKind::AwsIam => AWS_IAM_FIELDS,
        }
    }

    /// The audit operation: the API's, under `console:`.
    fn operation(self) -> &'static str {
        match self {
            NewKind::ApiKey => "console:create-auth-method",
            NewKind::Jwt => "console:create-auth-method-oauth2",
            NewKind::K8s => "console:create-auth-method-k8s",
            NewKind::AwsIam => "console:create-auth-method-aws-iam",
        }
    }

    fn with_article(self) -> &'static str {
        match self {
            NewKind::ApiKey => "an API key",
            NewKind::Jwt => "a JWT / OIDC",
            NewKind::K8s => "a Kubernetes",
            NewKind::AwsIam => "an AWS IAM",
        }
    }

    fn title(self) -> &'static str {
        match self {
            NewKind::ApiKey => "API key",
            NewKind::Jwt => "JWT / OIDC",
            NewKind::K8s => "Kubernetes",
            NewKind::AwsIam => "AWS IAM",
        }
    }
}

/// A refusal of the API's parsers (400) or a name already taken (409) as inline errors on the
/// form whose `fields` it names (`path: must start with /`), with the status to answer; or
/// `Err` to show it as an error page when it names none of them.
fn inline(
    e: ApiError,
    fields: &[&'static str],
) -> Result<(ValidationErrors, StatusCode), ApiError> {
    let (message, conflict) = match &e {
        ApiError::BadRequest(m) => (m.clone(), false),
        ApiError::Conflict(m) => (m.clone(), true),
        _ => return Err(e),
    };
    // `jwks-uri: ...`, or `jwks-uri and jwks-json-data: ...` about the first of two fields.
    let named = fields.iter().find_map(|f| {
        let rest = message.strip_prefix(*f)?;
        if let Some(said) = rest.strip_prefix(": ") {
            return Some((*f, said.to_owned()));
        }
        rest.starts_with(" and ").then(|| (*f, message.clone()))
    });
    let mut errors = ValidationErrors::new();
    match named {
        Some((f, said)) => errors.push(f, said),
        // "a role named /x exists": about the name field.
        None if conflict && fields.contains(&"name") => errors.push("name", message),
        None => return Err(e),
    }
    let status = if conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((errors, status))
}

/// The name in a query, required.
fn name_in(raw: &str, what: &str) -> Result<ItemName, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ApiError::bad_request(format!(
            "name: required: the {what}'s name, such as /ci/deployer"
        )));
    }
    ItemName::parse(raw).map_err(|e| ApiError::bad_request(format!("name: {e}")))
}

/// `claim=values` lines (a textarea) as the API's object of claim name to comma-separated
/// values. A claim named twice is refused rather than merged or overwritten: either would
/// give the role to tokens the person did not mean to name.
fn claim_map(
    field: &str,
    raw: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let mut map = serde_json::Map::new();
    for (n, line) in raw.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((claim, values)) = line.split_once('=') else {
            return Err(ApiError::bad_request(format!(
                "{field}: line {}: write claim=value1,value2 (such as repository=org/repo-a,org/repo-b)",
                n + 1
            )));
        };
        let claim = claim.trim();
        if map.contains_key(claim) {
            return Err(ApiError::bad_request(format!(
                "{field}: claim {claim:?} is given twice; put all its values on one line, comma-separated"
            )));
        }
        map.insert(claim.to_owned(), values.trim().into());
    }
    Ok(map)
}

/// Reads a form as the API request `T`: the fields in `allowed` (the first of a repeated
/// field), the checkboxes among them as `"true"` when ticked and `"false"` otherwise, every
/// ticked `capability` joined as the API's comma-separated list, the claim maps from their
/// `claim=values` lines, and a JWKS pasted as JSON base64-encoded as the API takes it.
fn request_of<T: serde::de::DeserializeOwned>(
    form: &Form,
    allowed: &[&str],
) -> Result<T, ApiError> {
    request_keeping::<T>(form, allowed, &[])
}

/// The fields an auth method's edit form sends even when empty: the lists and the
/// description, whose empty value clears them (`update-auth-method-*` replaces what is sent).
/// Its other empty fields (the JWKS, issuer, STS URL, ...) are absent, which keeps them.
const CLEARED_WHEN_EMPTY: &[&str] = &[
    "description",
    "audience",
    "bound-client-ids",
    "bound-namespaces",
    "bound-sa-names",
    "bound-pod-names",
    "bound-aws-account-id",
    "bound-arn",
    "bound-role-name",
    "bound-user-name",
    "bound-role-id",
    "bound-user-id",
];

/// [`request_of`], with the empty fields in `kept` sent as empty rather than left out.
fn request_keeping<T: serde::de::DeserializeOwned>(
    form: &Form,
    allowed: &[&str],
    kept: &[&str],
) -> Result<T, ApiError> {
    use base64::Engine as _;
    let mut body = form.as_request(allowed);
    if let Some(obj) = body.as_object_mut() {
        for &c in CHECKBOXES.iter().filter(|c| allowed.contains(c)) {
            let on = form.get(c) == Some("true");
            obj.insert(c.into(), on.to_string().into());
        }
        for &m in CLAIM_MAPS.iter().filter(|m| allowed.contains(m)) {
            let map = claim_map(m, form.get(m).unwrap_or_default())?;
            obj.insert(m.into(), map.into());
        }
        if let Some(jwks) = form.get("jwks-json-data").filter(|j| !j.trim().is_empty()) {
            if allowed.contains(&"jwks-json-data") {
                let encoded = base64::engine::general_purpose::STANDARD.encode(jwks.trim());
                obj.insert("jwks-json-data".into(), encoded.into());
            }
        }
        if allowed.contains(&"capability") {
            let caps: Vec<&str> = form
                .0
                .iter()
                .filter(|(k, _)| k == "capability")
                .map(|(_, v)| v.as_str())
                .collect();
            obj.insert("capability".into(), caps.join(",").into());
        }
        // Empty optional fields are absent, as a CLI leaves them.
        obj.retain(|k, v| v.as_str() != Some("") || kept.contains(&k.as_str()));
    }
    crate::call::parse(&body)
}

/// `GET /ui/access`.
pub async fn show(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    let op = ("console:list-access", Effect::Read, None);
    get(req, state, query, op, |v| {
        async move {
            let notice = done_notice(v.query);
            let body = access_page(v.state, v.session, notice, None).await?;
            Ok(Outcome::ok("Access", Nav::Access, body))
        }
        .boxed_local()
    })
    .await
}

/// What a redirect after an action says on the page it lands on.
fn done_notice(query: &HashMap<String, String>) -> Option<Markup> {
    let said = |k: &str| {
        query
            .get(k)
            .map(|v| v.chars().take(200).collect::<String>())
    };
    if let Some(n) = said("deleted-auth-method") {
        return Some(view::notice(
            "ok",
            &format!("Auth method {n} deleted; its tokens no longer work."),
        ));
    }
    if let Some(n) = said("deleted-role") {
        return Some(view::notice(
            "ok",
            &format!("Role {n} deleted, with its rules and associations."),
        ));
    }
    if let Some(n) = said("updated-auth-method") {
        return Some(view::notice("ok", &format!("Auth method {n} updated.")));
    }
    if let Some(n) = said("created-auth-method") {
        let id = said("access-id").unwrap_or_default();
        return Some(view::notice(
            "ok",
            &format!("Auth method {n} created; workloads log in with access id {id}. Give it a role (narrowed by sub-claims) on a role's page."),
        ));
    }
    if query.contains_key("created") {
        return Some(view::notice(
            "ok",
            "Role created. Give it rules below, then give it to an auth method.",
        ));
    }
    if query.contains_key("rule-set") {
        return Some(view::notice("ok", "Rule saved."));
    }
    if query.contains_key("rule-deleted") {
        return Some(view::notice("ok", "Rule deleted."));
    }
    if query.contains_key("associated") {
        return Some(view::notice("ok", "The auth method now holds this role."));
    }
    if query.contains_key("dissociated") {
        return Some(view::notice(
            "ok",
            "The auth method no longer holds this role.",
        ));
    }
    None
}

/// Which create form on the access page was sent back, with its values and errors.
enum Failed<'a> {
    AuthMethod(NewKind, &'a Form, &'a ValidationErrors),
    Role(&'a Form, &'a ValidationErrors),
}

async fn access_page(
    state: &AppState,
    session: &Session,
    notice: Option<Markup>,
    failed: Option<Failed<'_>>,
) -> Result<Markup, ApiError> {
    let methods = auth_methods::list(state, &session.caller, None).await?;
    let roles = roles::list(state, &session.caller, None).await?;
    let empty_form = Form(Vec::new());
    let no_errors = ValidationErrors::new();
    let (am_kind, am_form, am_errors) = match &failed {
        Some(Failed::AuthMethod(k, f, e)) => (Some(*k), *f, *e),
        _ => (None, &empty_form, &no_errors),
    };
    let (role_form, role_errors) = match &failed {
        Some(Failed::Role(f, e)) => (*f, *e),
        _ => (&empty_form, &no_errors),
    };
    let csrf = &session.csrf;
    let sent_back_to = match &failed {
        Some(Failed::AuthMethod(NewKind::ApiKey, ..)) => {
            Some(("#create-auth-method", "The API key was not created"))
        }
        Some(Failed::AuthMethod(k, ..)) => Some((
            match k {
                NewKind::Jwt => "#create-jwt",
                NewKind::K8s => "#create-k8s",
                _ => "#create-aws-iam",
            },
            "The auth method was not created",
        )),
        Some(Failed::Role(..)) => Some(("#create-role", "The role was not created")),
        None => None,
    };
    Ok(html! {
        @if let Some(n) = notice { (n) }
        @if let Some((anchor, what)) = sent_back_to {
            p.notice.error { (what) ": " a href=(anchor) { "fix the marked fields in its form below" } "." }
        }
        p { "Logged in as " code { (session.caller.access_id) } ". An auth method is a way to log in (an API key here); a role's rules say what its holders may do. What you may change here is what your own roles allow." }
        h2 #auth-methods { "Auth methods" }
        @if methods.is_empty() {
            (view::empty("No auth methods you may list.", None))
        } @else {
            div.table-wrap { table #auth-method-list {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Access id" } th scope="col" { "Type" } th scope="col" { "Roles" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody { @for m in &methods { tr {
                    td { (m.method.name) }
                    td { code { (m.method.access_id) } }
                    td { (m.kind.as_str()) }
                    td { @for r in &m.roles { a href={"/ui/role?name=" (q(&r.role_name))} { (r.role_name) } br; } }
                    td {
                        // No one-click way to lock oneself out (the API still allows it).
                        @if m.method.access_id == session.caller.access_id { span.hint { "yours" } }
                        @else {
                            a.button href={"/ui/auth-method/edit?name=" (q(&m.method.name))} aria-label={"Edit auth method " (m.method.name)} { "Edit" } " "
                            @if m.kind == AuthMethodKind::ApiKey { form.inline method="post" action="/ui/access/auth-methods/reset" {
                                (view::csrf_field(csrf))
                                input type="hidden" name="name" value=(m.method.name);
                                button type="submit" aria-label={"Reset the access key of " (m.method.name)} { "Reset key" }
                            } " " }
                            form.inline method="post" action="/ui/access/auth-methods/delete" {
                                (view::csrf_field(csrf))
                                input type="hidden" name="name" value=(m.method.name);
                                button.danger type="submit" aria-label={"Delete auth method " (m.method.name)} { "Delete" }
                            }
                        }
                    }
                } } }
            } }
        }
        h3 { "Create an API key" }
        p.hint { "Its access key is shown once, on the next page. Give it a role afterwards: a key without roles may do nothing." }
        @let (f, e) = if am_kind == Some(NewKind::ApiKey) { (am_form, am_errors) } else { (&empty_form, &no_errors) };
        (view::other_errors(e, AUTH_METHOD_FIELDS))
        form.stack #create-auth-method method="post" action="/ui/access/auth-methods/new" novalidate {
            (view::csrf_field(csrf))
            (view::prefixed_field("am", &Field { name: "name", label: "Name", kind: "text", value: f.get("name").unwrap_or_default(),
                hint: "A path, such as /ci/deployer.", required: true }, e))
            (view::prefixed_field("am", &Field { name: "description", label: "Description", kind: "text", value: f.get("description").unwrap_or_default(),
                hint: "", required: false }, e))
            button type="submit" { "Create API key" }
        }
        h3 { "Create a workload-identity auth method" }
        p.hint { "Workloads log in with the identity they already have, so there is no secret to hand out. Give the method a role afterwards, narrowed by sub-claims to the workloads meant to hold it." }
        @for kind in [NewKind::Jwt, NewKind::K8s, NewKind::AwsIam] {
            @let (f, e) = if am_kind == Some(kind) { (am_form, am_errors) } else { (&empty_form, &no_errors) };
            (workload_form(kind, csrf, f, e, am_kind == Some(kind)))
        }
        h2 #roles { "Roles" }
        @if roles.is_empty() {
            (view::empty("No roles you may list.", None))
        } @else {
            div.table-wrap { table #role-list {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Rules" } th scope="col" { "Held by" } th scope="col" { "Description" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody { @for r in &roles { tr {
                    td { a href={"/ui/role?name=" (q(&r.role.name))} { (r.role.name) } }
                    td { @if r.rules.is_empty() { "none: allows nothing" } @else {
                        @for rule in &r.rules { code { (rule.rule_type) " " (rule.path) } ": " (rule.capabilities) br; } } }
                    td { @if r.auth_methods.is_empty() { "no auth method" }
                        @for (_, name, access_id) in &r.auth_methods { (name) " (" code { (access_id) } ")" br; } }
                    td { (r.role.description) }
                    td { form.inline method="post" action="/ui/access/roles/delete" {
                        (view::csrf_field(csrf))
                        input type="hidden" name="name" value=(r.role.name);
                        button.danger type="submit" aria-label={"Delete role " (r.role.name)} { "Delete" }
                    } }
                } } }
            } }
        }
        h3 { "Create a role" }
        (view::other_errors(role_errors, ROLE_FIELDS))
        form.stack #create-role method="post" action="/ui/access/roles/new" novalidate {
            (view::csrf_field(csrf))
            (view::field(&Field { name: "name", label: "Name", kind: "text", value: role_form.get("name").unwrap_or_default(),
                hint: "A path, such as /ci/s3-reader.", required: true }, role_errors))
            (view::field(&Field { name: "description", label: "Description", kind: "text", value: role_form.get("description").unwrap_or_default(),
                hint: "", required: false }, role_errors))
            (select_field("audit-access", "Audit access", &AUDIT_ACCESS.map(|a| (a, a)),
                role_form.get("audit-access").unwrap_or("none"),
                "Which audit events holders may read: none, their own, or all.", role_errors))
            (view::field(&Field { name: "delete_protection", label: "Delete protection", kind: "checkbox",
                value: role_form.get("delete_protection").unwrap_or_default(), hint: "A protected role cannot be deleted until this is lifted.", required: false }, role_errors))
            button type="submit" { "Create role" }
        }
    })
}

/// One input of a workload-identity form: its field, label, kind and hint.
type Input = (&'static str, &'static str, &'static str, &'static str);

/// The inputs of each workload-identity form beyond the name and description, as the API's
/// fields (`create-auth-method-oauth2`, `-k8s`, `-aws-iam`).
fn workload_inputs(kind: NewKind) -> Vec<Input> {
    let lists = "Comma-separated.";
    let mut inputs: Vec<Input> = match kind {
        NewKind::Jwt => vec![
            ("jwks-uri", "JWKS URL", "url", "Where the issuer publishes its keys, such as https://token.actions.githubusercontent.com/.well-known/jwks. Or paste the keys below instead."),
            ("jwks-json-data", "JWKS (JSON document)", "textarea", "The issuer's public keys, {\"keys\": [...]}, instead of the URL."),
            ("issuer", "Issuer", "text", "The iss tokens must carry, such as https://token.actions.githubusercontent.com."),
            ("audience", "Audience", "text", lists),
            ("unique-identifier", "Unique identifier", "text", "The claim that names the caller in the audit trail, such as sub or repository."),
            ("bound-client-ids", "Bound client ids", "text", lists),
            ("bound-claims", "Bound claims", "textarea", "Claims every token must match, one per line: claim=value1,value2 (* globs)."),
        ],
        NewKind::K8s => vec![
            ("jwks-json-data", "Cluster JWKS (JSON document)", "textarea", "The cluster's service-account signing keys: kubectl get --raw /openid/v1/jwks."),
            ("k8s-issuer", "Service-account issuer", "text", "The iss of the cluster's service-account tokens."),
            ("audience", "Audience", "text", lists),
            ("bound-namespaces", "Bound namespaces", "text", lists),
            ("bound-sa-names", "Bound service accounts", "text", lists),
            ("bound-pod-names", "Bound pods", "text", lists),
        ],
        NewKind::AwsIam | NewKind::ApiKey => vec![
            ("bound-aws-account-id", "Bound account ids", "text", "The AWS accounts whose principals may log in. Comma-separated."),
            ("bound-arn", "Bound ARNs", "text", "Comma-separated; * globs."),
            ("bound-role-name", "Bound role names", "text", lists),
            ("bound-user-name", "Bound user names", "text", lists),
            ("bound-role-id", "Bound role ids", "text", lists),
            ("bound-user-id", "Bound user ids", "text", lists),
            ("sts-url", "STS URL", "url", "Where the gateway checks the signed request; AWS's global STS endpoint when empty."),
        ],
    };
    inputs.extend([
        (
            "force-sub-claims",
            "Force sub-claims",
            "checkbox",
            "Every role association of this method must name sub-claims.",
        ),
        (
            "jwt-ttl",
            "Token lifetime (minutes)",
            "number",
            "0 or empty: the gateway's token lifetime.",
        ),
        (
            "access-expires",
            "Access expires (Unix time)",
            "number",
            "No login after this time; 0 or empty: never.",
        ),
    ]);
    inputs
}

/// The create form of one workload-identity kind, in a `<details>` so that each shows only
/// its own fields; open when it was sent back with errors.
fn workload_form(
    kind: NewKind,
    csrf: &str,
    form: &Form,
    errors: &ValidationErrors,
    open: bool,
) -> Markup {
    let prefix = kind.prefix();
    let anchor = match kind {
        NewKind::Jwt => "create-jwt",
        NewKind::K8s => "create-k8s",
        _ => "create-aws-iam",
    };
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    html! {
        details.create #(anchor) open[open] {
            summary { "Create " (kind.with_article()) " auth method" }
            (view::other_errors(errors, kind.fields()))
            form.stack method="post" action="/ui/access/auth-methods/new" novalidate {
                (view::csrf_field(csrf))
                input type="hidden" name="kind" value=(kind.key());
                (view::prefixed_field(prefix, &Field { name: "name", label: "Name", kind: "text", value: &value("name"),
                    hint: "A path, such as /ci/github.", required: true }, errors))
                (workload_fields(kind, form, errors, None))
                button type="submit" { "Create " (kind.title()) " auth method" }
            }
        }
    }
}

/// The fields of a workload-identity form after its name. On the edit form (`keys_now`: what
/// the method verifies with now) the JWKS is never filled in: empty keeps it.
fn workload_fields(
    kind: NewKind,
    form: &Form,
    errors: &ValidationErrors,
    keys_now: Option<&str>,
) -> Markup {
    let prefix = kind.prefix();
    let value = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let keys_hint = keys_now.map(|k| format!("Now: {k}. Empty keeps it."));
    html! {
        (view::prefixed_field(prefix, &Field { name: "description", label: "Description", kind: "text", value: &value("description"),
            hint: "", required: false }, errors))
        @for (name, label, input, hint) in workload_inputs(kind) {
            @let hint = match (&keys_hint, name) {
                (Some(h), "jwks-uri" | "jwks-json-data") => h.as_str(),
                (Some(_), "issuer" | "k8s-issuer" | "sts-url") => "Empty keeps the current value.",
                (Some(_), "jwt-ttl" | "access-expires") => "Empty keeps the current value; 0 clears it.",
                _ => hint,
            };
            // The API requires the claim that names a JWT caller.
            (view::prefixed_field(prefix, &Field { name, label, kind: input, value: &value(name), hint, required: name == "unique-identifier" && keys_now.is_none() }, errors))
        }
        (view::prefixed_field(prefix, &Field { name: "delete_protection", label: "Delete protection", kind: "checkbox",
            value: &value("delete_protection"), hint: "A protected auth method cannot be deleted until this is lifted.", required: false }, errors))
    }
}

/// A labelled `<select>` with its inline errors.
fn select_field(
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    selected: &str,
    hint: &str,
    errors: &ValidationErrors,
) -> Markup {
    let id = format!("f-{name}");
    let messages: Vec<&str> = errors
        .iter()
        .filter(|e| e.field == name)
        .map(|e| e.message.as_str())
        .collect();
    let invalid = !messages.is_empty();
    html! {
        div class={"field" @if invalid {" invalid"}} {
            label for=(id) { (label) }
            select id=(id) name=(name) aria-describedby={(id) "-hint" @if invalid { " " (id) "-error" }}
                aria-invalid=[invalid.then_some("true")] {
                @for (value, text) in options { option value=(value) selected[*value == selected] { (text) } }
            }
            p.hint id={(id) "-hint"} { (hint) }
            @if invalid { p.field-error id={(id) "-error"} { @for m in &messages { (m) br; } } }
        }
    }
}

/// `POST /ui/access/auth-methods/new`: by the form's `kind`, `create-auth-method` (the new
/// key is shown once) or `create-auth-method-oauth2`, `-k8s`, `-aws-iam` (no secret: back to
/// the access page, which lists the new method).
pub async fn create_auth_method(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let form = Form::from(form);
    let kind = NewKind::of(&form);
    let operation = kind
        .as_ref()
        .map_or("console:create-auth-method", |k| k.operation());
    post(req, state, form, (operation, Effect::Configure, "name"), move |p| async move {
        let kind = kind?;
        if kind != NewKind::ApiKey {
            return create_workload_method(p.state, p.session, p.form, kind).await;
        }
        let created = match request_of::<dto::CreateAuthMethod>(p.form, AUTH_METHOD_FIELDS) {
            Ok(dto) => api::create_auth_method(p.state, &p.session.caller, dto).await,
            Err(e) => Err(e),
        };
        let out = match created {
            Ok(out) => out,
            Err(e) => {
                let (errors, status) = inline(e, AUTH_METHOD_FIELDS)?;
                let body = access_page(p.state, p.session, None, Some(Failed::AuthMethod(kind, p.form, &errors))).await?;
                return Ok(sent_back(status, "Access".into(), body, &errors));
            }
        };
        p.state.invalidate_caches();
        let body = html! {
            (view::notice("ok", "API key created. Copy the access key now: it is shown only this once, the gateway keeps only its hash, and it cannot be shown again (reset-access-key makes a new one)."))
            dl.props {
                dt { "Name" } dd { (out.name) }
                dt { "Access id" } dd { code #new-access-id { (out.access_id) } }
            }
            h2 { "Access key" }
            pre.secret #new-access-key { (out.access_key) }
            h2 { "Log in with it" }
            pre.secret { "mayfly configure --access-id " (out.access_id) " --access-key '<the key above>'" }
            p { "It may do nothing until it holds a role: open a role under " a href="/ui/access#roles" { "Access" } " and give it to " code { (out.name) } "." }
        };
        // The audit record names the access id, never the key.
        Ok(Outcome::ok("API key created", Nav::Access, body).noting(format!("access id {}", out.access_id)))
    }.boxed_local())
    .await
}

/// A JWT, Kubernetes or AWS IAM auth method from its form, through the API's handler.
async fn create_workload_method(
    state: &AppState,
    session: &Session,
    form: &Form,
    kind: NewKind,
) -> Result<Outcome, ApiError> {
    let caller = &session.caller;
    let fields = kind.fields();
    let created = match kind {
        NewKind::Jwt => match request_of::<dto::CreateAuthMethodOAuth2>(form, fields) {
            Ok(dto) => api::create_auth_method_oauth2(state, caller, dto).await,
            Err(e) => Err(e),
        },
        NewKind::K8s => match request_of::<dto::CreateAuthMethodK8s>(form, fields) {
            Ok(dto) => api::create_auth_method_k8s(state, caller, dto).await,
            Err(e) => Err(e),
        },
        NewKind::AwsIam | NewKind::ApiKey => {
            match request_of::<dto::CreateAuthMethodAwsIam>(form, fields) {
                Ok(dto) => api::create_auth_method_aws_iam(state, caller, dto).await,
                Err(e) => Err(e),
            }
        }
    };
    match created {
        Ok(out) => {
            let name = name_in(form.get("name").unwrap_or_default(), "auth method")?;
            Ok(Outcome::redirect(format!(
                "/ui/access?created-auth-method={}&access-id={}#auth-methods",
                q(name.as_str()),
                q(&out.access_id)
            ))
            .noting(format!("access id {}", out.access_id)))
        }
        Err(e) => {
            let (errors, status) = inline(e, fields)?;
            let body = access_page(
                state,
                session,
                None,
                Some(Failed::AuthMethod(kind, form, &errors)),
            )
            .await?;
            Ok(sent_back(status, "Access".into(), body, &errors))
        }
    }
}

/// `POST /ui/access/auth-methods/reset`: `reset-access-key`. The new key is shown once, on
/// the answer to this POST; the audit record says only that the key changed and how many
/// tokens went with the old one.
pub async fn reset_access_key(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:reset-access-key", Effect::Configure, "name");
    post(req, state, form, op, |p| async move {
        let dto: dto::ResetAccessKey = request_of(p.form, &["name"])?;
        let (out, revoked) = api::reset_access_key(p.state, &p.session.caller, dto).await?;
        p.state.invalidate_caches();
        let name = name_in(p.raw, "auth method")?;
        let body = html! {
            (view::notice("ok", &format!("{name} has a new access key. The old key and the {revoked} token(s) issued with it no longer work. Copy the new key now: it is shown only this once.")))
            h2 { "New access key" }
            pre.secret #new-access-key { (out.access_key) }
            p { a href="/ui/access#auth-methods" { "Back to access" } }
        };
        Ok(Outcome::ok("Access key reset", Nav::Access, body)
            .noting(format!("new access key; {revoked} token(s) revoked")))
    }.boxed_local())
    .await
}

/// A form sent back with its errors (400, or 409 for a taken name), the errors in the audit
/// record.
fn sent_back(
    status: StatusCode,
    title: String,
    body: Markup,
    errors: &ValidationErrors,
) -> Outcome {
    Outcome::Page {
        status,
        title,
        nav: Nav::Access,
        body,
        problem: Some(errors.to_string()),
        detail: String::new(),
    }
}

/// `POST /ui/access/auth-methods/delete`: `delete-auth-method`.
pub async fn delete_auth_method(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:delete-auth-method", Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let dto: request::Named = request_of(p.form, &["name"])?;
            let out = api::delete_auth_method(p.state, &p.session.caller, dto).await?;
            Ok(Outcome::redirect(format!(
                "/ui/access?deleted-auth-method={}",
                q(&out.name)
            )))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/access/roles/new`: `create-role`.
pub async fn create_role(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:create-role", Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let done = match request_of::<dto::CreateRole>(p.form, ROLE_FIELDS) {
                Ok(dto) => api::create_role(p.state, &p.session.caller, dto).await,
                Err(e) => Err(e),
            };
            if let Err(e) = done {
                let (errors, status) = inline(e, ROLE_FIELDS)?;
                let failed = Some(Failed::Role(p.form, &errors));
                let body = access_page(p.state, p.session, None, failed).await?;
                return Ok(sent_back(status, "Access".into(), body, &errors));
            }
            let name = name_in(p.raw, "role")?;
            Ok(Outcome::redirect(format!(
                "/ui/role?name={}&created=1",
                q(name.as_str())
            )))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/access/roles/delete`: `delete-role`.
pub async fn delete_role(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:delete-role", Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let dto: request::Named = request_of(p.form, &["name"])?;
            api::delete_role(p.state, &p.session.caller, dto).await?;
            let name = name_in(p.raw, "role")?;
            Ok(Outcome::redirect(format!(
                "/ui/access?deleted-role={}",
                q(name.as_str())
            )))
        }
        .boxed_local()
    })
    .await
}

/// `GET /ui/role?name=`: `get-role`, with the forms that change it.
pub async fn role(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    let op = ("console:get-role", Effect::Read, Some("name"));
    get(req, state, query, op, |v| {
        async move {
            let name = name_in(v.raw, "role")?;
            let body = role_page(v.state, v.session, &name, done_notice(v.query), None).await?;
            Ok(Outcome::ok(name.to_string(), Nav::Access, body))
        }
        .boxed_local()
    })
    .await
}

/// Which form of the role page was sent back, with its values and errors.
enum RoleFailed<'a> {
    Rule(&'a Form, &'a ValidationErrors),
    Assoc(&'a Form, &'a ValidationErrors),
}

async fn role_page(
    state: &AppState,
    session: &Session,
    name: &ItemName,
    notice: Option<Markup>,
    failed: Option<RoleFailed<'_>>,
) -> Result<Markup, ApiError> {
    let r = roles::get(state, &session.caller, name).await?;
    // Only the auth methods the caller may list are offered; any other name typed into the
    // request is checked by the core as the API's would be.
    let methods = auth_methods::list(state, &session.caller, None).await?;
    // An association's sub-claims, as the auth methods the caller may list show them.
    let sub_claims_of = |assoc_id: &str| {
        methods
            .iter()
            .flat_map(|m| &m.roles)
            .find(|held| held.assoc_id == assoc_id)
            .map(|held| held.sub_claims.clone())
    };
    let empty_form = Form(Vec::new());
    let no_errors = ValidationErrors::new();
    let (rule_form, rule_errors) = match &failed {
        Some(RoleFailed::Rule(f, e)) => (*f, *e),
        _ => (&empty_form, &no_errors),
    };
    let (assoc_form, assoc_errors) = match &failed {
        Some(RoleFailed::Assoc(f, e)) => (*f, *e),
        _ => (&empty_form, &no_errors),
    };
    let ticked: Vec<&str> = rule_form
        .0
        .iter()
        .filter(|(k, _)| k == "capability")
        .map(|(_, v)| v.as_str())
        .collect();
    let cap_errors: Vec<&str> = rule_errors
        .iter()
        .filter(|e| e.field == "capability")
        .map(|e| e.message.as_str())
        .collect();
    let csrf = &session.csrf;
    let role_name = r.role.name.as_str();
    Ok(html! {
        @if let Some(n) = notice { (n) }
        dl.props {
            dt { "Description" } dd { (r.role.description) }
            dt { "Audit access" } dd { (r.role.audit_access) }
            dt { "Delete protection" } dd { @if r.role.delete_protection { "yes" } @else { "no" } }
            dt { "Created" } dd { (view::time(r.role.created_at)) }
        }
        h2 { "Rules" }
        div.table-wrap { table #rules {
            thead { tr { th scope="col" { "Rule type" } th scope="col" { "Path" } th scope="col" { "Capabilities" } th scope="col" { span.visually-hidden { "Actions" } } } }
            tbody {
                @for rule in &r.rules { tr {
                    td { (rule.rule_type) } td { code { (rule.path) } } td { (rule.capabilities) }
                    td { form.inline method="post" action="/ui/role/rules/delete" {
                        (view::csrf_field(csrf))
                        input type="hidden" name="role-name" value=(role_name);
                        input type="hidden" name="rule-type" value=(rule.rule_type);
                        input type="hidden" name="path" value=(rule.path);
                        button.danger type="submit" aria-label={"Delete rule " (rule.rule_type) " " (rule.path)} { "Delete" }
                    } }
                } }
                @if r.rules.is_empty() { tr { td colspan="4" { "No rules: this role allows nothing." } } }
            }
        } }
        h3 { "Set a rule" }
        p.hint { "A rule of the same type and path replaces the one there." }
        (view::other_errors(rule_errors, RULE_FIELDS))
        form.stack #set-rule method="post" action="/ui/role/rules/set" novalidate {
            (view::csrf_field(csrf))
            input type="hidden" name="role-name" value=(role_name);
            (select_field("rule-type", "Rule type", &RULE_TYPES, rule_form.get("rule-type").unwrap_or("item-rule"),
                "What the path names.", rule_errors))
            (view::field(&Field { name: "path", label: "Path", kind: "text", value: rule_form.get("path").unwrap_or_default(),
                hint: "A path glob, such as /team-a/*.", required: true }, rule_errors))
            fieldset class={"field" @if !cap_errors.is_empty() {" invalid"}} aria-describedby=[(!cap_errors.is_empty()).then_some("f-capability-error")] {
                legend { "Capabilities" }
                @for c in CAPABILITIES {
                    label.check { input type="checkbox" name="capability" value=(c) checked[ticked.contains(&c)]; " " (c) }
                }
                p.hint { "use: targets only (build dynamic secrets on it without reading its secret). deny overrides every other rule." }
                @if !cap_errors.is_empty() { p.field-error #f-capability-error { @for m in &cap_errors { (m) br; } } }
            }
            button type="submit" { "Set rule" }
        }
        h2 { "Held by" }
        @if r.auth_methods.is_empty() {
            p #no-holders { "No auth method holds this role." }
        } @else {
            div.table-wrap { table #holders {
                thead { tr { th scope="col" { "Auth method" } th scope="col" { "Access id" } th scope="col" { "Sub-claims" } th scope="col" { "Association" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody { @for (assoc_id, am_name, access_id) in &r.auth_methods { tr {
                    td { (am_name) } td { code { (access_id) } }
                    td { @match sub_claims_of(assoc_id) {
                        Some(c) if !c.is_empty() => {
                            @for (claim, values) in &c.claims { code { (claim) "=" (values.join(",")) } br; }
                            @if !c.case_sensitive { span.hint { "case-insensitive" } }
                        }
                        Some(_) => { "every token" }
                        None => { span.hint { "not shown: you may not list this auth method" } }
                    } }
                    td { code { (assoc_id) } }
                    td { form.inline method="post" action="/ui/role/assoc/delete" {
                        (view::csrf_field(csrf))
                        input type="hidden" name="role-name" value=(role_name);
                        input type="hidden" name="assoc-id" value=(assoc_id);
                        button.danger type="submit" aria-label={"Take the role from " (am_name)} { "Take back" }
                    } }
                } } }
            } }
        }
        h3 { "Give this role to an auth method" }
        (view::other_errors(assoc_errors, ASSOC_FIELDS))
        @if methods.is_empty() {
            (view::empty("No auth methods you may list.", None))
        } @else {
            form.stack #associate method="post" action="/ui/role/assoc/new" novalidate {
                (view::csrf_field(csrf))
                input type="hidden" name="role-name" value=(role_name);
                @let options: Vec<(&str, &str)> = methods.iter().map(|m| (m.method.name.as_str(), m.method.name.as_str())).collect();
                (select_field("am-name", "Auth method", &options, assoc_form.get("am-name").unwrap_or_default(),
                    "Its tokens get this role's rules from their next login.", assoc_errors))
                (view::field(&Field { name: "sub-claims", label: "Sub-claims", kind: "textarea", value: assoc_form.get("sub-claims").unwrap_or_default(),
                    hint: "JWT, Kubernetes and AWS IAM methods: only tokens whose claims match get the role. One claim per line: claim=value1,value2 (* globs), such as repository=org/repo-a. Empty: every token of the method (an API key takes none).", required: false }, assoc_errors))
                (view::field(&Field { name: "case-sensitive", label: "Compare sub-claims case-sensitively", kind: "checkbox",
                    value: if assoc_form.0.is_empty() { "true" } else { assoc_form.get("case-sensitive").unwrap_or_default() },
                    hint: "", required: false }, assoc_errors))
                button type="submit" { "Give role" }
            }
        }
        h2 { "Delete this role" }
        form.actions method="post" action="/ui/access/roles/delete" {
            (view::csrf_field(csrf))
            input type="hidden" name="name" value=(role_name);
            button.danger type="submit" { "Delete role " (role_name) }
            span.hint { "Its rules and associations go with it." }
        }
        p { a href="/ui/access" { "Back to access" } }
    })
}

/// Which form of the role page an action's refusal goes back to: the two with fields a
/// person fills in. The delete buttons carry only hidden fields, so their refusals are pages.
#[derive(Clone, Copy)]
enum RoleForm {
    Rule,
    Assoc,
}

/// A role-page action (its CSRF token checked by [`post`]): the API's request from the form,
/// the API's handler; then back to the role page, or the page again with the parser's errors
/// inline on `form_kind`'s form.
async fn role_action<T, F, Fut>(
    Posted {
        state,
        session,
        form,
        ..
    }: Posted<'_>,
    (fields, form_kind): (&'static [&'static str], Option<RoleForm>),
    done: &str,
    run: F,
) -> Result<Outcome, ApiError>
where
    T: serde::de::DeserializeOwned,
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    let role_raw = form.get("role-name").unwrap_or_default();
    let result = match request_of::<T>(form, fields) {
        Ok(dto) => run(dto).await,
        Err(e) => Err(e),
    };
    let name = name_in(role_raw, "role")?;
    match result {
        Ok(()) => Ok(Outcome::redirect(format!(
            "/ui/role?name={}&{done}=1",
            q(name.as_str())
        ))),
        Err(e) => {
            let Some(kind) = form_kind else {
                return Err(e);
            };
            let (errors, status) = inline(e, fields)?;
            let failed = match kind {
                RoleForm::Assoc => RoleFailed::Assoc(form, &errors),
                RoleForm::Rule => RoleFailed::Rule(form, &errors),
            };
            let body = role_page(state, session, &name, None, Some(failed)).await?;
            Ok(sent_back(status, name.to_string(), body, &errors))
        }
    }
}

/// The API handler behind a role-page form, its answer dropped (the role page says what was
/// done).
type RoleRun<T> =
    for<'a> fn(&'a AppState, &'a Caller, T) -> LocalBoxFuture<'a, Result<(), ApiError>>;

/// A role-page form's POST, as `operation` on the role its `role-name` names: [`role_action`]
/// with `run`, refusals sent back as `how` says, `done` on the role page when it succeeds.
async fn role_post<T: serde::de::DeserializeOwned + 'static>(
    req: HttpRequest,
    state: State,
    form: FormBody,
    operation: &str,
    (how, done): ((&'static [&'static str], Option<RoleForm>), &'static str),
    run: RoleRun<T>,
) -> HttpResponse {
    let op = (operation, Effect::Configure, "role-name");
    post(req, state, form, op, move |p| {
        let run = move |dto| run(p.state, &p.session.caller, dto);
        role_action(p, how, done, run).boxed_local()
    })
    .await
}

/// `POST /ui/role/rules/set`: `set-role-rule`.
pub async fn set_rule(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let how = ((RULE_FIELDS, Some(RoleForm::Rule)), "rule-set");
    role_post::<dto::RoleRule>(
        req,
        state,
        form,
        "console:set-role-rule",
        how,
        |st, c, dto| api::set_role_rule(st, c, dto).map_ok(drop).boxed_local(),
    )
    .await
}

/// `POST /ui/role/rules/delete`: `delete-role-rule`.
pub async fn delete_rule(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let how = (
        (&["role-name", "rule-type", "path"][..], None),
        "rule-deleted",
    );
    role_post::<dto::RoleRule>(
        req,
        state,
        form,
        "console:delete-role-rule",
        how,
        |st, c, dto| api::delete_role_rule(st, c, dto).map_ok(drop).boxed_local(),
    )
    .await
}

/// `POST /ui/role/assoc/new`: `assoc-role-am`, narrowed by the sub-claims given (`claim=values`
/// lines read as the API's object; a claim named twice is refused).
pub async fn associate(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let how = ((ASSOC_FIELDS, Some(RoleForm::Assoc)), "associated");
    role_post::<dto::AssocRoleAuthMethod>(
        req,
        state,
        form,
        "console:assoc-role-am",
        how,
        |st, c, dto| api::assoc_role_am(st, c, dto).map_ok(drop).boxed_local(),
    )
    .await
}

/// `POST /ui/role/assoc/delete`: `delete-assoc`.
pub async fn dissociate(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let how = ((&["role-name", "assoc-id"][..], None), "dissociated");
    role_post::<dto::DeleteAssoc>(
        req,
        state,
        form,
        "console:delete-assoc",
        how,
        |st, c, dto| api::delete_assoc(st, c, dto).map_ok(drop).boxed_local(),
    )
    .await
}

impl NewKind {
    /// The form of a stored method's kind.
    fn of_stored(kind: AuthMethodKind) -> NewKind {
        match kind {
            AuthMethodKind::OAuth2 => NewKind::Jwt,
            AuthMethodKind::K8s => NewKind::K8s,
            AuthMethodKind::AwsIam => NewKind::AwsIam,
            AuthMethodKind::ApiKey => NewKind::ApiKey,
        }
    }
}

/// A stored workload-identity method as its edit form's values (never its JWKS, which the
/// form leaves empty to keep), and what it verifies with now.
fn edit_values(m: &auth_methods::AuthMethodView) -> (Vec<(String, String)>, String) {
    let mut v: Vec<(String, String)> = vec![
        ("name".into(), m.method.name.clone()),
        ("description".into(), m.method.description.clone()),
    ];
    if m.method.delete_protection {
        v.push(("delete_protection".into(), "true".into()));
    }
    let mut put = |k: &str, val: String| v.push((k.to_owned(), val));
    let common =
        |force: bool, ttl: Option<u32>, expires: Option<i64>, put: &mut dyn FnMut(&str, String)| {
            if force {
                put("force-sub-claims", "true".into());
            }
            put("jwt-ttl", ttl.map(|t| t.to_string()).unwrap_or_default());
            put(
                "access-expires",
                expires.map(|t| t.to_string()).unwrap_or_default(),
            );
        };
    let keys = if let Some(j) = &m.jwt {
        put("issuer", j.issuer.clone().unwrap_or_default());
        put("audience", j.audiences.join(","));
        put("unique-identifier", j.unique_identifier.clone());
        put("bound-client-ids", j.bound_client_ids.join(","));
        let claims: Vec<String> = j
            .bound_claims
            .claims
            .iter()
            .map(|(c, vals)| format!("{c}={}", vals.join(",")))
            .collect();
        put("bound-claims", claims.join("\n"));
        common(
            j.force_sub_claims,
            j.token_ttl_minutes,
            j.access_expires,
            &mut put,
        );
        match &j.jwks {
            JwksSource::Uri(u) => format!("the keys at {u}"),
            JwksSource::Inline(_) => "keys given inline".to_owned(),
        }
    } else if let Some(k) = &m.k8s {
        put("k8s-issuer", k.issuer.clone().unwrap_or_default());
        put("audience", k.audiences.join(","));
        put("bound-namespaces", k.bound_namespaces.join(","));
        put("bound-sa-names", k.bound_sa_names.join(","));
        put("bound-pod-names", k.bound_pod_names.join(","));
        common(
            k.force_sub_claims,
            k.token_ttl_minutes,
            k.access_expires,
            &mut put,
        );
        if k.jwks.is_some() {
            "the cluster's keys given inline".to_owned()
        } else {
            "no keys given (a k8s auth config verifies its logins)".to_owned()
        }
    } else if let Some(a) = &m.aws_iam {
        put("bound-aws-account-id", a.bound_account_ids.join(","));
        put("bound-arn", a.bound_arns.join(","));
        put("bound-role-name", a.bound_role_names.join(","));
        put("bound-user-name", a.bound_user_names.join(","));
        put("bound-role-id", a.bound_role_ids.join(","));
        put("bound-user-id", a.bound_user_ids.join(","));
        put("sts-url", a.sts_url.clone());
        common(
            a.force_sub_claims,
            a.token_ttl_minutes,
            a.access_expires,
            &mut put,
        );
        String::new()
    } else {
        String::new()
    };
    (v, keys)
}

async fn edit_page(
    state: &AppState,
    session: &Session,
    name: &ItemName,
    sent: Option<(&Form, &ValidationErrors)>,
) -> Result<(NewKind, Markup), ApiError> {
    let m = auth_methods::get(state, &session.caller, name).await?;
    let kind = NewKind::of_stored(m.kind);
    let (values, keys_now) = edit_values(&m);
    let stored = Form(values);
    let no_errors = ValidationErrors::new();
    let (form, errors) = sent.unwrap_or((&stored, &no_errors));
    let body = html! {
        p { "Each field replaces the stored one, checked as at creation. Sessions already open keep their token." }
        (view::other_errors(errors, kind.fields()))
        form.stack #edit-auth-method method="post" action="/ui/auth-method/edit" novalidate {
            (view::csrf_field(&session.csrf))
            input type="hidden" name="kind" value=(kind.key());
            input type="hidden" name="name" value=(name.as_str());
            @if kind == NewKind::ApiKey {
                // An API key's key is reset on the access page, never edited.
                (view::prefixed_field("am", &Field { name: "description", label: "Description", kind: "text", value: form.get("description").unwrap_or_default(),
                    hint: "", required: false }, errors))
                (view::prefixed_field("am", &Field { name: "delete_protection", label: "Delete protection", kind: "checkbox",
                    value: form.get("delete_protection").unwrap_or_default(), hint: "A protected auth method cannot be deleted until this is lifted.", required: false }, errors))
            } @else {
                (workload_fields(kind, form, errors, Some(if keys_now.is_empty() { "no keys (AWS STS checks the logins)" } else { &keys_now })))
            }
            button type="submit" { "Save changes" }
        }
        p { a href="/ui/access#auth-methods" { "Back to access" } }
    };
    Ok((kind, body))
}

/// `GET /ui/auth-method/edit?name=`: an auth method's edit form (an API key's description and
/// delete protection; a JWT, Kubernetes or AWS IAM method's settings), filled from
/// `get-auth-method`'s view (`read` on the method).
pub async fn edit_form(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    let op = ("console:get-auth-method", Effect::Read, Some("name"));
    get(req, state, query, op, |v| {
        async move {
            let name = name_in(v.raw, "auth method")?;
            let (_, body) = edit_page(v.state, v.session, &name, None).await?;
            Ok(Outcome::ok(format!("Edit {name}"), Nav::Access, body))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/auth-method/edit`: `update-auth-method`, `update-auth-method-oauth2`, `-k8s` or
/// `-aws-iam` by the form's `kind`, through the API's handler (which refuses a kind that is
/// not the stored one).
pub async fn edit(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let form = Form::from(form);
    let operation = match form.get("kind") {
        Some("jwt") => "console:update-auth-method-oauth2",
        Some("k8s") => "console:update-auth-method-k8s",
        Some("aws_iam") => "console:update-auth-method-aws-iam",
        _ => "console:update-auth-method",
    };
    let op = (operation, Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let Posted { form, session, .. } = p;
            let kind = NewKind::of(form)?;
            let name = name_in(p.raw, "auth method")?;
            let (st, caller) = (p.state, &session.caller);
            let fields = kind.fields();
            let done = match kind {
                NewKind::Jwt => match request_keeping::<dto::UpdateAuthMethodOAuth2>(
                    form,
                    fields,
                    CLEARED_WHEN_EMPTY,
                ) {
                    Ok(dto) => api::update_auth_method_oauth2(st, caller, dto).await,
                    Err(e) => Err(e),
                },
                NewKind::K8s => match request_keeping::<dto::UpdateAuthMethodK8s>(
                    form,
                    fields,
                    CLEARED_WHEN_EMPTY,
                ) {
                    Ok(dto) => api::update_auth_method_k8s(st, caller, dto).await,
                    Err(e) => Err(e),
                },
                NewKind::AwsIam => match request_keeping::<dto::UpdateAuthMethodAwsIam>(
                    form,
                    fields,
                    CLEARED_WHEN_EMPTY,
                ) {
                    Ok(dto) => api::update_auth_method_aws_iam(st, caller, dto).await,
                    Err(e) => Err(e),
                },
                NewKind::ApiKey => {
                    match request_keeping::<dto::UpdateAuthMethod>(form, fields, CLEARED_WHEN_EMPTY)
                    {
                        Ok(dto) => api::update_auth_method(st, caller, dto).await,
                        Err(e) => Err(e),
                    }
                }
            };
            match done {
                Ok((_, detail)) => Ok(Outcome::redirect(format!(
                    "/ui/access?updated-auth-method={}#auth-methods",
                    q(name.as_str())
                ))
                .noting(detail)),
                Err(e) => {
                    let (errors, status) = inline(e, fields)?;
                    let (_, body) = edit_page(st, session, &name, Some((form, &errors))).await?;
                    Ok(sent_back(status, format!("Edit {name}"), body, &errors))
                }
            }
        }
        .boxed_local()
    })
    .await
}
