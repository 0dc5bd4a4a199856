//! Targets: the list (`targets::list`), details without the secret (`targets::read`, as
//! `get-target`), the create and edit forms, read as `create-aws-target` / `update-aws-target`
//! requests and checked by the API's parsers (`target_input::parse_new` / `parse_changes`)
//! (with `rotation-interval-days` read as `routes::targets` reads it) before
//! `targets::create` / `update`, delete behind a confirm page (`targets::delete`, as
//! `delete-target` without force), rotating the admin key (`rotate_named_target`, as
//! `target-rotate-credentials`) and revealing the secret (`targets::read_secret`, as
//! `get-target-details`: the only page that shows it, after an explicit POST, audited).

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use futures_util::FutureExt;
use maud::{html, Markup};
use mayfly_api_types::request;
use mayfly_app::{
    access::listed, access::ResourceKind, rotation::on_request, state::AppState, targets,
};
use mayfly_domain::{CredentialSource, ItemName, ValidationErrors};
use secrecy::ExposeSecret;

use super::{
    finish, get, post,
    view::{self, q, Field, Nav},
    Form, FormBody, Outcome, Posted, Query, Session, State, Viewed,
};
use crate::{error::ApiError, operation::Effect, routes::target_input};

/// `GET /ui/targets`.
pub async fn list(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    get(req, state, query, ("console:list-targets", Effect::Read, None), |v| {
        async move {
            let Viewed { state, session, query, .. } = v;
            let rows = targets::list(state, &session.caller, None).await?;
            let body = html! {
                @if let Some(gone) = query.get("deleted") {
                    (view::notice("ok", &format!("Target {gone} deleted.")))
                }
                div.actions { a.button href="/ui/targets/new" { "Create a target" } }
                @if rows.is_empty() {
                    (view::empty("No targets yet (or none your roles let you list): create one. A target is the AWS admin connection dynamic secrets issue credentials with.",
                        Some(("/ui/targets/new", "Create a target"))))
                } @else {
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Region" }
                            th scope="col" { "Used by" } th scope="col" { "Description" }
                        } }
                        tbody { @for (t, users) in &rows { tr {
                            td { a href={"/ui/target?name=" (q(&t.name))} { (t.name) } }
                            td { (t.region) }
                            td { (users.len()) " dynamic secret(s)" }
                            td { (t.description) }
                        } } }
                    } }
                }
            };
            Ok(Outcome::ok("Targets", Nav::Targets, body))
        }
        .boxed_local()
    })
    .await
}

/// `GET /ui/target?name=...`: never the secret.
pub async fn details(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    get(req, state, query, ("console:get-target", Effect::Read, Some("name")), |v| {
        async move {
            let Viewed { state, session, query, raw } = v;
            let name = ItemName::parse(raw.trim())
                .map_err(|e| ApiError::bad_request(format!("name: {e}")))?;
            let (t, users) = targets::read(state, &session.caller, &name).await?;
            let access = targets::access_of(&t)?;
            let schedule = mayfly_app::rotation::schedule::of_target(state.db(), t.id).await?;
            let body = html! {
                @if query.contains_key("created") { (view::notice("ok", "Target created. Its secret is sealed at rest and never shown here.")) }
                @if query.contains_key("updated") { (view::notice("ok", "Target updated.")) }
                (actions(session, &name, access.source))
                dl.props {
                    dt { "Region" } dd { (t.region) }
                    dt { "Credentials" } dd { (access.source.as_str()) }
                    dt { "Role chain" } dd { @match &access.role {
                        Some(r) => { code { (r.role_arn) } @if r.external_id.is_some() { " (with an external id)" } }
                        None => { "none: the key is used directly" }
                    } }
                    dt { "Admin key rotation" } dd { @if schedule.interval_days > 0 {
                        "every " (schedule.interval_days) " days" @if let Some(next) = schedule.next_rotation_at { ", next " (view::time(next)) }
                    } @else { "not on a schedule" } }
                    dt { "IAM endpoint" } dd { (t.iam_endpoint.clone().unwrap_or_else(|| "AWS's own".into())) }
                    dt { "STS endpoint" } dd { (t.sts_endpoint.clone().unwrap_or_else(|| "AWS's own".into())) }
                    dt { "Delete protection" } dd { @if t.delete_protection { "yes" } @else { "no" } }
                    dt { "Description" } dd { (t.description) }
                    dt { "Created" } dd { (view::time(t.created_at)) }
                    dt { "Modified" } dd { (view::time(t.modified_at)) " (version " (t.version) ")" }
                }
                h2 { "Dynamic secrets using it" }
                @if users.is_empty() {
                    (view::empty("None you may list.", Some(("/ui/secrets/new", "Create a dynamic secret"))))
                } @else {
                    ul { @for p in &users {
                        @if listed(&session.caller, ResourceKind::Item, None, &p.name) {
                            li { a href={"/ui/secret?name=" (q(&p.name))} { (p.name) } }
                        }
                    } }
                }
            };
            Ok(Outcome::ok(name.to_string(), Nav::Targets, body))
        }
        .boxed_local()
    })
    .await
}

