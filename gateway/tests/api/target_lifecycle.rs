//! The target that created a credential lives as long as the credential (issue #10 item 2):
//! re-pointing a producer with inline credentials, or giving it new inline credentials, keeps
//! the old private target until every `iam_user` credential issued through it is torn down,
//! with the credentials that created it; then the old target is deleted.

use mayfly_store::entity::{lease, target};
use mayfly_testkit::{moto::MotoServer, TestGateway};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::{
    aws::{admin_clients, block_on, caller_arn, create_moto_target, unique_path, users_under},
    helpers::on_each_database_with,
};

const LIST_USERS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:GetCallerIdentity"],"Resource":"*"}]}"#;

fn db(gw: &TestGateway) -> DatabaseConnection {
    block_on(mayfly_store::connect(&gw.database_url(), 2)).expect("open the gateway's database")
}

/// An iam_user producer body; `target` adds `target-name` or inline keys.
fn producer(name: &str, target: Value) -> Value {
    let mut body = json!({
        "name": name, "access-mode": "iam_user",
        "aws-user-policies": "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        "aws-policy-document": LIST_USERS_ONLY,
        "user-ttl": "60m", "aws-user-programmatic-access": true, "region": "us-east-1",
    });
    for (k, v) in target.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn inline(key_id: &str, secret: &str) -> Value {
    json!({"aws-access-key-id": key_id, "aws-access-secret-key": secret})
}

/// A new IAM user with AdministratorAccess in moto (under a path of its own, so it never
/// shows among the issued users); returns its key.
fn admin_key(moto: &MotoServer) -> (String, String) {
    use secrecy::ExposeSecret;
    let admin = admin_clients(moto);
    let name = format!(
        "target-admin-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    block_on(admin.iam.create_user(&mayfly_aws::CreateUser {
        name: name.clone(),
        path: unique_path(),
        permissions_boundary: None,
        tags: vec![],
    }))
    .expect("create the admin user");
    block_on(
        admin
            .iam
            .attach_user_policy(&name, "arn:aws:iam::aws:policy/AdministratorAccess"),
    )
    .expect("attach AdministratorAccess");
    let key = block_on(admin.iam.create_access_key(&name)).expect("create its access key");
    (
        key.access_key_id,
        key.secret_access_key.expose_secret().to_owned(),
    )
}

fn issue(gw: &TestGateway, moto: &MotoServer, name: &str) -> Value {
    let (status, v) = gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": name, "timeout": 15}),
    );
    assert_eq!(status, 200, "{name}: {v}");
    assert!(caller_arn(moto, &v).is_some(), "the issued key works");
    v
}

fn revoke(gw: &TestGateway, name: &str, v: &Value) {
    let (status, body) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": name, "tmp-creds-id": v["id"]}),
    );
    assert_eq!(status, 200, "revoke {}: {body}", v["id"]);
}

fn lease_row(db: &DatabaseConnection, id: &Value) -> lease::Model {
    block_on(lease::Entity::find_by_id(id.as_str().unwrap().to_owned()).one(db))
        .expect("read lease")
        .expect("the lease row")
}

fn target_row(db: &DatabaseConnection, id: mayfly_store::TargetId) -> Option<target::Model> {
    block_on(target::Entity::find_by_id(id).one(db)).expect("read target")
}

fn private_targets(db: &DatabaseConnection) -> Vec<target::Model> {
    block_on(
        target::Entity::find()
            .filter(target::Column::IsPrivate.eq(true))
            .all(db),
    )
    .expect("read targets")
}

