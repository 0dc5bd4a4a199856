//! The dynamic secret forms: create and edit, one form per access mode showing only the
//! fields that mode uses (the mode is picked first: `/ui/secrets/new?mode=assume_role`), and
//! delete behind a confirm page.
//!
//! A form is read into the API's own request (`request::AwsProducer`, inputs named as its
//! wire fields) and checked by the Akeyless route's parser (`routes::producers::parse_input`),
//! so the same mistakes get the same messages, each shown under its field. Then the core does
//! what the API route does: `dynamic_secrets::create`; `authorize_update` then `update` (as
//! `gateway-update-producer-aws`); `delete` (as `gateway-delete-producer`). Only the inputs of
//! the mode's form are read: any other field a request carries is dropped.
//!
//! An update replaces the whole definition, as the API's does. So the edit form is filled with
//! every value the definition holds (from the same presentation `gateway-get-producer`
//! answers), and the few settings it has no input for (the password's character classes) ride
//! along as hidden inputs: saving an unchanged form changes nothing.

use actix_web::{http::StatusCode, HttpRequest, HttpResponse};
use futures_util::FutureExt;
use maud::{html, Markup};
use mayfly_api_types::{request, response};
use mayfly_app::{dynamic_secrets, state::AppState, targets};
use mayfly_domain::{ItemName, ValidationErrors};

use super::{
    get, post,
    view::{self, q, Field, Nav},
    Form, FormBody, Outcome, Posted, Query, Session, State, Viewed,
};
use crate::{
    error::ApiError,
    operation::Effect,
    routes::producers::{parse_input, present},
};

const IAM_USER: u8 = 1;
const ASSUME_ROLE: u8 = 2;
const FEDERATION_TOKEN: u8 = 4;
const SESSION_TOKEN: u8 = 8;
const STS: u8 = ASSUME_ROLE | FEDERATION_TOKEN | SESSION_TOKEN;
const ALL: u8 = IAM_USER | STS;

/// The four access modes: wire name, bit, and what a credential of that mode is.
const MODES: [(&str, u8, &str); 4] = [
    (
        "iam_user",
        IAM_USER,
        "A new IAM user per credential, with its own access key (and optionally a console password), deleted when it expires or is revoked.",
    ),
    (
        "assume_role",
        ASSUME_ROLE,
        "Temporary credentials of an IAM role (sts:AssumeRole), optionally narrowed by session policies.",
    ),
    (
        "federation_token",
        FEDERATION_TOKEN,
        "Temporary credentials of the target's IAM user (sts:GetFederationToken), narrowed by the policies given here.",
    ),
    (
        "session_token",
        SESSION_TOKEN,
        "Temporary credentials with exactly the target user's rights (sts:GetSessionToken).",
    ),
];

/// One input of the forms: its wire name, label, kind (`text`, `textarea`, `checkbox`), hint,
/// the modes that use it, and whether it sits under "More settings".
struct Input {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    hint: &'static str,
    modes: u8,
    more: bool,
}

const fn input(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    hint: &'static str,
    modes: u8,
    more: bool,
) -> Input {
    Input {
        name,
        label,
        kind,
        hint,
        modes,
        more,
    }
}

