//! The Akeyless API's operations, one row each in [`operations!`]: its paths, what it does
//! ([`Effect`]), its OpenAPI summary and tag, its request and response DTOs, the errors it can
//! answer besides the common ones, and its handler. From the one table come
//!
//! - [`Operation`] and [`ROUTES`] (path → operation), which the dispatcher (`crate::http`)
//!   matches;
//! - [`run`], which parses the body into the row's request DTO, builds the call the row needs
//!   (anonymous for `/auth`, authenticated otherwise), runs the handler and answers the row's
//!   response DTO;
//! - [`Operation::effect`], which decides how a request is audited and whether it empties the
//!   caches;
//! - [`Operation::describe`], from which `crate::openapi` builds the document.
//!
//! So adding an operation is adding a row: the handler's result must have the row's response
//! type, and the document cannot describe a DTO the handler does not use.
//!
//! Akeyless has three generations of names for the same operations (`create-aws-target`,
//! `target-create-aws`, `dynamic-secret-*` ...). Names that answer the same shape share a row;
//! where the generations answer differently (`update-aws-target` answers `{}`,
//! `target-update-aws` the target id), each shape is a row of its own. Paths are matched
//! case-insensitively, at the root and under `/api/v2/`, as the Akeyless gateway does.

use actix_web::{HttpRequest, HttpResponse};
use mayfly_api_types::{access as ac, k8s_auth_config as kc, request as rq, response as rs};
use mayfly_app::leases::issue::{self, Requester};

use crate::{
    authn,
    call::{parse, Anonymous, AuditNote, Call},
    error::ApiResult,
    openapi::schema::{
        array_of, json, string_map, Access, OperationDoc, ACCESS, AUDIT, AUTH, CREDENTIALS, ITEMS,
        PRODUCERS, TARGETS,
    },
    routes::{
        access, audit_events, items, k8s_auth_config, producers, rotation, targets, tmp_creds,
        values,
    },
};

/// What an operation does, which decides how it is audited and what it invalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `/auth`: no token; failures are counted per window, not written one row each.
    Login,
    /// Changes nothing and reveals no secret: audited only when refused (401, 403).
    Read,
    /// Reveals a secret or acts on issued credentials: always audited, written before the
    /// answer.
    Act,
    /// Issues a credential: audited through the batch writer (the lease row is the durable
    /// record of what was issued).
    Issue,
    /// Changes configuration (targets, producers, auth methods, roles, rules, associations,
    /// tokens, stored keys): audited before the answer, and a success empties this gateway's
    /// request-path caches.
    Configure,
}

impl Effect {
    /// Who may call an operation with this effect.
    pub fn access(self) -> Access {
        match self {
            Effect::Login => Access::Public,
            Effect::Read | Effect::Act | Effect::Issue | Effect::Configure => Access::Token,
        }
    }
}

/// Builds the call a row's handler takes: anonymous for [`Effect::Login`], otherwise
/// authenticated (a 401 before the handler runs).
macro_rules! enter {
    (Login, $state:expr, $http:expr, $body:expr, $audit:expr) => {{
        let _ = &$audit;
        Anonymous::new($state, $http)
    }};
    ($effect:ident, $state:expr, $http:expr, $body:expr, $audit:expr) => {
        Call::authenticate($state, $http, $body, $audit).await?
    };
}

/// The body description of a row's response: its DTO's schema unless the row says otherwise.
macro_rules! response_body {
    ($resp:ty;) => {
        json::<$resp>()
    };
    ($resp:ty; $body:expr) => {
        $body
    };
}