/// The create form's inputs, named as `create-aws-target`'s fields.
const CREATE_FIELDS: &[&str] = &[
    "name",
    "access-key-id",
    "access-key",
    "region",
    "description",
    "iam-endpoint",
    "sts-endpoint",
    "role-arn",
    "external-id",
    "generate-external-id",
    "role-session-name",
    "role-session-duration",
    "rotation-interval-days",
    "use-gw-cloud-identity",
];

/// The edit form's inputs, named as `update-aws-target`'s fields (`name` is the target's
/// current name, a hidden input; only the fields the API's update reads).
const EDIT_FIELDS: &[&str] = &[
    "name",
    "new-name",
    "access-key-id",
    "access-key",
    "region",
    "description",
    "iam-endpoint",
    "sts-endpoint",
    "role-arn",
    "external-id",
    "generate-external-id",
    "role-session-name",
    "role-session-duration",
    "rotation-interval-days",
    "use-gw-cloud-identity",
];

/// What the edit form says a target has now, for the fields it leaves empty (the role
/// chain's external id is not shown outside `get-target-details`, so the chain is never
/// filled in: empty keeps it).
struct Current {
    role: Option<String>,
    rotation_days: u32,
}

async fn current_of(
    state: &AppState,
    t: &mayfly_store::entity::target::Model,
) -> Result<Current, ApiError> {
    let access = targets::access_of(t)?;
    let schedule = mayfly_app::rotation::schedule::of_target(state.db(), t.id).await?;
    Ok(Current {
        role: access.role.map(|r| {
            format!(
                "{}{}",
                r.role_arn,
                if r.external_id.is_some() {
                    ", with an external id"
                } else {
                    ""
                }
            )
        }),
        rotation_days: schedule.interval_days,
    })
}

/// `rotation-interval-days` read as the API's `create-aws-target` / `update-aws-target` read
/// it (`None`: not given, keep), its problem added to `errors`.
fn rotation_days(dto: &request::AwsTarget, errors: &mut ValidationErrors) -> Option<u32> {
    let days = dto.rotation_interval_days?;
    match mayfly_app::rotation::schedule::parse_interval_days(days) {
        Ok(d) => Some(d),
        Err(e) => {
            let m = e.to_string();
            let m = m
                .strip_prefix("rotation-interval-days: ")
                .unwrap_or(&m)
                .to_owned();
            errors.push("rotation-interval-days", m);
            None
        }
    }
}

/// `GET /ui/targets/new`.
pub async fn new_form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let body = target_form(
        &session,
        &Form(Vec::new()),
        &ValidationErrors::new(),
        None,
        None,
    );
    finish(
        &state,
        &req,
        &session,
        "console:new-target",
        Effect::Read,
        "",
        async { Ok(Outcome::ok("Create a target", Nav::Targets, body)) },
    )
    .await
}

