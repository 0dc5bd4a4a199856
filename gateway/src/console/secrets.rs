//! Dynamic secrets: the folder tree (`items::list`, as `list-items`), a dynamic secret's
//! details (`dynamic_secrets::get`) with its live credentials (`tmp_creds::list`), "get a
//! credential" (`leases::issue::get_value`, as `get-dynamic-secret-value`), revoke and
//! revoke-all (`tmp_creds::revoke_by_id` / `revoke_all`). The create and edit forms and
//! delete are in [`super::secret_form`].
//!
//! The item a form names is only ever a request field: the core authorizes it for the
//! session's caller exactly as it would the same field of an API request.

use actix_web::{HttpRequest, HttpResponse};
use futures_util::FutureExt;
use maud::html;
use mayfly_app::{
    access::{listed, Capability, ResourceKind},
    dynamic_secrets, items,
    leases::issue::{self, GetValue, Requester},
    tmp_creds,
};
use mayfly_domain::{FolderPath, ItemName};
use mayfly_store::LeaseId;

use super::{
    finish, get, post,
    view::{self, q, Nav},
    FormBody, Outcome, Posted, Query, Session, State, Viewed,
};
use crate::{error::ApiError, operation::Effect};

fn name_of(raw: Option<&str>) -> Result<ItemName, ApiError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("name: required: the dynamic secret, such as /team/aws/s3-reader")
        })?;
    ItemName::parse(raw).map_err(|e| ApiError::bad_request(format!("name: {e}")))
}

/// `GET /ui/secrets?folder=/team`: the folder's sub-folders and dynamic secrets.
pub async fn list(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let folder_raw = query
        .get("folder")
        .map(|s| s.trim())
        .unwrap_or_default()
        .to_owned();
    finish(&state, &req, &session, "console:list-items", Effect::Read, &folder_raw, async {
        let folder = if folder_raw.is_empty() || folder_raw == "/" {
            FolderPath::root()
        } else {
            FolderPath::parse(&folder_raw)
                .map_err(|e| ApiError::bad_request(format!("folder: {e}")))?
        };
        let listing = items::list(
            &state,
            &session.caller,
            &items::ListItems {
                folder: folder.clone(),
                filter: None,
                tag: None,
                current_folder_only: true,
            },
        )
        .await?;
        let mut crumbs = Vec::new();
        if !folder.is_root() {
            let mut so_far = String::new();
            for part in folder.as_str().trim_start_matches('/').split('/') {
                so_far.push('/');
                so_far.push_str(part);
                crumbs.push((so_far.clone(), part.to_owned()));
            }
        }
        let body = html! {
            @if let Some(gone) = query.get("deleted") {
                (view::notice("ok", &format!(
                    "Dynamic secret {gone} deleted; {} live credential(s) handed to the revoker.",
                    query.get("revoking").map_or("0", String::as_str)
                )))
            }
            div.actions { a.button href="/ui/secrets/new" { "Create a dynamic secret" } }
            nav aria-label="Folder" { p {
                a href="/ui/secrets" { "/" }
                @for (path, part) in &crumbs {
                    " / " a href={"/ui/secrets?folder=" (q(path))} { (part) }
                }
            } }
            @if listing.folders.is_empty() && listing.items.is_empty() {
                (view::empty(
                    if folder.is_root() {
                        "No dynamic secrets yet (or none your roles let you list): create one."
                    } else {
                        "This folder holds nothing you may list."
                    },
                    Some(("/ui/secrets/new", "Create a dynamic secret")),
                ))
            }
            @if !listing.folders.is_empty() {
                h2 { "Folders" }
                ul { @for f in &listing.folders {
                    li { a href={"/ui/secrets?folder=" (q(f))} { (f) "/" } }
                } }
            }
            @if !listing.items.is_empty() {
                h2 { "Dynamic secrets" }
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Mode" }
                        th scope="col" { "TTL" } th scope="col" { "Target" }
                    } }
                    tbody { @for item in &listing.items { tr {
                        td { a href={"/ui/secret?name=" (q(&item.row.name))} { (item.row.name) } }
                        td { code { (item.spec.mode().as_str()) } }
                        td { (item.spec.ttl().original()) }
                        td { @if let Some((_, t, _)) = &item.target { (t) } @else { "—" } }
                    } } }
                } }
            }
        };
        Ok(Outcome::ok("Dynamic secrets", Nav::Secrets, body))
    })
    .await
}