/// The table. Each row:
///
/// ```text
/// Name {
///     paths: ["path", ...],
///     effect: Effect variant,
///     doc: TAG, "summary",
///     request: RequestDto,
///     response: ResponseDto [as body description when not a plain DTO],
///     errors: [statuses besides the common ones],
///     handler: |cx, req| future of ApiResult<ResponseDto>,
/// }
/// ```
macro_rules! operations {
    ($(
        $name:ident {
            paths: [$($path:literal),+ $(,)?],
            effect: $effect:ident,
            doc: $tag:expr, $summary:literal,
            request: $req:ty,
            response: $resp:ty $(as $body:expr)?,
            errors: [$($error:literal),* $(,)?],
            handler: |$cx:ident, $rq:ident| $handler:expr $(,)?
        }
    )+) => {
        /// Every operation of the Akeyless API this gateway serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation {
            $($name),+
        }

        /// Every path and its operation, in the table's order.
        pub const ROUTES: &[(&str, Operation)] = &[
            $($(($path, Operation::$name),)+)+
        ];

        impl Operation {
            pub fn effect(self) -> Effect {
                match self {
                    $(Operation::$name => Effect::$effect,)+
                }
            }

            /// What the OpenAPI document says about the operation.
            pub fn describe(self) -> OperationDoc {
                match self {
                    $(Operation::$name => OperationDoc {
                        tag: $tag,
                        summary: $summary,
                        access: Effect::$effect.access(),
                        request: json::<$req>(),
                        response: response_body!($resp; $($body)?),
                        errors: &[$($error),*],
                    },)+
                }
            }
        }

        /// Runs `op` on a parsed body: the row's call, request DTO, handler and response DTO.
        pub async fn run(
            op: Operation,
            state: &mayfly_app::state::AppState,
            http: &HttpRequest,
            body: &serde_json::Value,
            audit: &mut AuditNote,
        ) -> ApiResult<HttpResponse> {
            match op {
                $(Operation::$name => {
                    #[allow(unused_mut)]
                    let mut $cx = enter!($effect, state, http, body, audit);
                    let $rq: $req = parse(body)?;
                    let answer: ApiResult<$resp> = $handler.await;
                    Ok(HttpResponse::Ok().json(answer?))
                })+
            }
        }
    };
}