/// Every input, in form order (after `name` / `new-name` and the target).
const INPUTS: &[Input] = &[
    input("aws-role-arns", "Role ARNs", "text", "Comma-separated, such as arn:aws:iam::123456789012:role/NAME.", ASSUME_ROLE, false),
    input("aws-external-id", "External id", "text", "If the role's trust policy asks for one.", ASSUME_ROLE, false),
    input("aws-user-policies", "Managed policy ARNs", "text", "Comma-separated, such as arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess. For STS modes they narrow the session.", IAM_USER | ASSUME_ROLE | FEDERATION_TOKEN, false),
    input("aws-user-groups", "IAM groups", "text", "Comma-separated group names (optional).", IAM_USER, false),
    input("aws-policy-document", "Inline policy (JSON)", "textarea", "Optional. For STS modes it narrows the session.", IAM_USER | ASSUME_ROLE | FEDERATION_TOKEN, false),
    input("user-ttl", "Time to live", "text", "With a unit: 15m, 1h, 12h. Empty: the default (60m).", ALL, false),
    input("aws-user-programmatic-access", "Programmatic access (an access key)", "checkbox", "", IAM_USER, false),
    input("aws-user-console-access", "Console access (a password)", "checkbox", "", IAM_USER, false),
    input("session-revocation", "Revocable sessions", "checkbox", "Revoking a credential writes a deny on the role or user for that session (needs iam:PutRolePolicy / iam:PutUserPolicy).", STS, false),
    input("delete_protection", "Delete protection", "checkbox", "While on, the dynamic secret cannot be deleted.", ALL, false),
    input("description", "Description", "text", "", ALL, false),
    input("max-ttl", "Maximum TTL", "text", "The longest a caller may ask for, with a unit (optional).", ALL, true),
    input("aws-permissions-boundary", "Permissions boundary ARN", "text", "", IAM_USER, true),
    input("aws-user-path", "IAM user path", "text", "Such as /team-a/ (optional).", IAM_USER, true),
    input("aws-user-tags", "IAM user tags", "text", "key=value pairs, comma-separated.", IAM_USER, true),
    input("password-length", "Password length", "text", "For console access.", IAM_USER, true),
    input("wait-until-usable", "Wait until usable", "text", "true, false, or a wait such as 30s: the key is tried before it is handed out.", IAM_USER, true),
    input("session-tags", "Session tags", "text", "key=value pairs, comma-separated.", ASSUME_ROLE, true),
    input("transitive-tag-keys", "Transitive tag keys", "text", "Keys of session tags that pass on to chained roles.", ASSUME_ROLE, true),
    input("caller-session-tags", "Caller session tags", "text", "Session tags made from the caller, such as team={claim:team}.", ASSUME_ROLE | FEDERATION_TOKEN, true),
    input("source-identity", "Source identity", "text", "Made from the caller, such as {access_id}.", ASSUME_ROLE, true),
    input("reuse-window", "Reuse window", "text", "Hand the same credential to the same caller within this window, such as 5m (at most half the TTL).", STS, true),
    input("custom-username-template", "Name template", "text", "The IAM user or session name, such as tmp.{{name}}.{{rand}} (the default).", ALL, true),
    input("max-live-credentials", "Maximum live credentials", "text", "Optional limit.", ALL, true),
    input("max-issue-rate", "Maximum issue rate", "text", "Such as 10/m (optional).", ALL, true),
    input("tags", "Item tags", "text", "Comma-separated (optional).", ALL, true),
];

/// Settings of an `iam_user` definition the form has no input for: carried as hidden inputs
/// by the edit form so that an update keeps them.
const KEPT: &[&str] = &[
    "use-capital-letters",
    "use-lower-letters",
    "use-numbers",
    "use-special-characters",
];

/// The request fields a form of `bit`'s mode passes on.
fn allowed(bit: u8) -> Vec<&'static str> {
    let mut fields = vec!["name", "new-name", "target-name"];
    fields.extend(
        INPUTS
            .iter()
            .filter(|i| i.modes & bit != 0 && i.kind != "checkbox")
            .map(|i| i.name),
    );
    if bit == IAM_USER {
        fields.extend(KEPT);
    }
    fields
}

/// The mode a request names (`mode`, default `iam_user`).
fn mode_of(raw: Option<&str>) -> Result<(&'static str, u8), ApiError> {
    let raw = raw
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or("iam_user");
    MODES
        .iter()
        .find(|(m, _, _)| *m == raw)
        .map(|(m, b, _)| (*m, *b))
        .ok_or_else(|| {
            ApiError::bad_request(
                "mode: must be iam_user, assume_role, federation_token or session_token",
            )
        })
}

/// What the form edits: a new dynamic secret, or the one named.
enum Editing<'a> {
    New,
    Existing {
        name: &'a str,
        target: Option<&'a str>,
    },
}