#[test]
fn re_pointing_an_inline_producer_keeps_its_old_target_until_its_users_are_revoked() {
    let moto = MotoServer::shared();
    on_each_database_with(
        |b| b.env("AWS_ENDPOINT_URL", moto.url()), // inline credentials have no endpoints
        |gw, path| {
            create_moto_target(gw, moto);
            let (key_id, secret) = moto.admin();
            let (status, body) = gw.post_authed(
                "/gateway-create-producer-aws",
                producer("/team/inline", inline(&key_id, &secret)),
            );
            assert_eq!(status, 200, "{body}");
            let first = issue(gw, moto, "/team/inline");
            let second = issue(gw, moto, "/team/inline");
            assert_eq!(users_under(moto, path).len(), 2);
            let db = db(gw);
            let old_target = lease_row(&db, &first["id"]).target_id;
            assert_eq!(
                lease_row(&db, &first["id"]).aws_account.as_deref(),
                Some("123456789012"),
                "the account from CreateUser's ARN (moto's default account) is recorded"
            );

            // Re-pointed at the named target while both users are live.
            let (status, body) = gw.post_authed(
                "/gateway-update-producer-aws",
                producer("/team/inline", json!({"target-name": "/aws"})),
            );
            assert_eq!(status, 200, "{body}");
            assert!(
                target_row(&db, old_target).is_some(),
                "the old private target survives while its users live"
            );

            revoke(gw, "/team/inline", &first);
            assert!(
                target_row(&db, old_target).is_some(),
                "one live user still needs it"
            );
            revoke(gw, "/team/inline", &second);
            for v in [&first, &second] {
                assert!(caller_arn(moto, v).is_none(), "the user is gone in moto");
                assert_eq!(lease_row(&db, &v["id"]).state.as_str(), "revoked");
            }
            assert!(users_under(moto, path).is_empty(), "no IAM user survives");
            assert!(
                target_row(&db, old_target).is_none(),
                "the old private target is deleted once its last user is revoked"
            );
            assert!(private_targets(&db).is_empty());

            // The producer issues through the named target now.
            let next = issue(gw, moto, "/team/inline");
            assert_ne!(lease_row(&db, &next["id"]).target_id, old_target);
            revoke(gw, "/team/inline", &next);
        },
    );
}

#[test]
fn new_inline_credentials_make_a_new_target_and_old_users_are_torn_down_with_the_old_ones() {
    let moto = MotoServer::shared();
    on_each_database_with(
        |b| b.env("AWS_ENDPOINT_URL", moto.url()),
        |gw, path| {
            let (old_id, old_secret) = admin_key(moto);
            let (status, body) = gw.post_authed(
                "/gateway-create-producer-aws",
                producer("/team/inline", inline(&old_id, &old_secret)),
            );
            assert_eq!(status, 200, "{body}");
            let old_user = issue(gw, moto, "/team/inline");
            let db = db(gw);
            let old_target = target_row(&db, lease_row(&db, &old_user["id"]).target_id)
                .expect("the private target");

            // Sending the same credentials again changes nothing.
            let (status, body) = gw.post_authed(
                "/gateway-update-producer-aws",
                producer("/team/inline", inline(&old_id, &old_secret)),
            );
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                private_targets(&db).len(),
                1,
                "same credentials, same target"
            );

            let (new_id, new_secret) = admin_key(moto);
            let (status, body) = gw.post_authed(
                "/gateway-update-producer-aws",
                producer("/team/inline", inline(&new_id, &new_secret)),
            );
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["producer_details"]["aws_access_key_id"], new_id);
            let kept = target_row(&db, old_target.id).expect("the old target survives");
            assert_eq!(
                (kept.sealed_credentials.as_str(), kept.version),
                (old_target.sealed_credentials.as_str(), old_target.version),
                "and is not re-sealed in place"
            );
            assert_eq!(private_targets(&db).len(), 2);

            let new_user = issue(gw, moto, "/team/inline");
            let new_target = lease_row(&db, &new_user["id"]).target_id;
            assert_ne!(
                new_target, old_target.id,
                "new users come from the new target"
            );

            // The old user is torn down through its own target: the old credentials.
            revoke(gw, "/team/inline", &old_user);
            assert!(
                caller_arn(moto, &old_user).is_none(),
                "the old user is gone"
            );
            assert_eq!(lease_row(&db, &old_user["id"]).state.as_str(), "revoked");
            assert!(
                target_row(&db, old_target.id).is_none(),
                "the old target is deleted with its last user"
            );
            assert!(target_row(&db, new_target).is_some());

            revoke(gw, "/team/inline", &new_user);
            assert!(users_under(moto, path).is_empty());
        },
    );
}