/// The create form (`editing` `None`) or the edit form of the target named `editing`.
fn target_form(
    session: &Session,
    form: &Form,
    errors: &ValidationErrors,
    editing: Option<&str>,
    current: Option<&Current>,
) -> Markup {
    // The secret is never echoed back, even into its own field.
    let v = |k: &str| {
        if k == "access-key" {
            String::new()
        } else {
            form.get(k).unwrap_or_default().to_owned()
        }
    };
    let fields = if editing.is_some() {
        EDIT_FIELDS
    } else {
        CREATE_FIELDS
    };
    let mut known = fields.to_vec();
    known.extend(["delete_protection", "remove-role"]);
    let role_hint = match (editing, current) {
        (None, _) => "Optional: a role to assume with the key above before use (cross-account access), such as arn:aws:iam::123456789012:role/mayfly.".to_owned(),
        (Some(_), Some(Current { role: Some(r), .. })) => format!("Now: {r}. Empty keeps it; a new ARN replaces the whole chain (give its external id again)."),
        (Some(_), _) => "Now: none. Optional: a role to assume before use.".to_owned(),
    };
    let rotation_hint = match current {
        Some(c) if c.rotation_days > 0 => format!(
            "Now: every {} days. 0 turns it off; empty keeps it.",
            c.rotation_days
        ),
        Some(_) => "Now: off. Empty or 0 keeps it off.".to_owned(),
        None if editing.is_some() => "0 turns it off; empty keeps it.".to_owned(),
        None => {
            "Rotate the target's admin key every this many days. Empty or 0: not on a schedule."
                .to_owned()
        }
    };
    let ticked = |k: &str| {
        if form.get(k) == Some("true") {
            "true"
        } else {
            ""
        }
    };
    let protect = if form.get("delete_protection") == Some("true") {
        "true"
    } else {
        ""
    };
    let action = if editing.is_some() {
        "/ui/target/edit"
    } else {
        "/ui/targets/new"
    };
    let key_hint = if editing.is_some() {
        "Leave both key fields empty to keep the stored key; give both to replace it."
    } else {
        "Such as AKIAIOSFODNN7EXAMPLE."
    };
    html! {
        @if editing.is_some() {
            p { "Only what you change here changes. The stored secret access key is never shown; give a new key pair to replace it." }
        } @else {
            p { "A target is an AWS admin connection: dynamic secrets use it to create and delete IAM users. Its secret access key is sealed at rest and never shown again." }
        }
        (view::other_errors(errors, &known))
        form.stack method="post" action=(action) novalidate {
            (view::csrf_field(&session.csrf))
            @if let Some(current) = editing {
                input type="hidden" name="name" value=(current);
                (view::field(&Field { name: "new-name", label: "New name", kind: "text", value: &v("new-name"),
                    hint: "Empty keeps the name. Renaming needs create on the new name and read on this target.", required: false }, errors))
            } @else {
                (view::field(&Field { name: "name", label: "Name", kind: "text", value: &v("name"),
                    hint: "A path, such as /aws/admin.", required: true }, errors))
            }
            (view::field(&Field { name: "access-key-id", label: "Access key id", kind: "text", value: &v("access-key-id"),
                hint: key_hint, required: editing.is_none() }, errors))
            (view::field(&Field { name: "access-key", label: "Secret access key", kind: "password", value: &v("access-key"),
                hint: "", required: editing.is_none() }, errors))
            (view::field(&Field { name: "use-gw-cloud-identity", label: "Use the gateway's own AWS identity", kind: "checkbox", value: ticked("use-gw-cloud-identity"),
                hint: "Instead of a key: the gateway's instance profile, IRSA or environment credentials; leave both key fields empty. Only for target names the operator lists in MAYFLY_CLOUD_IDENTITY_TARGETS.", required: false }, errors))
            (view::field(&Field { name: "region", label: "Region", kind: "text", value: &v("region"),
                hint: if editing.is_some() { "Such as us-east-1." } else { "Such as us-east-1. Empty: us-east-2." }, required: false }, errors))
            (view::field(&Field { name: "iam-endpoint", label: "IAM endpoint", kind: "text", value: &v("iam-endpoint"),
                hint: "Empty for AWS's own; another origin must be allowed by the gateway's MAYFLY_ALLOWED_ENDPOINTS. Setting or moving it needs read on the target.", required: false }, errors))
            (view::field(&Field { name: "sts-endpoint", label: "STS endpoint", kind: "text", value: &v("sts-endpoint"),
                hint: "Empty for AWS's own.", required: false }, errors))
            (view::field(&Field { name: "description", label: "Description", kind: "text", value: &v("description"),
                hint: "", required: false }, errors))
            fieldset.field {
                legend { "Role chain" }
                (view::field(&Field { name: "role-arn", label: "Role ARN", kind: "text", value: &v("role-arn"),
                    hint: &role_hint, required: false }, errors))
                (view::field(&Field { name: "external-id", label: "External id", kind: "text", value: &v("external-id"),
                    hint: "Sent as ExternalId when the role's trust policy asks for one.", required: false }, errors))
                (view::field(&Field { name: "generate-external-id", label: "Generate an external id", kind: "checkbox", value: ticked("generate-external-id"),
                    hint: "Instead of giving one: the gateway makes one, shown with the revealed secret, for the role's trust policy.", required: false }, errors))
                (view::field(&Field { name: "role-session-name", label: "Role session name", kind: "text", value: &v("role-session-name"),
                    hint: "{target} is the target's name. Empty: mayfly-{target}.", required: false }, errors))
                (view::field(&Field { name: "role-session-duration", label: "Role session duration (seconds)", kind: "number", value: &v("role-session-duration"),
                    hint: "900 to 43200. Empty: 3600.", required: false }, errors))
                @if editing.is_some() {
                    (view::field(&Field { name: "remove-role", label: "Remove the role chain", kind: "checkbox", value: ticked("remove-role"),
                        hint: "Use the key directly again.", required: false }, errors))
                }
            }
            (view::field(&Field { name: "rotation-interval-days", label: "Rotate the admin key every (days)", kind: "number", value: &v("rotation-interval-days"),
                hint: &rotation_hint, required: false }, errors))
            (view::field(&Field { name: "delete_protection", label: "Delete protection", kind: "checkbox",
                value: protect, hint: "While on, the target cannot be deleted.", required: false }, errors))
            button type="submit" { @if editing.is_some() { "Save changes" } @else { "Create target" } }
        }
    }
}

