//! Targets without stored keys: a gateway whose only AWS credentials are its own process's
//! (here: the environment, as an instance profile or IRSA would give them) issues and revokes
//! credentials through a `use-gw-cloud-identity` target, and a target chains into a role with
//! an external id. moto checks neither external ids nor session names: a recording proxy in
//! front of it shows what the gateway sent.

use mayfly_testkit::{moto::MotoServer, recording_proxy::RecordingProxy, TestGateway};
use serde_json::{json, Value};

use crate::{
    access::{call, key_with_rules},
    aws::{caller_arn, create_role, users_under, wait_until_no_users},
    helpers::{builder, error_of},
};

/// What a chained role needs to manage temporary users (and what moto checks it has).
const USER_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}]}"#;

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:GetCallerIdentity"],"Resource":"*"}]}"#;

/// A gateway whose own identity is moto's admin (in its environment, nowhere else), allowed
/// to offer it to targets under /cloud/.
fn gateway_with_own_identity(moto: &MotoServer, proxy: &RecordingProxy, path: &str) -> TestGateway {
    let (id, secret) = moto.admin();
    builder()
        .env("AWS_ACCESS_KEY_ID", id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env("MAYFLY_CLOUD_IDENTITY_TARGETS", "/cloud/*")
        .env(
            "MAYFLY_ALLOWED_ENDPOINTS",
            format!("{},{}", moto.url(), proxy.url()),
        )
        .env("MAYFLY_IAM_USER_PATH", path)
        .spawn()
        .expect("gateway")
}

fn iam_user_producer(name: &str, target: &str) -> Value {
    json!({"name": name, "target-name": target, "access-mode": "iam_user",
           "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess", "user-ttl": "15m",
           "aws-user-programmatic-access": true, "region": "us-east-1"})
}

fn value(gw: &TestGateway, name: &str) -> (u16, Value) {
    gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": name, "timeout": 20}),
    )
}

fn details(gw: &TestGateway, name: &str) -> Value {
    let (s, b) = gw.post_authed("/get-target-details", json!({"name": name}));
    assert_eq!(s, 200, "{b}");
    b["value"]["aws_target_details"].clone()
}