operations! {
    Auth {
        paths: ["auth"],
        effect: Login,
        doc: AUTH, "Log in with an API key (access id and key); returns a token",
        request: rq::Auth,
        response: rs::AuthOutput,
        errors: [400, 401, 413, 429, 503, 504],
        handler: |cx, req| authn::login(&cx, req),
    }
    TargetCreate {
        paths: ["create-aws-target", "target-create-aws"],
        effect: Configure,
        doc: TARGETS, "Create an AWS target (the admin credentials producers use)",
        request: rq::AwsTarget,
        response: rs::TargetId,
        errors: [409],
        handler: |cx, req| targets::create(cx.state, &cx.caller, req),
    }
    TargetUpdate {
        paths: ["update-aws-target"],
        effect: Configure,
        doc: TARGETS, "Update an AWS target: only the given fields change",
        request: rq::AwsTarget,
        response: rs::Empty,
        errors: [404, 409],
        handler: |cx, req| async {
            targets::update(cx.state, &cx.caller, req).await?;
            Ok(rs::Empty {})
        },
    }
    TargetUpdateDetails {
        paths: ["update-aws-target-details"],
        effect: Configure,
        doc: TARGETS, "Update an AWS target: only the given fields change",
        request: rq::AwsTarget,
        response: rs::Updated,
        errors: [404, 409],
        handler: |cx, req| async {
            targets::update(cx.state, &cx.caller, req).await?;
            Ok(rs::Updated { updated: true })
        },
    }
    TargetUpdateV2 {
        paths: ["target-update-aws"],
        effect: Configure,
        doc: TARGETS, "Update an AWS target: only the given fields change",
        request: rq::AwsTarget,
        response: rs::TargetId,
        errors: [404, 409],
        handler: |cx, req| async {
            let target_id = targets::update(cx.state, &cx.caller, req).await?;
            Ok(rs::TargetId { target_id })
        },
    }
    TargetGet {
        paths: ["get-target", "target-get"],
        effect: Read,
        doc: TARGETS, "Get a target (never its secret)",
        request: rq::Named,
        response: rs::Target,
        errors: [404],
        handler: |cx, req| targets::get(cx.state, &cx.caller, req),
    }
    TargetGetDetails {
        paths: ["get-target-details", "target-get-details"],
        effect: Act,
        doc: TARGETS, "Get a target with its credentials",
        request: rq::Named,
        response: rs::TargetDetails,
        errors: [404],
        handler: |cx, req| targets::get_details(cx.state, &cx.caller, req),
    }
    TargetList {
        paths: ["list-targets", "target-list"],
        effect: Read,
        doc: TARGETS, "List targets",
        request: rq::ListTargets,
        response: rs::ListTargets,
        errors: [],
        handler: |cx, req| targets::list(cx.state, &cx.caller, req),
    }
    TargetDelete {
        paths: ["delete-target", "target-delete"],
        effect: Configure,
        doc: TARGETS, "Delete a target; force-deletion also deletes the producers using it",
        request: rq::DeleteTarget,
        response: rs::Empty,
        errors: [404, 409, 502],
        handler: |cx, req| async {
            targets::delete(cx.state, &cx.caller, req).await?;
            Ok(rs::Empty {})
        },
    }
    ProducerCreate {
        paths: ["gateway-create-producer-aws"],
        effect: Configure,
        doc: PRODUCERS, "Create an AWS dynamic secret (producer)",
        request: rq::AwsProducer,
        response: rs::ProducerDetailsWrapped,
        errors: [404, 409],
        handler: |cx, req| async {
            let producer_details = producers::create(cx.state, &cx.caller, req).await?;
            Ok(rs::ProducerDetailsWrapped { producer_details })
        },
    }
    DynamicSecretCreate {
        paths: ["dynamic-secret-create-aws"],
        effect: Configure,
        doc: PRODUCERS, "Create an AWS dynamic secret (producer)",
        request: rq::AwsProducer,
        response: rs::DynamicSecretDetailsWrapped,
        errors: [404, 409],
        handler: |cx, req| async {
            let dynamic_secret_details = producers::create(cx.state, &cx.caller, req).await?;
            Ok(rs::DynamicSecretDetailsWrapped { dynamic_secret_details })
        },
    }
    ProducerUpdate {
        paths: ["gateway-update-producer-aws"],
        effect: Configure,
        doc: PRODUCERS, "Replace an AWS dynamic secret's definition",
        request: rq::AwsProducer,
        response: rs::ProducerDetailsWrapped,
        errors: [404, 409],
        handler: |cx, req| async {
            let producer_details = producers::update(cx.state, &cx.caller, req).await?;
            Ok(rs::ProducerDetailsWrapped { producer_details })
        },
    }
    DynamicSecretUpdate {
        paths: ["dynamic-secret-update-aws"],
        effect: Configure,
        doc: PRODUCERS, "Replace an AWS dynamic secret's definition",
        request: rq::AwsProducer,
        response: rs::DynamicSecretDetailsWrapped,
        errors: [404, 409],
        handler: |cx, req| async {
            let dynamic_secret_details = producers::update(cx.state, &cx.caller, req).await?;
            Ok(rs::DynamicSecretDetailsWrapped { dynamic_secret_details })
        },
    }
    ProducerGet {
        paths: ["gateway-get-producer", "dynamic-secret-get"],
        effect: Read,
        doc: PRODUCERS, "Get a dynamic secret's definition (never a secret)",
        request: rq::Named,
        response: rs::ProducerDetails,
        errors: [404],
        handler: |cx, req| producers::get(cx.state, &cx.caller, req),
    }
    ProducerList {
        paths: ["gateway-list-producers", "dynamic-secret-list"],
        effect: Read,
        doc: PRODUCERS, "List dynamic secrets",
        request: rq::TokenFields,
        response: rs::ProducersList,
        errors: [],
        handler: |cx, _req| producers::list(cx.state, &cx.caller),
    }
    ProducerDelete {
        paths: ["gateway-delete-producer"],
        effect: Configure,
        doc: PRODUCERS, "Delete a dynamic secret, revoking its IAM users first",
        request: rq::Named,
        response: rs::ProducerDeleted,
        errors: [404, 409, 502],
        handler: |cx, req| async {
            let (producer_name, revoking) = producers::delete(cx.state, &cx.caller, req).await?;
            Ok(rs::ProducerDeleted { producer_name, revoking })
        },
    }
    DynamicSecretDelete {
        paths: ["dynamic-secret-delete"],
        effect: Configure,
        doc: PRODUCERS, "Delete a dynamic secret, revoking its IAM users first",
        request: rq::Named,
        response: rs::DynamicSecretDeleted,
        errors: [404, 409, 502],
        handler: |cx, req| async {
            let (dynamic_secret_name, revoking) =
                producers::delete(cx.state, &cx.caller, req).await?;
            Ok(rs::DynamicSecretDeleted { dynamic_secret_name, revoking })
        },
    }
    ListItems {
        paths: ["list-items"],
        effect: Read,
        doc: ITEMS, "List items (dynamic secrets) and folders under a path",
        request: rq::ListItems,
        response: rs::ListItems,
        errors: [],
        handler: |cx, req| items::list(cx.state, &cx.caller, req),
    }
    GetValue {
        paths: ["get-dynamic-secret-value", "dynamic-secret-get-value"],
        effect: Issue,
        doc: CREDENTIALS, "Issue a credential: a flat object of strings (see docs/api.md)",
        request: rq::GetDynamicSecretValue,
        response: issue::Value as string_map(),
        errors: [404, 409, 502],
        handler: |cx, req| async {
            let command = values::get_value_command(req)?;
            let requester = Requester {
                caller: cx.caller.clone(),
                client_address: cx.client_address.clone(),
            };
            let value = issue::get_value(cx.state, requester, command).await?;
            cx.audit.detail = format!(
                "issued tmp creds {}",
                value.get("id").map_or("", String::as_str)
            );
            Ok(value)
        },
    }
    TmpCredsList {
        paths: ["gateway-get-producer-tmp-creds", "dynamic-secret-tmp-creds-get"],
        effect: Read,
        doc: CREDENTIALS, "List a dynamic secret's live credentials",
        request: rq::Named,
        response: Vec<rs::TmpUserData> as array_of::<rs::TmpUserData>(),
        errors: [404],
        handler: |cx, req| tmp_creds::list(cx.state, &cx.caller, req),
    }
    TmpCredsRevoke {
        paths: ["gateway-revoke-producer-tmp-creds", "dynamic-secret-tmp-creds-delete"],
        effect: Act,
        doc: CREDENTIALS, "Revoke one credential (tmp-creds-id) or all (revoke-all)",
        request: rq::RevokeTmpCreds,
        response: rs::TmpCredsRevoked,
        errors: [404, 409, 502],
        handler: |cx, req| async {
            let revoking = tmp_creds::revoke(cx.state, &cx.caller, req).await?;
            Ok(rs::TmpCredsRevoked { revoking })
        },
    }
    TmpCredsUpdate {
        paths: ["gateway-update-producer-tmp-creds", "dynamic-secret-tmp-creds-update"],
        effect: Act,
        doc: CREDENTIALS, "Change a credential's lifetime",
        request: rq::UpdateTmpCreds,
        response: rs::Empty,
        errors: [404, 409],
        handler: |cx, req| async {
            tmp_creds::update(cx.state, &cx.caller, req).await?;
            Ok(rs::Empty {})
        },
    }
    AuthMethodCreate {
        paths: ["create-auth-method"],
        effect: Configure,
        doc: ACCESS, "Create an API key auth method; its access key is shown only here",
        request: ac::CreateAuthMethod,
        response: ac::CreateAuthMethodOutput,
        errors: [409],
        handler: |cx, req| access::create_auth_method(cx.state, &cx.caller, req),
    }
    AuthMethodCreateOAuth2 {
        paths: ["create-auth-method-oauth2", "auth-method-create-oauth2"],
        effect: Configure,
        doc: ACCESS, "Create a JWT (OAuth2/OIDC) auth method: workloads log in with the identity token they already have (access-type jwt), verified against the issuer's keys",
        request: ac::CreateAuthMethodOAuth2,
        response: ac::CreatedAuthMethodId,
        errors: [409],
        handler: |cx, req| access::create_auth_method_oauth2(cx.state, &cx.caller, req),
    }
    AuthMethodCreateK8s {
        paths: ["create-auth-method-k8s", "auth-method-create-k8s"],
        effect: Configure,
        doc: ACCESS, "Create a Kubernetes auth method: pods log in with their service-account token (access-type k8s), verified offline against the cluster's keys or through a k8s auth config",
        request: ac::CreateAuthMethodK8s,
        response: ac::CreatedAuthMethodId,
        errors: [409],
        handler: |cx, req| access::create_auth_method_k8s(cx.state, &cx.caller, req),
    }
    AuthMethodCreateAwsIam {
        paths: ["create-auth-method-aws-iam", "auth-method-create-aws-iam"],
        effect: Configure,
        doc: ACCESS, "Create an AWS IAM auth method: workloads log in with a signed sts:GetCallerIdentity (access-type aws_iam), which the gateway sends to STS",
        request: ac::CreateAuthMethodAwsIam,
        response: ac::CreatedAuthMethodId,
        errors: [409],
        handler: |cx, req| access::create_auth_method_aws_iam(cx.state, &cx.caller, req),
    }
    K8sAuthConfigCreate {
        paths: ["gateway-create-k8s-auth-config"],
        effect: Configure,
        doc: ACCESS, "Create a k8s auth config: the cluster a Kubernetes auth method's logins are verified with, online by TokenReview (or offline with the cluster's JWKS). Needs update on the auth method",
        request: kc::K8sAuthConfigInput,
        response: kc::K8sAuthConfigOutput,
        errors: [404, 409],
        handler: |cx, req| k8s_auth_config::create(cx.state, &cx.caller, req),
    }
    K8sAuthConfigGet {
        paths: ["gateway-get-k8s-auth-config"],
        effect: Read,
        doc: ACCESS, "Get a k8s auth config (never its token reviewer JWT). Needs read on its auth method",
        request: rq::Named,
        response: kc::K8sAuthConfig,
        errors: [404],
        handler: |cx, req| k8s_auth_config::get(cx.state, &cx.caller, req),
    }
    K8sAuthConfigUpdate {
        paths: ["gateway-update-k8s-auth-config"],
        effect: Configure,
        doc: ACCESS, "Change a k8s auth config; fields left out keep their value, and a new k8s-host or k8s-ca-cert needs the token reviewer JWT again. Needs update on its auth method (and on the new one when access-id changes)",
        request: kc::K8sAuthConfigInput,
        response: kc::K8sAuthConfigOutput,
        errors: [404, 409],
        handler: |cx, req| async {
            let (out, detail) = k8s_auth_config::update(cx.state, &cx.caller, req).await?;
            cx.audit.detail = detail;
            Ok(out)
        },
    }
    K8sAuthConfigDelete {
        paths: ["gateway-delete-k8s-auth-config"],
        effect: Configure,
        doc: ACCESS, "Delete a k8s auth config. Needs update on its auth method",
        request: rq::Named,
        response: kc::K8sAuthConfigOutput,
        errors: [404],
        handler: |cx, req| k8s_auth_config::delete(cx.state, &cx.caller, req),
    }
    AuthMethodGet {
        paths: ["get-auth-method"],
        effect: Read,
        doc: ACCESS, "Get an auth method and the roles it holds (never its key)",
        request: rq::Named,
        response: ac::AuthMethod,
        errors: [404],
        handler: |cx, req| access::get_auth_method(cx.state, &cx.caller, req),
    }
    AuthMethodList {
        paths: ["list-auth-methods"],
        effect: Read,
        doc: ACCESS, "List auth methods",
        request: ac::ListFiltered,
        response: ac::ListAuthMethodsOutput,
        errors: [],
        handler: |cx, req| access::list_auth_methods(cx.state, &cx.caller, req),
    }
    AuthMethodDelete {
        paths: ["delete-auth-method"],
        effect: Configure,
        doc: ACCESS, "Delete an auth method; its tokens stop working (other gateways: within MAYFLY_CACHE_TTL)",
        request: rq::Named,
        response: ac::DeleteAuthMethodOutput,
        errors: [404, 409],
        handler: |cx, req| access::delete_auth_method(cx.state, &cx.caller, req),
    }
    AuthMethodResetKey {
        paths: ["reset-access-key"],
        effect: Configure,
        doc: ACCESS, "Give an API key auth method a new access key, shown only here; the old key and its tokens stop working (other gateways: within MAYFLY_CACHE_TTL). Needs update on the auth method",
        request: ac::ResetAccessKey,
        response: ac::ResetAuthMethodAccessKeyOutput,
        errors: [404],
        handler: |cx, req| async {
            let (out, revoked) = access::reset_access_key(cx.state, &cx.caller, req).await?;
            cx.audit.detail = format!("new access key; {revoked} token(s) revoked");
            Ok(out)
        },
    }
    AuthMethodUpdate {
        paths: ["update-auth-method", "auth-method-update-api-key"],
        effect: Configure,
        doc: ACCESS, "Set or lift an auth method's delete protection, or change its description. Needs update on the auth method",
        request: ac::UpdateAuthMethod,
        response: ac::AuthMethodUpdateOutput,
        errors: [404],
        handler: |cx, req| async {
            let (out, detail) = access::update_auth_method(cx.state, &cx.caller, req).await?;
            cx.audit.detail = detail;
            Ok(out)
        },
    }
    AuthMethodUpdateOAuth2 {
        paths: ["update-auth-method-oauth2", "auth-method-update-oauth2"],
        effect: Configure,
        doc: ACCESS, "Change a JWT (OAuth2/OIDC) auth method: each field sent replaces the stored one and is checked as at creation; sessions already open keep their token. Needs update on the auth method",
        request: ac::UpdateAuthMethodOAuth2,
        response: ac::AuthMethodUpdateOutput,
        errors: [404, 409],
        handler: |cx, req| async {
            let (out, detail) = access::update_auth_method_oauth2(cx.state, &cx.caller, req).await?;
            cx.audit.detail = detail;
            Ok(out)
        },
    }
    AuthMethodUpdateK8s {
        paths: ["update-auth-method-k8s", "auth-method-update-k8s"],
        effect: Configure,
        doc: ACCESS, "Change a Kubernetes auth method: each field sent replaces the stored one and is checked as at creation; sessions already open keep their token. Needs update on the auth method",
        request: ac::UpdateAuthMethodK8s,
        response: ac::AuthMethodUpdateOutput,
        errors: [404, 409],
        handler: |cx, req| async {
            let (out, detail) = access::update_auth_method_k8s(cx.state, &cx.caller, req).await?;
            cx.audit.detail = detail;
            Ok(out)
        },
    }
    AuthMethodUpdateAwsIam {
        paths: ["update-auth-method-aws-iam", "auth-method-update-aws-iam"],
        effect: Configure,
        doc: ACCESS, "Change an AWS IAM auth method: each field sent replaces the stored one and is checked as at creation; sessions already open keep their token. Needs update on the auth method",
        request: ac::UpdateAuthMethodAwsIam,
        response: ac::AuthMethodUpdateOutput,
        errors: [404, 409],
        handler: |cx, req| async {
            let (out, detail) = access::update_auth_method_aws_iam(cx.state, &cx.caller, req).await?;
            cx.audit.detail = detail;
            Ok(out)
        },
    }
    RoleCreate {
        paths: ["create-role"],
        effect: Configure,
        doc: ACCESS, "Create a role",
        request: ac::CreateRole,
        response: rs::Empty,
        errors: [409],
        handler: |cx, req| access::create_role(cx.state, &cx.caller, req),
    }
    RoleGet {
        paths: ["get-role"],
        effect: Read,
        doc: ACCESS, "Get a role with its rules and auth methods",
        request: rq::Named,
        response: ac::Role,
        errors: [404],
        handler: |cx, req| access::get_role(cx.state, &cx.caller, req),
    }
    RoleList {
        paths: ["list-roles"],
        effect: Read,
        doc: ACCESS, "List roles",
        request: ac::ListFiltered,
        response: ac::ListRolesOutput,
        errors: [],
        handler: |cx, req| access::list_roles(cx.state, &cx.caller, req),
    }
    RoleDelete {
        paths: ["delete-role"],
        effect: Configure,
        doc: ACCESS, "Delete a role (its rules and associations go with it)",
        request: rq::Named,
        response: rs::Empty,
        errors: [404, 409],
        handler: |cx, req| access::delete_role(cx.state, &cx.caller, req),
    }
    RoleRuleSet {
        paths: ["set-role-rule"],
        effect: Configure,
        doc: ACCESS, "Set a role's capabilities on a path glob for one rule type",
        request: ac::RoleRule,
        response: rs::Empty,
        errors: [404],
        handler: |cx, req| access::set_role_rule(cx.state, &cx.caller, req),
    }
    RoleRuleDelete {
        paths: ["delete-role-rule"],
        effect: Configure,
        doc: ACCESS, "Delete a role's rule",
        request: ac::RoleRule,
        response: ac::DeleteRoleRuleOutput,
        errors: [404],
        handler: |cx, req| access::delete_role_rule(cx.state, &cx.caller, req),
    }
    RoleAssoc {
        paths: ["assoc-role-am"],
        effect: Configure,
        doc: ACCESS, "Give an auth method a role",
        request: ac::AssocRoleAuthMethod,
        response: ac::CreateRoleAuthMethodAssocOutput,
        errors: [404, 409],
        handler: |cx, req| access::assoc_role_am(cx.state, &cx.caller, req),
    }
    RoleAssocDelete {
        paths: ["delete-assoc"],
        effect: Configure,
        doc: ACCESS, "Take a role from an auth method (by association id)",
        request: ac::DeleteAssoc,
        response: rs::Empty,
        errors: [404],
        handler: |cx, req| access::delete_assoc(cx.state, &cx.caller, req),
    }
    TokenRevoke {
        paths: ["revoke-token"],
        effect: Configure,
        doc: ACCESS, "Revoke a token (Mayfly extension): the caller's own, or token-to-revoke",
        request: ac::RevokeToken,
        response: rs::Empty,
        errors: [404],
        handler: |cx, req| access::revoke_token(cx.state, &cx.caller, &cx.token, req),
    }
    AuditEvents {
        paths: ["get-audit-events"],
        effect: Read,
        doc: AUDIT, "Read the audit trail (Mayfly extension), filtered and paginated",
        request: ac::GetAuditEvents,
        response: ac::AuditEventsOutput,
        errors: [],
        handler: |cx, req| audit_events::get(cx.state, &cx.caller, req),
    }
    TargetRotateCredentials {
        paths: ["target-rotate-credentials"],
        effect: Configure,
        doc: TARGETS, "Rotate a target's AWS access key now (Mayfly extension): create, verify, store, delete the old",
        request: rotation::RotateCredentials,
        response: rotation::RotateCredentialsOutput,
        errors: [404, 409, 502],
        handler: |cx, req| rotation::rotate_target_credentials(cx.state, &cx.caller, req),
    }
    ProducerRotateCredentials {
        paths: ["dynamic-secret-rotate-credentials"],
        effect: Configure,
        doc: PRODUCERS, "Rotate a dynamic secret's inline AWS access key now (Mayfly extension)",
        request: rotation::RotateCredentials,
        response: rotation::RotateCredentialsOutput,
        errors: [404, 409, 502],
        handler: |cx, req| rotation::rotate_producer_credentials(cx.state, &cx.caller, req),
    }
}