/// The form read as the API's `AwsTarget` request: the `allowed` inputs, and the checkboxes
/// as the booleans they stand for (an unticked box sends nothing). On the edit form an empty
/// role ARN keeps the role chain (the form never shows the stored one) and "remove the role
/// chain" is the API's empty `role-arn`.
fn target_request(form: &Form, allowed: &[&str]) -> Result<request::AwsTarget, ApiError> {
    let mut body = form.as_request(allowed);
    if let Some(map) = body.as_object_mut() {
        for c in [
            "delete_protection",
            "generate-external-id",
            "use-gw-cloud-identity",
        ] {
            map.insert(c.into(), (form.get(c) == Some("true")).into());
        }
        if allowed.contains(&"new-name") {
            if form.get("remove-role") == Some("true") {
                map.insert("role-arn".into(), "".into());
            } else if map
                .get("role-arn")
                .and_then(|v| v.as_str())
                .is_some_and(|a| a.trim().is_empty())
            {
                map.remove("role-arn");
            }
        }
    }
    crate::call::parse(&body)
}

/// `POST /ui/targets/new`.
pub async fn create(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:create-target", Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let Posted {
                state,
                session,
                form,
                ..
            } = p;
            let dto = target_request(form, CREATE_FIELDS)?;
            let parsed = target_input::parse_new(&dto, state.outbound());
            let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
            let days = rotation_days(&dto, &mut errors);
            let input = match parsed {
                Ok(mut input) if errors.is_empty() => {
                    input.rotation_days = days;
                    input
                }
                _ => {
                    return Ok(refused_form(
                        "Create a target",
                        target_form(session, form, &errors, None, None),
                        &errors,
                    ))
                }
            };
            let row = targets::create(state, &session.caller, input).await?;
            Ok(Outcome::redirect(format!(
                "/ui/target?name={}&created=1",
                q(&row.name)
            )))
        }
        .boxed_local()
    })
    .await
}

/// A form sent back with its inline errors (400).
fn refused_form(title: &str, body: Markup, errors: &ValidationErrors) -> Outcome {
    Outcome::Page {
        status: StatusCode::BAD_REQUEST,
        title: title.into(),
        nav: Nav::Targets,
        body,
        problem: Some(errors.to_string()),
        detail: String::new(),
    }
}

fn target_name(raw: &str) -> Result<ItemName, ApiError> {
    target_input::parse_name(&Some(raw.to_owned()))
        .map_err(|e| ApiError::bad_request(format!("name: {e}")))
}

/// The buttons of a target's details page. Each is only a way to the action: the action
/// itself is authorized by the core, as the API's is.
fn actions(session: &Session, name: &ItemName, source: CredentialSource) -> Markup {
    let n = name.as_str();
    html! {
        div.actions {
            a.button href={"/ui/target/edit?name=" (q(n))} { "Edit" }
            form.inline method="post" action="/ui/target/reveal" {
                (view::csrf_field(&session.csrf))
                input type="hidden" name="name" value=(n);
                button type="submit" { "Reveal the secret" }
            }
            @if source == CredentialSource::Keys {
                form.inline method="post" action="/ui/target/rotate" {
                    (view::csrf_field(&session.csrf))
                    input type="hidden" name="name" value=(n);
                    button type="submit" { "Rotate the admin key" }
                }
            }
            a.button.danger href={"/ui/target/delete?name=" (q(n))} { "Delete" }
        }
        p.hint { "Revealing the secret is recorded in the audit trail. Rotating creates a new access key for the target's IAM user, checks it, stores it and deletes the old one." }
    }
}