/// `GET /ui/secret?name=...`: details, "get a credential", live credentials.
pub async fn details(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    get(req, state, query, ("console:get-dynamic-secret", Effect::Read, Some("name")), |v| {
        async move {
            let Viewed { state, session, query, raw } = v;
            let name = name_of(Some(raw))?;
            let d = dynamic_secrets::get(state, &session.caller, &name).await?;
            let show_target =
                !d.target.is_private && listed(&session.caller, ResourceKind::Target, None, &d.target.name);
            let creds = match tmp_creds::authorize(state, &session.caller, &name, Capability::Read).await {
                Ok(g) => Some(tmp_creds::list(state, &g).await?),
                Err(mayfly_app::error::AppError::Denied(_)) => None,
                Err(e) => return Err(e.into()),
            };
            // `tmp_creds::list` shows live credentials only (ended ones are in the audit trail).
            let live: Vec<_> = creds.iter().flatten().collect();
            let spec = &d.spec;
            let body = html! {
                @if query.contains_key("created") { (view::notice("ok", "Dynamic secret created.")) }
                @if query.contains_key("updated") { (view::notice("ok", "Dynamic secret updated.")) }
                div.actions {
                    a.button href={"/ui/secret/edit?name=" (q(name.as_str()))} { "Edit" }
                    a.button.danger href={"/ui/secret/delete?name=" (q(name.as_str()))} { "Delete" }
                }
                @if let Some(n) = query.get("revoked") {
                    (view::notice("ok", &format!("Revoked: {n}.")))
                }
                dl.props {
                    dt { "Mode" } dd { code { (spec.mode().as_str()) } }
                    dt { "TTL" } dd { (spec.ttl().original()) }
                    @if let Some(max) = spec.max_ttl() { dt { "Max TTL" } dd { (max.original()) } }
                    dt { "Target" } dd {
                        @if d.target.is_private { "inline credentials (access key id "
                            code { (d.inline_access_key_id.clone().unwrap_or_default()) } ")" }
                        @else if show_target { a href={"/ui/target?name=" (q(&d.target.name))} { (d.target.name) } }
                        @else { "(a target you may not list)" }
                    }
                    dt { "Policies" } dd { @if spec.policies().is_empty() { "none" } @else {
                        @for p in spec.policies() { code { (p.as_str()) } br; } } }
                    dt { "Groups" } dd { @if spec.groups().is_empty() { "none" } @else {
                        @for g in spec.groups() { code { (g.as_str()) } br; } } }
                    @if let Some(doc) = spec.policy_document() { dt { "Inline policy" } dd { pre { (doc.as_str()) } } }
                    dt { "Programmatic access" } dd { (yes_no(spec.programmatic_access())) }
                    dt { "Console access" } dd { (yes_no(spec.console_access())) }
                    dt { "Delete protection" } dd { (yes_no(spec.delete_protection())) }
                    @if let Some(desc) = spec.description() { dt { "Description" } dd { (desc) } }
                    dt { "Created" } dd { (view::time(d.row.created_at)) }
                }
                h2 { "Get a credential" }
                form.actions method="post" action="/ui/secret/credential" {
                    (view::csrf_field(&session.csrf))
                    input type="hidden" name="name" value=(name.as_str());
                    button type="submit" { "Get a credential" }
                    span.hint { "Issues a new credential now; its secret is shown once." }
                }
                h2 { "Live credentials" }
                @match &creds {
                    None => p { "Your roles do not let you read this dynamic secret's credentials." }
                    Some(_) if live.is_empty() => p #no-live { "No live credentials." }
                    Some(_) => {
                        div.table-wrap { table #live-credentials {
                            thead { tr {
                                th scope="col" { "Id" } th scope="col" { "State" } th scope="col" { "Access key id / session" }
                                th scope="col" { "Issued to" } th scope="col" { "Expires" } th scope="col" { span.visually-hidden { "Actions" } }
                            } }
                            tbody { @for l in &live { tr {
                                td { code { (l.id.as_str()) } }
                                td { (l.state.as_str()) @if let Some(e) = &l.last_error { br; span.hint { (e) } } }
                                td { code { (l.access_key_id.clone().or(l.session_name.clone()).unwrap_or_default()) } }
                                td { code { (l.created_by) } }
                                td.nowrap { (view::time(l.expires_at)) }
                                td { form.inline method="post" action="/ui/secret/revoke" {
                                    (view::csrf_field(&session.csrf))
                                    input type="hidden" name="name" value=(name.as_str());
                                    input type="hidden" name="tmp-creds-id" value=(l.id.as_str());
                                    button.danger type="submit" aria-label={"Revoke " (l.id.as_str())} { "Revoke" }
                                } }
                            } } }
                        } }
                        form.actions method="post" action="/ui/secret/revoke" {
                            (view::csrf_field(&session.csrf))
                            input type="hidden" name="name" value=(name.as_str());
                            input type="hidden" name="revoke-all" value="true";
                            button.danger type="submit" { "Revoke all live credentials" }
                        }
                    }
                }
            };
            Ok(Outcome::ok(name.to_string(), Nav::Secrets, body))
        }
        .boxed_local()
    })
    .await
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `POST /ui/secret/credential`: a new credential, shown once (never stored by the console;
/// the page is `no-store`).
pub async fn get_credential(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    post(req, state, form, ("console:get-dynamic-secret-value", Effect::Issue, "name"), |p| {
        async move {
            let Posted { req, state, session, raw, .. } = p;
            let name = name_of(Some(raw))?;
            let value = issue::get_value(
                state,
                Requester {
                    caller: session.caller.clone(),
                    client_address: crate::call::client_address(req),
                },
                GetValue {
                    name: name.clone(),
                    args: Vec::new(),
                    timeout: None,
                },
            )
            .await?;
            let get = |k: &str| value.get(k).cloned().unwrap_or_default();
            let mut exports = format!(
                "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\n",
                shell_quote(&get("access_key_id")),
                shell_quote(&get("secret_access_key"))
            );
            if let Some(token) = value.get("security_token").filter(|t| !t.is_empty()) {
                exports.push_str(&format!("export AWS_SESSION_TOKEN={}\n", shell_quote(token)));
            }
            let body = html! {
                (view::notice("ok", "Credential issued. Copy it now: the secret is not shown again."))
                dl.props {
                    dt { "Credential id" } dd { code #credential-id data-copy="" aria-label="credential id" { (get("id")) } }
                    @if let Some(user) = value.get("user") { dt { "IAM user" } dd { code { (user) } } }
                    dt { "Access key id" } dd { code #access-key-id data-copy="" aria-label="access key id" { (get("access_key_id")) } }
                    dt { "Expires" } dd { span #expires data-expires-at=(get("expiration")) { (get("expiration")) } }
                }
                h2 { "For a shell" }
                pre.secret #exports data-copy="" aria-label="Shell exports" { (exports) }
                p { a href={"/ui/secret?name=" (q(name.as_str()))} { "Back to " (name) } }
                (view::script())
            };
            Ok(Outcome::ok("Your new credential", Nav::Secrets, body)
                .noting(format!("issued tmp creds {}", get("id"))))
        }
        .boxed_local()
    })
    .await
}

/// `'value'` for a POSIX shell.
fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// `POST /ui/secret/revoke`: one credential (`tmp-creds-id`) or all (`revoke-all`).
pub async fn revoke(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:revoke-tmp-creds", Effect::Act, "name");
    post(req, state, form, op, |p| {
        async move {
            let Posted {
                state,
                session,
                form,
                raw,
                ..
            } = p;
            let name = name_of(Some(raw))?;
            let granted =
                tmp_creds::authorize(state, &session.caller, &name, Capability::Delete).await?;
            let what = if form.get("revoke-all") == Some("true") {
                let n = tmp_creds::revoke_all(state, &granted).await?;
                format!("{n} credential(s) handed to the revoker")
            } else {
                let id = form
                    .get("tmp-creds-id")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        ApiError::bad_request("tmp-creds-id: required: the credential to revoke")
                    })?;
                tmp_creds::revoke_by_id(state, &granted, &LeaseId::new(id)).await?;
                format!("credential {id}")
            };
            Ok(Outcome::Redirect {
                to: format!("/ui/secret?name={}&revoked={}", q(name.as_str()), q(&what)),
                detail: format!("revoked {what}"),
            })
        }
        .boxed_local()
    })
    .await
}