#[allow(clippy::too_many_arguments)]
async fn form_markup(
    state: &AppState,
    session: &Session,
    mode: &'static str,
    bit: u8,
    form: &Form,
    errors: &ValidationErrors,
    editing: Editing<'_>,
) -> Result<Markup, ApiError> {
    let targets = targets::list(state, &session.caller, None).await?;
    let v = |k: &str| form.get(k).unwrap_or_default().to_owned();
    let chosen = v("target-name");
    let target_errors: Vec<&str> = errors
        .iter()
        .filter(|e| e.field == "target-name")
        .map(|e| e.message.as_str())
        .collect();
    let mut known: Vec<&str> = allowed(bit);
    known.extend(INPUTS.iter().filter(|i| i.modes & bit != 0).map(|i| i.name));
    let shown: Vec<&Input> = INPUTS.iter().filter(|i| i.modes & bit != 0).collect();
    let more_invalid = shown
        .iter()
        .any(|i| i.more && errors.iter().any(|e| e.field == i.name));
    let render = |i: &Input| {
        view::field(
            &Field {
                name: i.name,
                label: i.label,
                kind: i.kind,
                value: &v(i.name),
                hint: i.hint,
                required: i.name == "aws-role-arns",
            },
            errors,
        )
    };
    let (action, blurb) = match editing {
        Editing::New => (
            "/ui/secrets/new",
            MODES.iter().find(|(m, _, _)| *m == mode).map_or("", |(_, _, b)| *b),
        ),
        Editing::Existing { .. } => (
            "/ui/secret/edit",
            "Saving replaces the whole definition with this form, as the API's update does; credentials already issued keep what they were issued with.",
        ),
    };
    Ok(html! {
        p { (blurb) }
        (view::other_errors(errors, &known))
        @if targets.is_empty() && matches!(editing, Editing::New) {
            (view::empty("There is no target you may list yet: a dynamic secret needs one.", Some(("/ui/targets/new", "Create a target"))))
        }
        form.stack method="post" action=(action) novalidate {
            (view::csrf_field(&session.csrf))
            input type="hidden" name="mode" value=(mode);
            @match editing {
                Editing::New => {
                    (view::field(&Field { name: "name", label: "Name", kind: "text", value: &v("name"),
                        hint: "A path, such as /team-a/s3-reader.", required: true }, errors))
                }
                Editing::Existing { name, .. } => {
                    input type="hidden" name="name" value=(name);
                    (view::field(&Field { name: "new-name", label: "New name", kind: "text", value: &v("new-name"),
                        hint: "Empty keeps the name. Renaming needs create on the new name and use on the target.", required: false }, errors))
                    @for k in KEPT { @if bit == IAM_USER && form.get(k).is_some() {
                        input type="hidden" name=(k) value=(v(k));
                    } }
                }
            }
            div class={"field" @if !target_errors.is_empty() {" invalid"}} {
                label for="f-target-name" { "Target" }
                select #f-target-name name="target-name" aria-describedby=[(!target_errors.is_empty()).then_some("f-target-name-error")] {
                    @match editing {
                        Editing::New => option value="" { "Choose a target" },
                        Editing::Existing { target: Some(t), .. } => option value="" { "Keep its target (" (t) ")" },
                        Editing::Existing { target: None, .. } => option value="" { "Keep its current target" },
                    }
                    @for (t, _) in &targets {
                        option value=(t.name) selected[t.name == chosen] { (t.name) " (" (t.region) ")" }
                    }
                }
                @if !target_errors.is_empty() {
                    p.field-error #f-target-name-error { @for m in &target_errors { (m) br; } }
                }
            }
            @for i in shown.iter().filter(|i| !i.more) { (render(i)) }
            details.more open[more_invalid] {
                summary { "More settings" }
                @for i in shown.iter().filter(|i| i.more) { (render(i)) }
            }
            button type="submit" { @if matches!(editing, Editing::New) { "Create dynamic secret" } @else { "Save changes" } }
        }
    })
}

/// The form read as the API's `AwsProducer` request of `mode`: the mode's inputs only, each
/// checkbox as the value it stands for (an unticked box sends nothing).
fn producer_request(form: &Form, mode: &str, bit: u8) -> Result<request::AwsProducer, ApiError> {
    let mut body = form.as_request(&allowed(bit));
    if let Some(map) = body.as_object_mut() {
        map.insert("access-mode".into(), mode.into());
        let ticked = |k: &str| form.get(k) == Some("true");
        if bit == IAM_USER {
            for flag in ["aws-user-programmatic-access", "aws-user-console-access"] {
                map.insert(flag.into(), ticked(flag).into());
            }
        }
        if bit & STS != 0 {
            let on = if ticked("session-revocation") {
                "true"
            } else {
                "false"
            };
            map.insert("session-revocation".into(), on.into());
        }
        let protect = if ticked("delete_protection") {
            "true"
        } else {
            "false"
        };
        map.insert("delete_protection".into(), protect.into());
    }
    crate::call::parse(&body)
}

fn title_new(mode: &str) -> String {
    let article = if mode.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("Create {article} {mode} dynamic secret")
}

fn refused(title: String, body: Markup, errors: &ValidationErrors) -> Outcome {
    Outcome::Page {
        status: StatusCode::BAD_REQUEST,
        title,
        nav: Nav::Secrets,
        body,
        problem: Some(errors.to_string()),
        detail: String::new(),
    }
}