#[test]
fn a_gateway_with_no_stored_key_issues_and_revokes_through_its_own_identity() {
    let moto = MotoServer::shared();
    let proxy = RecordingProxy::start(moto.url());
    let path = crate::aws::unique_path();
    let gw = gateway_with_own_identity(moto, &proxy, &path);
    let (_, admin_secret) = moto.admin();

    // The SDK sends empty keys with use-gw-cloud-identity (its model requires the fields).
    let (s, b) = gw.post_authed(
        "/target-create-aws",
        json!({"name": "/cloud/aws", "use-gw-cloud-identity": true, "access-key-id": "",
               "access-key": "", "region": "us-east-1",
               "iam-endpoint": proxy.url(), "sts-endpoint": proxy.url()}),
    );
    assert_eq!(s, 200, "{b}");
    // Keys and the gateway's identity at once: 400. Outside MAYFLY_CLOUD_IDENTITY_TARGETS: 403.
    let (s, b) = gw.post_authed(
        "/target-create-aws",
        json!({"name": "/cloud/both", "use-gw-cloud-identity": true,
               "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "x"}),
    );
    assert_eq!(s, 400, "{b}");
    let (s, b) = gw.post_authed(
        "/target-create-aws",
        json!({"name": "/team/aws", "use-gw-cloud-identity": true}),
    );
    assert_eq!(s, 403, "{b}");
    assert!(
        error_of(&b).contains("MAYFLY_CLOUD_IDENTITY_TARGETS"),
        "{b}"
    );
    // Switching a target outside the list to the gateway's identity is refused too.
    let (s, b) = gw.post_authed(
        "/target-create-aws",
        json!({"name": "/team/keyed", "access-key-id": "AKIAIOSFODNN7EXAMPLE",
               "access-key": "x", "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = gw.post_authed(
        "/target-update-aws",
        json!({"name": "/team/keyed", "use-gw-cloud-identity": true}),
    );
    assert_eq!(s, 403, "{b}");

    // Details: the source and who it acts as, no secret.
    let d = details(&gw, "/cloud/aws");
    assert_eq!(d["use_gw_cloud_identity"], true, "{d}");
    assert_eq!(d["credential_source"], "gateway_identity");
    assert_eq!(d["aws_secret_access_key"], "");
    assert!(
        d["identity_arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:")),
        "{d}"
    );
    assert!(!d.to_string().contains(&admin_secret));

    // Issue and revoke an iam_user credential through it.
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        iam_user_producer("/cloud/reader", "/cloud/aws"),
    );
    assert_eq!(s, 200, "{b}");
    let (s, v) = value(&gw, "/cloud/reader");
    assert_eq!(s, 200, "{v}");
    assert!(caller_arn(moto, &v).is_some(), "the key works: {v}");
    assert_eq!(users_under(moto, &path).len(), 1);
    assert!(
        !proxy.calls("CreateUser").is_empty(),
        "through the target's endpoint"
    );
    let (s, b) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/cloud/reader", "tmp-creds-id": v["id"]}),
    );
    assert_eq!(s, 200, "{b}");
    wait_until_no_users(moto, &path, std::time::Duration::from_secs(20));

    // assume_role through the gateway's identity.
    let role = create_role(
        moto,
        &format!("cloud-{}", uuid::Uuid::new_v4().simple()),
        READ_ONLY,
    );
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        json!({"name": "/cloud/role", "target-name": "/cloud/aws", "access-mode": "assume_role",
               "aws-role-arns": role, "user-ttl": "15m"}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, v) = value(&gw, "/cloud/role");
    assert_eq!(s, 200, "{v}");
    assert!(v["security_token"].as_str().is_some_and(|t| !t.is_empty()));

    // No key to rotate.
    let (s, b) = gw.post_authed("/target-rotate-credentials", json!({"name": "/cloud/aws"}));
    assert_eq!(s, 400, "{b}");
    assert!(error_of(&b).contains("nothing to rotate"), "{b}");
    let (s, b) = gw.post_authed(
        "/target-update-aws",
        json!({"name": "/cloud/aws", "rotation-interval-days": 30}),
    );
    assert_eq!(s, 400, "{b}");

    // Nothing secret in the database: the target's sealed value is empty.
    let db = crate::rotation::db(&gw);
    let row = crate::aws::block_on(async {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        mayfly_store::entity::target::Entity::find()
            .filter(mayfly_store::entity::target::Column::Name.eq("/cloud/aws"))
            .one(&db)
            .await
    })
    .unwrap()
    .unwrap();
    assert_eq!(row.sealed_credentials, "");
    assert!(row.access.contains("gateway_identity"), "{}", row.access);
}

#[test]
fn without_any_identity_the_error_says_what_to_set_up() {
    let gw = builder()
        .env("MAYFLY_CLOUD_IDENTITY_TARGETS", "/*")
        // No credentials anywhere: no environment keys, no profile, no metadata service.
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .spawn()
        .expect("gateway");
    let moto = MotoServer::shared();
    let (s, b) = gw.post_authed(
        "/target-create-aws",
        json!({"name": "/nobody/aws", "use-gw-cloud-identity": true,
               "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
    );
    assert_eq!(s, 200, "{b}");
    let d = details(&gw, "/nobody/aws");
    assert_eq!(d["identity_arn"], "", "{d}");
    assert!(
        d["identity_error"]
            .as_str()
            .is_some_and(|e| e.contains("IRSA") && e.contains("NoCredentials")),
        "{d}"
    );
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        iam_user_producer("/nobody/reader", "/nobody/aws"),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = value(&gw, "/nobody/reader");
    assert_eq!(s, 502, "{b}");
    assert!(error_of(&b).contains("IRSA"), "{b}");
}

#[test]
fn a_target_chains_into_a_role_with_its_external_id_and_old_leases_keep_their_role() {
    let moto = MotoServer::shared();
    let proxy = RecordingProxy::start(moto.url());
    let path = crate::aws::unique_path();
    let gw = gateway_with_own_identity(moto, &proxy, &path);
    let (id, secret) = moto.admin();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let first = create_role(moto, &format!("chain-a-{suffix}"), USER_ADMIN);
    let second = create_role(moto, &format!("chain-b-{suffix}"), USER_ADMIN);
    let (s, b) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/chain/aws", "access-key-id": id, "access-key": secret,
               "region": "us-east-1", "iam-endpoint": proxy.url(), "sts-endpoint": proxy.url(),
               "role-arn": first, "generate-external-id": true,
               "role-session-name": "deploy-{target}", "role-session-duration": 1800}),
    );
    assert_eq!(s, 200, "{b}");
    let d = details(&gw, "/chain/aws");
    assert_eq!(d["gw_cloud_identity_external_id_opt"]["is_enabled"], true);
    assert_eq!(
        d["gw_cloud_identity_external_id_opt"]["role_arn"],
        first.as_str()
    );
    let external_id = d["gw_cloud_identity_external_id_opt"]["generated_external_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(external_id.starts_with("mayfly-"), "{d}");
    assert_eq!(d["role_arn"], first.as_str());
    assert!(
        d["identity_arn"]
            .as_str()
            .is_some_and(|a| a.contains(&format!("chain-a-{suffix}"))),
        "acts as the role: {d}"
    );

    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        iam_user_producer("/chain/reader", "/chain/aws"),
    );
    assert_eq!(s, 200, "{b}");
    let before = proxy.calls("AssumeRole").len();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (s, v) = value(&gw, "/chain/reader");
        assert_eq!(s, 200, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let assumed = proxy.calls("AssumeRole");
    // get-target-details assumed the role once already: the credentials are cached.
    assert_eq!(assumed.len(), before, "one AssumeRole for many requests");
    let call = assumed.last().expect("the role was assumed");
    assert_eq!(call.field("RoleArn"), Some(first.as_str()));
    assert_eq!(call.field("ExternalId"), Some(external_id.as_str()));
    assert_eq!(call.field("RoleSessionName"), Some("deploy-chain-aws"));
    assert_eq!(call.field("DurationSeconds"), Some("1800"));
    assert_eq!(users_under(moto, &path).len(), 3);

    // The target moves to another role; the live users were made by the first one and are
    // torn down by it (a retired copy of the target as it was: a new AssumeRole of the first
    // role, whatever the target says now).
    let first_role_calls = |p: &RecordingProxy| {
        p.calls("AssumeRole")
            .iter()
            .filter(|c| c.field("RoleArn") == Some(first.as_str()))
            .count()
    };
    let first_before = first_role_calls(&proxy);
    let (s, b) = gw.post_authed(
        "/target-update-aws",
        json!({"name": "/chain/aws", "role-arn": second, "external-id": "given-ext-id"}),
    );
    assert_eq!(s, 200, "{b}");
    let d = details(&gw, "/chain/aws");
    assert_eq!(
        d["gw_cloud_identity_external_id_opt"]["generated_external_id"],
        "given-ext-id"
    );
    let (s, b) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/chain/reader", "tmp-creds-id": ids[0]}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/chain/reader", "revoke-all": true}),
    );
    assert_eq!(s, 200, "{b}");
    wait_until_no_users(moto, &path, std::time::Duration::from_secs(30));
    let roles_used: Vec<String> = proxy
        .calls("AssumeRole")
        .iter()
        .filter_map(|c| c.field("RoleArn").map(str::to_owned))
        .collect();
    assert!(roles_used.contains(&second), "{roles_used:?}");
    assert!(
        first_role_calls(&proxy) > first_before,
        "the old leases were torn down through the first role: {roles_used:?}"
    );

    // Removing the chain: an empty role-arn.
    let (s, b) = gw.post_authed(
        "/target-update-aws",
        json!({"name": "/chain/aws", "role-arn": ""}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(details(&gw, "/chain/aws")["role_arn"], "");

    // Bad input: a user ARN, an external id with spaces, both external-id kinds.
    for (body, field) in [
        (
            json!({"role-arn": "arn:aws:iam::123456789012:user/x"}),
            "role-arn",
        ),
        (
            json!({"role-arn": first, "external-id": "has spaces"}),
            "external-id",
        ),
        (
            json!({"role-arn": first, "external-id": "x1", "generate-external-id": true}),
            "generate-external-id",
        ),
        (json!({"external-id": "abc"}), "role-arn"),
        (
            json!({"role-arn": first, "role-session-duration": 60}),
            "role-session-duration",
        ),
    ] {
        let mut body = body;
        body["name"] = json!("/chain/aws");
        let (s, b) = gw.post_authed("/target-update-aws", body);
        assert_eq!(s, 400, "{b}");
        assert!(error_of(&b).contains(field), "{field}: {b}");
    }
}

#[test]
fn a_scoped_key_cannot_borrow_the_gateways_identity() {
    let moto = MotoServer::shared();
    let proxy = RecordingProxy::start(moto.url());
    let path = crate::aws::unique_path();
    let gw = gateway_with_own_identity(moto, &proxy, &path);
    let (token, _) = key_with_rules(
        &gw,
        "/team/admin",
        &[(
            "target-rule",
            "/team/*",
            &["create", "read", "update", "list"],
        )],
        "none",
    );
    // Its own tree is not offered the gateway's identity.
    let (s, b) = call(
        &gw,
        &token,
        "/target-create-aws",
        json!({"name": "/team/mine", "use-gw-cloud-identity": true}),
    );
    assert_eq!(s, 403, "{b}");
    // The tree that is, it may not create in.
    let (s, b) = call(
        &gw,
        &token,
        "/target-create-aws",
        json!({"name": "/cloud/theirs", "use-gw-cloud-identity": true}),
    );
    assert_eq!(s, 403, "{b}");
    // Renaming an offered target into its tree is refused too (create on the new name is not
    // enough: the name leaves the list).
    let (s, b) = gw.post_authed(
        "/target-create-aws",
        json!({"name": "/cloud/shared", "use-gw-cloud-identity": true}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = gw.post_authed(
        "/target-update-aws",
        json!({"name": "/cloud/shared", "new-name": "/team/stolen"}),
    );
    assert_eq!(s, 403, "{b}");
}

/// Session credentials of `role` (moto knows them, so its auth accepts them).
fn role_credentials(moto: &MotoServer, role: &str) -> mayfly_testkit::imds::ImdsCredentials {
    use secrecy::ExposeSecret;
    let admin = crate::aws::admin_clients(moto);
    let creds = crate::aws::block_on(admin.sts.assume_role(&mayfly_aws::AssumeRole {
        role_arn: role.to_owned(),
        session_name: "instance".into(),
        duration_secs: 3600,
        ..Default::default()
    }))
    .expect("assume the instance role");
    mayfly_testkit::imds::ImdsCredentials {
        access_key_id: creds.access_key_id,
        secret_access_key: creds.secret_access_key.expose_secret().to_owned(),
        token: creds.session_token.expose_secret().to_owned(),
        // Within the gateway's 5-minute refresh margin a few seconds after each fetch.
        lifetime: std::time::Duration::from_secs(5 * 60 + 3),
    }
}

#[test]
fn instance_profile_credentials_are_picked_up_when_they_rotate() {
    use mayfly_testkit::imds::FakeImds;
    let moto = MotoServer::shared();
    let proxy = RecordingProxy::start(moto.url());
    let path = crate::aws::unique_path();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let first = create_role(moto, &format!("instance-a-{suffix}"), USER_ADMIN);
    let second = create_role(moto, &format!("instance-b-{suffix}"), USER_ADMIN);
    let imds = FakeImds::start(role_credentials(moto, &first));
    let gw = builder()
        // Nothing but the instance metadata service: no keys, no profile files.
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("MAYFLY_CLOUD_IDENTITY_TARGETS", "/cloud/*")
        .env(
            "MAYFLY_ALLOWED_ENDPOINTS",
            format!("{},{}", moto.url(), proxy.url()),
        )
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .expect("gateway");
    let (s, b) = gw.post_authed(
        "/target-create-aws",
        json!({"name": "/cloud/ec2", "use-gw-cloud-identity": true, "region": "us-east-1",
               "iam-endpoint": proxy.url(), "sts-endpoint": proxy.url()}),
    );
    assert_eq!(s, 200, "{b}");
    let acts_as = |gw: &TestGateway| details(gw, "/cloud/ec2")["identity_arn"].clone();
    let arn = acts_as(&gw);
    assert!(
        arn.as_str()
            .is_some_and(|a| a.contains(&format!("instance-a-{suffix}"))),
        "{arn}"
    );
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        iam_user_producer("/cloud/ec2-reader", "/cloud/ec2"),
    );
    assert_eq!(s, 200, "{b}");
    let (s, v) = value(&gw, "/cloud/ec2-reader");
    assert_eq!(s, 200, "{v}");

    // EC2 rotates the instance profile's credentials; the gateway, unrestarted, uses the new
    // ones once the old ones come within its refresh margin.
    let fetched = imds.fetches();
    imds.rotate(role_credentials(moto, &second));
    std::thread::sleep(std::time::Duration::from_secs(4));
    let arn = acts_as(&gw);
    assert!(
        arn.as_str()
            .is_some_and(|a| a.contains(&format!("instance-b-{suffix}"))),
        "{arn}"
    );
    assert!(imds.fetches() > fetched);
    let (s, v) = value(&gw, "/cloud/ec2-reader");
    assert_eq!(s, 200, "{v}");
    let signers: Vec<String> = proxy
        .calls("CreateUser")
        .iter()
        .filter_map(|c| c.access_key_id.clone())
        .collect();
    assert_eq!(signers.len(), 2, "{signers:?}");
    assert_ne!(signers[0], signers[1], "signed with the rotated key");
    assert_eq!(users_under(moto, &path).len(), 2);
}

#[test]
fn a_pod_with_irsa_uses_its_web_identity_token() {
    use mayfly_testkit::moto::MotoOptions;
    // moto 5.2.5 fails the unsigned AssumeRoleWithWebIdentity when it enforces auth.
    let moto = MotoServer::spawn(MotoOptions::default());
    let path = crate::aws::unique_path();
    let role = create_role(
        &moto,
        &format!("irsa-{}", uuid::Uuid::new_v4().simple()),
        USER_ADMIN,
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("token");
    // What EKS mounts: the pod's projected service-account token (STS checks it; moto not).
    std::fs::write(
        &token_file,
        mayfly_testkit::jwt::TestKey::A.sign(&mayfly_testkit::jwt::k8s_claims(
            "https://oidc.eks.us-east-1.amazonaws.com/id/TEST",
            "sts.amazonaws.com",
            "platform",
            "mayfly",
            "mayfly-0",
        )),
    )
    .unwrap();
    let gw = builder()
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_ROLE_ARN", &role)
        .env("AWS_ROLE_SESSION_NAME", "mayfly-gateway")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_STS", moto.url())
        .env("MAYFLY_CLOUD_IDENTITY_TARGETS", "/cloud/*")
        .env("MAYFLY_ALLOWED_ENDPOINTS", moto.url())
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .expect("gateway");
    let (s, b) = gw.post_authed(
        "/target-create-aws",
        json!({"name": "/cloud/eks", "use-gw-cloud-identity": true, "region": "us-east-1",
               "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
    );
    assert_eq!(s, 200, "{b}");
    let d = details(&gw, "/cloud/eks");
    assert!(
        d["identity_arn"]
            .as_str()
            .is_some_and(|a| a.contains("assumed-role") && a.contains("mayfly-gateway")),
        "{d}"
    );
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        iam_user_producer("/cloud/eks-reader", "/cloud/eks"),
    );
    assert_eq!(s, 200, "{b}");
    let (s, v) = value(&gw, "/cloud/eks-reader");
    assert_eq!(s, 200, "{v}");
    assert_eq!(users_under(&moto, &path).len(), 1);
}
