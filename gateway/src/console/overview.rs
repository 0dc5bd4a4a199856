//! The overview: how many targets and dynamic secrets the caller can see, and their live
//! credentials by mode and by state (a `revoke_failed` count is the one to act on). Every number comes from the same listings the API
//! serves to this caller (`targets::list`, `dynamic_secrets::list`, and `tmp_creds::list` of
//! each dynamic secret it may `read`), so it never counts what the caller could not list.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use mayfly_app::{access::Capability, dynamic_secrets, state::AppState, targets, tmp_creds};
use mayfly_domain::ItemName;

use super::{
    finish,
    view::{self, Nav},
    Outcome, Session,
};
use crate::{error::ApiError, operation::Effect};

/// Live credentials (the ones `tmp_creds::list` shows: creating, active, revoking,
/// revoke_failed) the caller may read, by state and by mode.
#[derive(Debug, Default)]
struct Counts {
    by_state: BTreeMap<&'static str, usize>,
    live_by_mode: BTreeMap<&'static str, usize>,
    live: usize,
    unreadable: usize,
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    finish(&state, &req, &session, "console:overview", Effect::Read, "", async {
        let caller = &session.caller;
        let target_count = targets::list(&state, caller, None).await?.len();
        let producers = dynamic_secrets::list(&state, caller).await?;
        let mut counts = Counts::default();
        for p in &producers {
            let Ok(name) = ItemName::parse(&p.name) else {
                continue;
            };
            let granted = match tmp_creds::authorize(&state, caller, &name, Capability::Read).await
            {
                Ok(g) => g,
                Err(mayfly_app::error::AppError::Denied(_)) => {
                    counts.unreadable += 1;
                    continue;
                }
                Err(e) => return Err(ApiError::from(e)),
            };
            for lease in tmp_creds::list(&state, &granted).await? {
                *counts.by_state.entry(lease.state.as_str()).or_default() += 1;
                *counts.live_by_mode.entry(lease.mode.as_str()).or_default() += 1;
                counts.live += 1;
            }
        }
        let body = html! {
            div.cards {
                a.card href="/ui/targets" { span.n { (target_count) } "targets" }
                a.card href="/ui/secrets" { span.n { (producers.len()) } "dynamic secrets" }
                div.card { span.n { (counts.live) } "live credentials" }
            }
            @if target_count == 0 && producers.is_empty() {
                (view::empty(
                    "Nothing here yet: start with a target, the AWS admin connection dynamic secrets use.",
                    Some(("/ui/targets/new", "Create a target")),
                ))
            }
            h2 { "Live credentials by mode" }
            @if counts.live_by_mode.is_empty() {
                p { "No live credentials." }
            } @else {
                (table(&counts.live_by_mode, "Mode"))
            }
            h2 { "Live credentials by state" }
            @if counts.by_state.is_empty() {
                p { "None. To issue one, open a dynamic secret and choose "
                    em { "Get a credential" } "." }
            } @else {
                (table(&counts.by_state, "State"))
            }
            @if counts.unreadable > 0 {
                p.hint { (counts.unreadable) " dynamic secret(s) are listed to you but your roles do not let you read their credentials; they are not counted." }
            }
        };
        Ok(Outcome::ok("Overview", Nav::Overview, body))
    })
    .await
}

fn table(rows: &BTreeMap<&'static str, usize>, what: &str) -> maud::Markup {
    html! {
        div.table-wrap { table {
            thead { tr { th scope="col" { (what) } th scope="col" { "Credentials" } } }
            tbody { @for (k, n) in rows { tr { td { code { (k) } } td { (n) } } } }
        } }
    }
}