/// `GET /ui/secrets/new`: pick a mode; `?mode=...`: that mode's form.
pub async fn new_form(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    get(req, state, query, ("console:new-dynamic-secret", Effect::Read, None), |v| {
        async move {
            let Viewed { state, session, query, .. } = v;
            if query.get("mode").is_none_or(|m| m.trim().is_empty()) {
                let body = html! {
                    p { "First pick how its credentials are made; the form then shows only the fields that mode uses." }
                    ul.mode-choice { @for (mode, _, blurb) in MODES {
                        li { a href={"/ui/secrets/new?mode=" (mode)} { code { (mode) } } " — " (blurb) }
                    } }
                };
                return Ok(Outcome::ok("Create a dynamic secret", Nav::Secrets, body));
            }
            let (mode, bit) = mode_of(query.get("mode").map(String::as_str))?;
            // A fresh form: the defaults the API applies, shown ticked.
            let mut fresh = vec![("aws-user-programmatic-access".to_owned(), "true".to_owned())];
            if bit & STS != 0 {
                fresh.push(("session-revocation".to_owned(), "true".to_owned()));
            }
            let body = form_markup(state, session, mode, bit, &Form(fresh), &ValidationErrors::new(), Editing::New).await?;
            Ok(Outcome::ok(title_new(mode), Nav::Secrets, body))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/secrets/new`: as `gateway-create-producer-aws` with the form's mode.
pub async fn create(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:create-dynamic-secret", Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let Posted {
                state,
                session,
                form,
                ..
            } = p;
            let (mode, bit) = mode_of(form.get("mode"))?;
            let dto = producer_request(form, mode, bit)?;
            let input = match parse_input(&dto, dto.name.clone(), true) {
                Ok(input) => input,
                Err(errors) => {
                    let page =
                        form_markup(state, session, mode, bit, form, &errors, Editing::New).await?;
                    return Ok(refused(title_new(mode), page, &errors));
                }
            };
            let created = dynamic_secrets::create(state, &session.caller, input).await?;
            Ok(Outcome::redirect(format!(
                "/ui/secret?name={}&created=1",
                q(&created.row.name)
            )))
        }
        .boxed_local()
    })
    .await
}

fn name_of(raw: &str) -> Result<ItemName, ApiError> {
    crate::routes::required_name(
        "name",
        &Some(raw.to_owned()),
        "the dynamic secret, such as /team/aws/s3-reader",
    )
}

/// A definition as the edit form's values, from the API's own presentation of it.
fn values_of(d: &response::ProducerDetails) -> Vec<(String, String)> {
    let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
    let p = &d.password_policy_info;
    let mut v: Vec<(&str, String)> = vec![
        ("aws-role-arns", d.aws_role_arns.clone()),
        ("aws-external-id", d.aws_external_id.clone()),
        ("aws-user-policies", d.aws_user_policies.clone()),
        ("aws-user-groups", d.aws_user_groups.clone()),
        ("aws-policy-document", d.aws_policy_document.clone()),
        ("user-ttl", d.user_ttl.clone()),
        ("description", d.description.clone()),
        ("max-ttl", d.max_ttl.clone()),
        (
            "aws-permissions-boundary",
            d.aws_permissions_boundary.clone(),
        ),
        ("aws-user-path", d.aws_user_path.clone()),
        ("aws-user-tags", d.aws_user_tags.clone()),
        ("password-length", d.password_length.to_string()),
        ("wait-until-usable", d.wait_until_usable.clone()),
        ("session-tags", d.aws_session_tags.clone()),
        ("transitive-tag-keys", d.aws_transitive_tag_keys.clone()),
        ("caller-session-tags", d.caller_session_tags.clone()),
        ("source-identity", d.source_identity.clone()),
        ("reuse-window", d.reuse_window.clone()),
        ("custom-username-template", d.username_template.clone()),
        ("max-live-credentials", d.max_live_credentials.clone()),
        ("max-issue-rate", d.max_issue_rate.clone()),
        ("tags", d.tags.join(",")),
        ("use-capital-letters", flag(p.use_capital_letters)),
        ("use-lower-letters", flag(p.use_lower_letters)),
        ("use-numbers", flag(p.use_numbers)),
        ("use-special-characters", flag(p.use_special_characters)),
    ];
    for (k, on) in [
        (
            "aws-user-programmatic-access",
            d.aws_user_programmatic_access,
        ),
        ("aws-user-console-access", d.aws_user_console_access),
        ("session-revocation", d.session_revocation),
        ("delete_protection", d.delete_protection),
    ] {
        if on {
            v.push((k, "true".into()));
        }
    }
    v.into_iter().map(|(k, s)| (k.to_owned(), s)).collect()
}

/// `GET /ui/secret/edit?name=...`: the form of its mode, filled with its definition.
pub async fn edit_form(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    let op = ("console:edit-dynamic-secret", Effect::Read, Some("name"));
    get(req, state, query, op, |v| {
        async move {
            let Viewed {
                state,
                session,
                raw,
                ..
            } = v;
            let name = name_of(raw)?;
            let d = dynamic_secrets::get(state, &session.caller, &name).await?;
            let shown_target = (!d.target.is_private
                && mayfly_app::access::listed(
                    &session.caller,
                    mayfly_app::access::ResourceKind::Target,
                    None,
                    &d.target.name,
                ))
            .then(|| d.target.name.clone());
            let presented = present(&d);
            let (mode, bit) = mode_of(Some(&presented.aws_access_mode))?;
            let form = Form(values_of(&presented));
            let body = form_markup(
                state,
                session,
                mode,
                bit,
                &form,
                &ValidationErrors::new(),
                Editing::Existing {
                    name: name.as_str(),
                    target: shown_target.as_deref(),
                },
            )
            .await?;
            Ok(Outcome::ok(format!("Edit {name}"), Nav::Secrets, body))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/secret/edit`: as `gateway-update-producer-aws`: `update` on the dynamic secret
/// checked first, then the form parsed, then the core's update (which asks for more when the
/// change lends the target's power: a new target, a rename, different grants).
pub async fn update(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:update-dynamic-secret", Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let Posted {
                state,
                session,
                form,
                raw,
                ..
            } = p;
            let current = name_of(raw)?;
            let grant = dynamic_secrets::authorize_update(&session.caller, &current)?;
            let (mode, bit) = mode_of(form.get("mode"))?;
            let dto = producer_request(form, mode, bit)?;
            let new_name = dto
                .new_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            let renamed = new_name.is_some();
            let input = match parse_input(
                &dto,
                Some(new_name.unwrap_or_else(|| current.to_string())),
                false,
            ) {
                Ok(input) => input,
                Err(errors) => {
                    let page = form_markup(
                        state,
                        session,
                        mode,
                        bit,
                        form,
                        &errors,
                        Editing::Existing {
                            name: current.as_str(),
                            target: None,
                        },
                    )
                    .await?;
                    return Ok(refused(format!("Edit {current}"), page, &errors));
                }
            };
            let updated =
                dynamic_secrets::update(state, &session.caller, grant, input, renamed).await?;
            Ok(Outcome::redirect(format!(
                "/ui/secret?name={}&updated=1",
                q(&updated.row.name)
            )))
        }
        .boxed_local()
    })
    .await
}

