//! Targets: the list (`targets::list`), details without the secret (`targets::read`, as
//! `get-target`; the console never calls `read_secret`), and the create form, read as a
//! `create-aws-target` request and checked by the API's parser (`target_input::parse_new`)
//! before `targets::create`.

use std::collections::HashMap;

use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use mayfly_api_types::request;
use mayfly_app::{access::listed, access::ResourceKind, state::AppState, targets};
use mayfly_domain::{ItemName, ValidationErrors};

use super::{
    check_csrf, finish,
    view::{self, q, Field, Nav},
    Form, Outcome, Session,
};
use crate::{error::ApiError, operation::Effect, routes::target_input};

/// `GET /ui/targets`.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    finish(&state, &req, &session, "console:list-targets", Effect::Read, "", async {
        let rows = targets::list(&state, &session.caller, None).await?;
        let body = html! {
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
    })
    .await
}

/// `GET /ui/target?name=...`: never the secret.
pub async fn details(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let raw = query.get("name").cloned().unwrap_or_default();
    finish(&state, &req, &session, "console:get-target", Effect::Read, &raw, async {
        let name = ItemName::parse(raw.trim())
            .map_err(|e| ApiError::bad_request(format!("name: {e}")))?;
        let (t, users) = targets::read(&state, &session.caller, &name).await?;
        let access = targets::access_of(&t)?;
        let body = html! {
            @if query.contains_key("created") { (view::notice("ok", "Target created. Its secret is sealed at rest and never shown here.")) }
            dl.props {
                dt { "Region" } dd { (t.region) }
                dt { "Credentials" } dd { (access.source.as_str()) }
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
];

/// `GET /ui/targets/new`.
pub async fn new_form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let body = create_form(&session, &Form(Vec::new()), &ValidationErrors::new());
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

fn create_form(session: &Session, form: &Form, errors: &ValidationErrors) -> Markup {
    // The secret is never echoed back, even into its own field.
    let v = |k: &str| {
        if k == "access-key" {
            String::new()
        } else {
            form.get(k).unwrap_or_default().to_owned()
        }
    };
    html! {
        p { "A target is an AWS admin connection: dynamic secrets use it to create and delete IAM users. Its secret access key is sealed at rest and never shown again." }
        (view::other_errors(errors, CREATE_FIELDS))
        form.stack method="post" action="/ui/targets/new" novalidate {
            (view::csrf_field(&session.csrf))
            (view::field(&Field { name: "name", label: "Name", kind: "text", value: &v("name"),
                hint: "A path, such as /aws/admin.", required: true }, errors))
            (view::field(&Field { name: "access-key-id", label: "Access key id", kind: "text", value: &v("access-key-id"),
                hint: "Such as AKIAIOSFODNN7EXAMPLE.", required: true }, errors))
            (view::field(&Field { name: "access-key", label: "Secret access key", kind: "password", value: &v("access-key"),
                hint: "", required: true }, errors))
            (view::field(&Field { name: "region", label: "Region", kind: "text", value: &v("region"),
                hint: "Such as us-east-1. Empty: us-east-2.", required: false }, errors))
            (view::field(&Field { name: "iam-endpoint", label: "IAM endpoint", kind: "text", value: &v("iam-endpoint"),
                hint: "Empty for AWS's own; another origin must be allowed by the gateway's MAYFLY_ALLOWED_ENDPOINTS.", required: false }, errors))
            (view::field(&Field { name: "sts-endpoint", label: "STS endpoint", kind: "text", value: &v("sts-endpoint"),
                hint: "Empty for AWS's own.", required: false }, errors))
            (view::field(&Field { name: "description", label: "Description", kind: "text", value: &v("description"),
                hint: "", required: false }, errors))
            button type="submit" { "Create target" }
        }
    }
}

/// `POST /ui/targets/new`.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = Form(form.into_inner());
    let raw = form.get("name").unwrap_or_default().to_owned();
    finish(
        &state,
        &req,
        &session,
        "console:create-target",
        Effect::Configure,
        &raw,
        async {
            check_csrf(&session, &form)?;
            let dto: request::AwsTarget = crate::call::parse(&form.as_request(CREATE_FIELDS))?;
            let input = match target_input::parse_new(&dto, state.outbound()) {
                Ok(input) => input,
                Err(errors) => {
                    return Ok(Outcome::Page {
                        status: StatusCode::BAD_REQUEST,
                        title: "Create a target".into(),
                        nav: Nav::Targets,
                        body: create_form(&session, &form, &errors),
                        problem: Some(errors.to_string()),
                        detail: String::new(),
                    })
                }
            };
            let row = targets::create(&state, &session.caller, input).await?;
            Ok(Outcome::redirect(format!(
                "/ui/target?name={}&created=1",
                q(&row.name)
            )))
        },
    )
    .await
}