impl Operation {
    /// The operation a request path names, if any.
    pub fn from_path(path: &str) -> Option<Operation> {
        let path = path.trim_end_matches('/').to_ascii_lowercase();
        let name = path
            .strip_prefix("/api/v2/")
            .or_else(|| path.strip_prefix('/'))?;
        ROUTES
            .iter()
            .find(|(route, _)| *route == name)
            .map(|(_, op)| *op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_case_insensitively_at_root_and_under_api_v2() {
        assert_eq!(
            Operation::from_path("/api/v2/Target-Create-AWS"),
            Some(Operation::TargetCreate)
        );
        assert_eq!(
            Operation::from_path("/gateway-get-producer/"),
            Some(Operation::ProducerGet)
        );
        assert_eq!(Operation::from_path("/api/v3/auth"), None);
        assert_eq!(Operation::from_path("/nope"), None);
        assert_eq!(Operation::from_path("auth"), None);
    }

    #[test]
    fn every_route_is_listed_once() {
        let mut names: Vec<_> = ROUTES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len());
    }

    /// The effects the audit trail and the caches depend on, pinned: a row that changes
    /// configuration but is marked a read would leave stale caches and no audit record.
    #[test]
    fn effects_are_what_the_audit_trail_and_caches_expect() {
        let of = |path: &str| Operation::from_path(&format!("/{path}")).unwrap().effect();
        assert_eq!(of("auth"), Effect::Login);
        for path in [
            "get-target",
            "list-targets",
            "gateway-get-producer",
            "list-items",
            "gateway-get-producer-tmp-creds",
            "get-role",
            "list-auth-methods",
            "get-audit-events",
        ] {
            assert_eq!(of(path), Effect::Read, "{path}");
        }
        for path in [
            "get-target-details",
            "dynamic-secret-tmp-creds-delete",
            "dynamic-secret-tmp-creds-update",
        ] {
            assert_eq!(of(path), Effect::Act, "{path}");
        }
        assert_eq!(of("get-dynamic-secret-value"), Effect::Issue);
        for path in [
            "target-create-aws",
            "update-aws-target-details",
            "dynamic-secret-delete",
            "reset-access-key",
            "assoc-role-am",
            "revoke-token",
            "target-rotate-credentials",
        ] {
            assert_eq!(of(path), Effect::Configure, "{path}");
        }
        let logins: Vec<_> = ROUTES
            .iter()
            .filter(|(_, op)| op.effect() == Effect::Login)
            .map(|(path, _)| *path)
            .collect();
        assert_eq!(logins, ["auth"], "only /auth is served without a token");
    }
}
