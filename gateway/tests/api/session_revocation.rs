//! Revocable STS credentials through the real gateway, against moto with IAM authentication
//! enforced: revoking one `assume_role` credential leaves exactly its session's deny in the
//! role's `mayfly-revoked-sessions` policy (as moto stores it), revoke-all adds the issue-time
//! deny narrowed to the producer, and a key that may revoke one producer's credentials cannot
//! reach another's. moto does not evaluate `aws:userid` conditions; the statement logic is
//! unit-tested in `mayfly_domain::sts_revocation`, and pruning after expiry in the core's tests.

use mayfly_testkit::{moto::MotoServer, TestGateway};
use serde_json::{json, Value};

use crate::{
    access::{call, key_with_rules},
    aws::{admin_clients, block_on, create_moto_target, create_role},
    helpers::{error_of, on_each_database_with},
};

const POLICY: &str = "mayfly-revoked-sessions";
const ROLE_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

/// The role's revocation policy as moto keeps it, parsed.
fn revocation_policy(moto: &MotoServer, role_name: &str) -> Option<Value> {
    let iam = admin_clients(moto).iam;
    block_on(iam.get_role_policy(role_name, POLICY))
        .expect("GetRolePolicy")
        .map(|doc| serde_json::from_str(&doc).expect("a JSON policy"))
}

fn statements(doc: &Value) -> Vec<Value> {
    doc["Statement"].as_array().cloned().unwrap_or_default()
}

/// The tmp creds of `name`, by id.
fn tmp_creds(gw: &TestGateway, name: &str) -> std::collections::BTreeMap<String, Value> {
    let (s, b) = gw.post_authed("/gateway-get-producer-tmp-creds", json!({"name": name}));
    assert_eq!(s, 200, "{b}");
    b.as_array()
        .expect("a list")
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c.clone()))
        .collect()
}

fn issue(gw: &TestGateway, name: &str) -> String {
    let (s, v) = gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": name, "timeout": 20}),
    );
    assert_eq!(s, 200, "{v}");
    v["id"].as_str().expect("the tmp creds id").to_owned()
}