/// `GET /ui/target/edit?name=...`: the edit form, filled from the target as `get-target`
/// shows it (never the secret).
pub async fn edit_form(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    let op = ("console:edit-target", Effect::Read, Some("name"));
    get(req, state, query, op, |v| {
        async move {
            let Viewed {
                state,
                session,
                raw,
                ..
            } = v;
            let name = target_name(raw)?;
            let (t, _) = targets::read(state, &session.caller, &name).await?;
            let mut values = vec![
                ("region".to_owned(), t.region.clone()),
                ("description".to_owned(), t.description.clone()),
                (
                    "iam-endpoint".to_owned(),
                    t.iam_endpoint.clone().unwrap_or_default(),
                ),
                (
                    "sts-endpoint".to_owned(),
                    t.sts_endpoint.clone().unwrap_or_default(),
                ),
            ];
            if t.delete_protection {
                values.push(("delete_protection".to_owned(), "true".to_owned()));
            }
            if targets::access_of(&t)?.source == CredentialSource::GatewayIdentity {
                values.push(("use-gw-cloud-identity".to_owned(), "true".to_owned()));
            }
            let current = current_of(state, &t).await?;
            let body = target_form(
                session,
                &Form(values),
                &ValidationErrors::new(),
                Some(name.as_str()),
                Some(&current),
            );
            Ok(Outcome::ok(format!("Edit {name}"), Nav::Targets, body))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/target/edit`: read as an `update-aws-target` request, checked by the API's
/// parser, applied by `targets::update` (which authorizes `update`, and more for a rename or
/// an endpoint move, exactly as for the API).
pub async fn update(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:update-target", Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let Posted {
                state,
                session,
                form,
                raw,
                ..
            } = p;
            let dto = target_request(form, EDIT_FIELDS)?;
            let parsed = target_input::parse_changes(&dto, state.outbound());
            let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
            let days = rotation_days(&dto, &mut errors);
            let changes = match parsed {
                Ok(mut changes) if errors.is_empty() => {
                    changes.rotation_days = days;
                    changes
                }
                _ => {
                    let body = target_form(session, form, &errors, Some(raw.trim()), None);
                    return Ok(refused_form(&format!("Edit {}", raw.trim()), body, &errors));
                }
            };
            let shown = changes
                .new_name
                .clone()
                .unwrap_or_else(|| changes.name.clone());
            targets::update(state, &session.caller, changes).await?;
            Ok(Outcome::redirect(format!(
                "/ui/target?name={}&updated=1",
                q(shown.as_str())
            )))
        }
        .boxed_local()
    })
    .await
}

/// `GET /ui/target/delete?name=...`: the confirm step. It changes nothing and reads nothing:
/// what may be deleted is decided by the POST, by the core.
pub async fn delete_confirm(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    get(req, state, query, ("console:confirm-delete-target", Effect::Read, Some("name")), |v| {
        async move {
            let Viewed { session, raw, .. } = v;
            let name = target_name(raw)?;
            let body = view::confirm_delete(
                &session.csrf,
                ("target", name.as_str()),
                "A target that dynamic secrets still use is not deleted: delete or re-point them first. A target with delete protection is not deleted either.",
                ("/ui/target/delete", "/ui/target?name="),
            );
            Ok(Outcome::ok(format!("Delete {name}?"), Nav::Targets, body))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/target/delete`: `targets::delete` without force, as `delete-target` without
/// `force-deletion`: refused (409, with the dynamic secrets the caller may list named)
/// while any uses it.
pub async fn delete(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    post(req, state, form, ("console:delete-target", Effect::Configure, "name"), |p| {
        async move {
            let Posted { state, session, raw, .. } = p;
            let name = target_name(raw)?;
            match targets::delete(state, &session.caller, &name, false).await {
                Ok(()) => {}
                // Still in use or protected: said with what to do in the console (which never
                // force-deletes: that would delete the dynamic secrets with it).
                Err(mayfly_app::error::AppError::Conflict(why)) => {
                    let body = html! {
                        (view::notice("error", &why))
                        p { "Nothing was deleted. Delete the dynamic secrets that use it (or edit them to use another target), or turn off its delete protection, then try again." }
                        p { a href={"/ui/target?name=" (q(name.as_str()))} { "Back to " (name) } }
                    };
                    return Ok(Outcome::Page {
                        status: StatusCode::CONFLICT,
                        title: format!("{name} was not deleted"),
                        nav: Nav::Targets,
                        body,
                        problem: Some(why),
                        detail: String::new(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
            Ok(Outcome::Redirect {
                to: format!("/ui/targets?deleted={}", q(name.as_str())),
                detail: "deleted".into(),
            })
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/target/rotate`: the API's `target-rotate-credentials` (`update` on the target).
/// The page names the new key id, never a secret.
pub async fn rotate(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    post(req, state, form, ("console:rotate-target-credentials", Effect::Configure, "name"), |p| {
        async move {
            let Posted { state, session, raw, .. } = p;
            let name = target_name(raw)?;
            let r = on_request::rotate_named_target(state, &session.caller, &name).await?;
            // A page, not a redirect, so `finish` does not empty the caches: done here, as the
            // API does after a configuration change.
            state.invalidate_caches();
            let body = html! {
                (view::notice("ok", "The admin key was rotated: the new key is stored and in use."))
                @if let Some(w) = &r.warning { (view::notice("error", w)) }
                dl.props {
                    dt { "IAM user" } dd { code { (r.iam_user) } }
                    dt { "New access key id" } dd { code #new-access-key-id { (r.access_key_id) } }
                    dt { "Previous access key id" } dd { code { (r.previous_access_key_id) } }
                    dt { "Previous key deleted" } dd { @if r.previous_key_deleted { "yes" } @else { "no (the next rotation deletes it)" } }
                    @if !r.stale_keys_deleted.is_empty() {
                        dt { "Left-over keys deleted" } dd { @for k in &r.stale_keys_deleted { code { (k) } br; } }
                    }
                    dt { "Rotated" } dd { (view::time(r.rotated_at)) }
                    @if let Some(next) = r.next_rotation_at { dt { "Next scheduled rotation" } dd { (view::time(next)) } }
                }
                p { a href={"/ui/target?name=" (q(name.as_str()))} { "Back to " (name) } }
            };
            Ok(Outcome::ok(format!("Rotated the key of {name}"), Nav::Targets, body)
                .noting(format!("rotated to access key {} (previous {})", r.access_key_id, r.previous_access_key_id)))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/target/reveal`: the target with its secret, by `targets::read_secret`, the core
/// operation behind `get-target-details` (the same `read` on the target), audited as an
/// action (`console:get-target-details`) whatever the outcome. The only page that shows a
/// target's secret; it is shown once (`no-store`) and never put in the audit record.
pub async fn reveal(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    post(req, state, form, ("console:get-target-details", Effect::Act, "name"), |p| {
        async move {
            let Posted { state, session, raw, .. } = p;
            let name = target_name(raw)?;
            let (_, _, creds) = targets::read_secret(state, &session.caller, &name).await?;
            let body = html! {
                @match &creds {
                    None => (view::notice("info", "This target stores no key: it uses the gateway's own AWS identity.")),
                    Some(c) => {
                        (view::notice("ok", "Shown once: copy what you need now. This reveal is recorded in the audit trail."))
                        dl.props {
                            dt { "Access key id" } dd { code #target-access-key-id data-copy="" aria-label="access key id" { (c.access_key_id) } }
                            dt { "Secret access key" } dd { code.secret #target-secret-access-key data-copy="" aria-label="secret access key" { (c.secret_access_key.expose_secret()) } }
                            @if let Some(t) = &c.session_token {
                                dt { "Session token" } dd { code.secret #target-session-token data-copy="" aria-label="session token" { (t.expose_secret()) } }
                            }
                        }
                    }
                }
                p { a href={"/ui/target?name=" (q(name.as_str()))} { "Back to " (name) } }
                (view::script())
            };
            Ok(Outcome::ok(format!("Secret of {name}"), Nav::Targets, body)
                .noting(if creds.is_some() { "revealed the target's key".into() } else { "the target stores no key".into() }))
        }
        .boxed_local()
    })
    .await
}
