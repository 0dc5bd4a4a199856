//! Access: the auth methods and roles the caller may list (`auth_methods::list`,
//! `roles::list`, as `list-auth-methods` and `list-roles`), with each role's rules and who
//! holds it. Read-only in this version: changes go through the API or the CLI.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use mayfly_app::{auth_methods, roles, state::AppState};

use super::{
    finish,
    view::{self, Nav},
    Outcome, Session,
};
use crate::operation::Effect;

/// `GET /ui/access`.
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    finish(&state, &req, &session, "console:list-access", Effect::Read, "", async {
        let methods = auth_methods::list(&state, &session.caller, None).await?;
        let roles = roles::list(&state, &session.caller, None).await?;
        let body = html! {
            p { "Logged in as " code { (session.caller.access_id) } ". To change access, use "
                code { "mayfly create-role" } ", " code { "set-role-rule" } " and " code { "assoc-role-am" } "." }
            h2 { "Auth methods" }
            @if methods.is_empty() {
                (view::empty("No auth methods you may list.", None))
            } @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Access id" } th scope="col" { "Type" } th scope="col" { "Roles" } } }
                    tbody { @for m in &methods { tr {
                        td { (m.method.name) }
                        td { code { (m.method.access_id) } }
                        td { (m.kind.as_str()) }
                        td { @for r in &m.roles { (r.role_name) br; } }
                    } } }
                } }
            }
            h2 { "Roles" }
            @if roles.is_empty() {
                (view::empty("No roles you may list.", None))
            } @else {
                @for r in &roles {
                    h3 { (r.role.name) }
                    @if !r.role.description.is_empty() { p { (r.role.description) } }
                    div.table-wrap { table {
                        thead { tr { th scope="col" { "Rule type" } th scope="col" { "Path" } th scope="col" { "Capabilities" } } }
                        tbody {
                            @for rule in &r.rules { tr { td { (rule.rule_type) } td { code { (rule.path) } } td { (rule.capabilities) } } }
                            @if r.rules.is_empty() { tr { td colspan="3" { "No rules: this role allows nothing." } } }
                        }
                    } }
                    p.hint { "Held by: "
                        @if r.auth_methods.is_empty() { "no auth method" }
                        @for (i, (_, name, access_id)) in r.auth_methods.iter().enumerate() {
                            @if i > 0 { ", " } (name) " (" code { (access_id) } ")"
                        }
                    }
                }
            }
        };
        Ok(Outcome::ok("Access", Nav::Access, body))
    })
    .await
}