/// `GET /ui/secret/delete?name=...`: the confirm step; changes and reads nothing (the POST
/// is authorized by the core).
pub async fn delete_confirm(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    get(req, state, query, ("console:confirm-delete-dynamic-secret", Effect::Read, Some("name")), |v| {
        async move {
            let Viewed { session, raw, .. } = v;
            let name = name_of(raw)?;
            let body = view::confirm_delete(
                &session.csrf,
                ("dynamic secret", name.as_str()),
                "Its live credentials are handed to the revoker and end within moments. A dynamic secret with delete protection is not deleted.",
                ("/ui/secret/delete", "/ui/secret?name="),
            );
            Ok(Outcome::ok(format!("Delete {name}?"), Nav::Secrets, body))
        }
        .boxed_local()
    })
    .await
}

/// `POST /ui/secret/delete`: `dynamic_secrets::delete`, as `gateway-delete-producer`.
pub async fn delete(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let op = ("console:delete-dynamic-secret", Effect::Configure, "name");
    post(req, state, form, op, |p| {
        async move {
            let Posted {
                state,
                session,
                raw,
                ..
            } = p;
            let name = name_of(raw)?;
            let revoking = dynamic_secrets::delete(state, &session.caller, &name).await?;
            Ok(Outcome::Redirect {
                to: format!(
                    "/ui/secrets?folder={}&deleted={}&revoking={revoking}",
                    q(name.parent()),
                    q(name.as_str())
                ),
                detail: format!("deleted; {revoking} credential(s) handed to the revoker"),
            })
        }
        .boxed_local()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_passes_on_only_its_own_fields() {
        let session_token = allowed(SESSION_TOKEN);
        for absent in [
            "aws-user-policies",
            "aws-role-arns",
            "aws-user-groups",
            "use-numbers",
        ] {
            assert!(!session_token.contains(&absent), "{absent}");
        }
        assert!(allowed(ASSUME_ROLE).contains(&"aws-role-arns"));
        assert!(!allowed(IAM_USER).contains(&"aws-role-arns"));
        assert!(
            !allowed(IAM_USER).contains(&"access-mode"),
            "the mode is the form's, never a field"
        );
        for (mode, bit, _) in MODES {
            assert_eq!(mode_of(Some(mode)).unwrap(), (mode, bit));
        }
        assert!(mode_of(Some("root")).is_err());
    }
}