#[test]
fn assume_role_credentials_are_revoked_one_by_one_and_all_at_once() {
    let moto = MotoServer::shared();
    on_each_database_with(
        |b| b.env("MAYFLY_ALLOWED_ENDPOINTS", moto.url()),
        |gw, _| {
            create_moto_target(gw, moto);
            let role_name = format!("revocable-{}", uuid::Uuid::new_v4().simple());
            let role = create_role(moto, &role_name, ROLE_ACCESS);
            for name in ["/rev/app", "/rev/other"] {
                let (s, b) = gw.post_authed(
                    "/gateway-create-producer-aws",
                    json!({"name": name, "target-name": "/aws", "access-mode": "assume_role",
                           "aws-role-arns": role, "user-ttl": "15m"}),
                );
                assert_eq!(s, 200, "{b}");
                assert_eq!(b["producer_details"]["session-revocation"], true, "{b}");
            }
            let ids = [
                issue(gw, "/rev/app"),
                issue(gw, "/rev/app"),
                issue(gw, "/rev/app"),
            ];
            let other = issue(gw, "/rev/other");
            let listed = tmp_creds(gw, "/rev/app");
            let session = |id: &str| listed[id]["session_name"].as_str().unwrap().to_owned();
            for id in &ids {
                assert_eq!(listed[id]["state"], "active");
                assert_eq!(listed[id]["role_arn"], role.as_str());
                assert!(session(id).ends_with(id.as_str()), "{}", listed[id]);
                assert!(session(id).len() <= 64);
            }
            assert!(revocation_policy(moto, &role_name).is_none());

            // One credential: exactly its session is denied.
            let (s, b) = gw.post_authed(
                "/gateway-revoke-producer-tmp-creds",
                json!({"name": "/rev/app", "tmp-creds-id": ids[1]}),
            );
            assert_eq!(s, 200, "{b}");
            let doc = revocation_policy(moto, &role_name).expect("the policy is on the role");
            let sts = statements(&doc);
            assert_eq!(sts.len(), 1, "{doc}");
            assert_eq!(sts[0]["Effect"], "Deny");
            assert_eq!(sts[0]["Action"], "*");
            assert_eq!(
                sts[0]["Condition"]["StringLike"]["aws:userid"],
                format!("*:{}", session(&ids[1]))
            );
            // The listing holds live credentials: the revoked one has left it.
            let now = tmp_creds(gw, "/rev/app");
            assert!(!now.contains_key(&ids[1]), "{now:?}");
            assert_eq!(now[&ids[0]]["state"], "active");
            assert_eq!(now[&ids[2]]["state"], "active");

            // A key allowed to revoke /rev/app only: it cannot touch /rev/other, and its
            // revoke-all cuts /rev/app's sessions only.
            let (token, _) = key_with_rules(
                gw,
                &format!("/revoker-{}", uuid::Uuid::new_v4().simple()),
                &[("item-rule", "/rev/app", &["read", "delete"])],
                "none",
            );
            let (s, b) = call(
                gw,
                &token,
                "/gateway-revoke-producer-tmp-creds",
                json!({"name": "/rev/other", "tmp-creds-id": other}),
            );
            assert_eq!(s, 403, "{b}");
            // Another producer's credential named under this producer is not found.
            let (s, b) = call(
                gw,
                &token,
                "/gateway-revoke-producer-tmp-creds",
                json!({"name": "/rev/app", "tmp-creds-id": other}),
            );
            assert_eq!(s, 404, "{b}");
            let (s, b) = call(
                gw,
                &token,
                "/dynamic-secret-tmp-creds-delete",
                json!({"name": "/rev/app", "revoke-all": true}),
            );
            assert_eq!(s, 200, "{b}");
            let doc = revocation_policy(moto, &role_name).unwrap();
            let sts = statements(&doc);
            assert_eq!(
                sts.len(),
                1,
                "the session deny is covered by the new one: {doc}"
            );
            let all = &sts[0];
            assert!(all["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')));
            let scope = all["Condition"]["StringLike"]["aws:userid"]
                .as_str()
                .unwrap()
                .to_owned();
            let pattern = scope.trim_start_matches("*:*").trim_end_matches('*');
            for id in &ids {
                assert!(session(id).contains(pattern), "{scope} covers {id}");
            }
            let others = tmp_creds(gw, "/rev/other");
            let other_session = others[&other]["session_name"].as_str().unwrap();
            assert!(
                !other_session.contains(pattern),
                "{scope} must not cover {other_session}"
            );
            assert_eq!(others[&other]["state"], "active");
            assert!(tmp_creds(gw, "/rev/app").is_empty(), "all revoked");
            // Someone else's statement in the policy is kept through Mayfly's changes.
            let iam = admin_clients(moto).iam;
            let mut mixed = doc.clone();
            mixed["Statement"]
                .as_array_mut()
                .unwrap()
                .push(json!({"Sid": "Theirs", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}));
            block_on(iam.put_role_policy(&role_name, POLICY, &mixed.to_string())).unwrap();
            let (s, b) = gw.post_authed(
                "/gateway-revoke-producer-tmp-creds",
                json!({"name": "/rev/other", "tmp-creds-id": other}),
            );
            assert_eq!(s, 200, "{b}");
            let doc = revocation_policy(moto, &role_name).unwrap();
            let sids: Vec<String> = statements(&doc)
                .iter()
                .map(|s| s["Sid"].as_str().unwrap_or_default().to_owned())
                .collect();
            assert_eq!(sids.len(), 3, "{doc}");
            assert!(sids.contains(&"Theirs".to_owned()), "{doc}");
        },
    );
}

#[test]
fn without_iam_put_role_policy_the_error_names_the_permission() {
    let moto = MotoServer::shared();
    on_each_database_with(
        |b| b.env("MAYFLY_ALLOWED_ENDPOINTS", moto.url()),
        |gw, _| {
            // A target whose IAM user may assume roles but not write role policies.
            let iam = admin_clients(moto).iam;
            let user = format!("limited-{}", uuid::Uuid::new_v4().simple());
            block_on(iam.create_user(&mayfly_aws::api::CreateUser {
                name: user.clone(),
                path: "/".into(),
                permissions_boundary: None,
                tags: Vec::new(),
            }))
            .unwrap();
            block_on(
                iam.put_user_policy(
                    &user,
                    "only-sts",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:*","iam:GetRolePolicy"],"Resource":"*"}]}"#,
                ),
            )
            .unwrap();
            let key = block_on(iam.create_access_key(&user)).unwrap();
            let (s, b) = gw.post_authed(
                "/create-aws-target",
                json!({"name": "/limited", "access-key-id": key.access_key_id,
                       "access-key": secrecy::ExposeSecret::expose_secret(&key.secret_access_key),
                       "region": "us-east-1", "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
            );
            assert_eq!(s, 200, "{b}");
            let role_name = format!("locked-{}", uuid::Uuid::new_v4().simple());
            let role = create_role(moto, &role_name, ROLE_ACCESS);
            let (s, b) = gw.post_authed(
                "/gateway-create-producer-aws",
                json!({"name": "/locked", "target-name": "/limited", "access-mode": "assume_role",
                       "aws-role-arns": role, "user-ttl": "15m"}),
            );
            assert_eq!(s, 200, "{b}");
            let id = issue(gw, "/locked");
            let (s, b) = gw.post_authed(
                "/gateway-revoke-producer-tmp-creds",
                json!({"name": "/locked", "tmp-creds-id": id}),
            );
            assert_eq!(s, 502, "{b}");
            let msg = error_of(&b);
            assert!(msg.contains("iam:PutRolePolicy"), "{msg}");
            assert!(msg.contains(&role), "{msg}");
            assert_eq!(
                tmp_creds(gw, "/locked")[&id]["state"],
                "active",
                "still live"
            );
            assert!(revocation_policy(moto, &role_name).is_none());
        },
    );
}
