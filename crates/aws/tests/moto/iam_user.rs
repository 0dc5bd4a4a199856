//! Issuing and tearing down temporary IAM users on moto, checked with the issued keys.

use mayfly_aws::{
    create_user_with_access, teardown_user, AwsError, CreateUser, IamApi, RetryPolicy, UserPlan,
};
use secrecy::{ExposeSecret, SecretString};

use crate::helpers::{admin, connection, deadline, factory, moto, unique, ACCOUNT};

const S3_READ_ONLY: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

/// Allows reading IAM users and their tags, nothing else.
const GET_USER_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListUserTags"],"Resource":"*"}]}"#;

/// An ed25519 public key (public material only).
const SSH_PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICKxeCaBmH7qJgiyCo112LOBtQfUxCq7eBC0t2Iz96bj mayfly-test";

/// A self-signed certificate (public material only), for `UploadSigningCertificate`.
const SIGNING_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIBhDCCASmgAwIBAgIUDgjtqCty7sB9TzF0Ixa3b7pThoIwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLbWF5Zmx5LXRlc3QwIBcNMjYxMTIxMTQyOTE4WhgPMjEyNjEw
MjgxNDI5MThaMBYxFDASBgNVBAMMC21heWZseS10ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEJmEK6xK91B8/q9BIT4BdCzoaueB8h8Ml4W6yJN05it/KmWbU
i+HmSMDbjDPhxrgTD+9vGfwkOZMVwv37kFiLraNTMFEwHQYDVR0OBBYEFBd22OBe
irTRwXeUaEvDe3EKGCLoMB8GA1UdIwQYMBaAFBd22OBeirTRwXeUaEvDe3EKGCLo
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhALpvCJwEB3+gLnZ7
fZm+eWvlAwB+tgnFMNRRHxNjjtlkAiEAqEw+dtTLRNM1tRUW7w+vW0uDyAz6GCGg
hS6wE4hq+qo=
-----END CERTIFICATE-----
";

fn plan(id: &str, path: &str) -> UserPlan {
    UserPlan {
        name: format!("tmp.{id}"),
        path: path.to_owned(),
        permissions_boundary: None,
        tags: vec![
            ("mayfly:cluster".into(), "moto-tests".into()),
            ("mayfly:lease".into(), id.to_owned()),
        ],
        policy_arns: Vec::new(),
        inline_policy: None,
        groups: Vec::new(),
        console_password: None,
        programmatic: true,
    }
}

#[tokio::test]
async fn an_issued_user_works_within_its_policies_and_dies_with_teardown() {
    let moto = moto();
    let factory = factory();
    let admin_iam = factory.iam(&admin(moto));
    let id = unique("full");
    let path = format!("/mayfly-test/{id}/");
    let group = unique("readers");
    admin_iam
        .sdk_client()
        .create_group()
        .group_name(&group)
        .send()
        .await
        .expect("group");

    let plan = UserPlan {
        policy_arns: vec![S3_READ_ONLY.into()],
        inline_policy: Some(("mayfly-inline".into(), GET_USER_ONLY.into())),
        groups: vec![group.clone()],
        console_password: Some(SecretString::from("Mayfly-Test-Passw0rd!")),
        ..plan(&id, &path)
    };
    let created = create_user_with_access(&admin_iam, &plan, deadline(30), &RetryPolicy::default())
        .await
        .expect("issued");
    let key = created.access_key.expect("programmatic access");

    // Everything the plan asked for exists.
    let user = admin_iam
        .get_user(&plan.name)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(user.path, path);
    assert_eq!(
        user.arn,
        format!("arn:aws:iam::{ACCOUNT}:user{path}{}", plan.name)
    );
    for tag in &plan.tags {
        assert!(
            user.tags.contains(tag),
            "{tag:?} missing from {:?}",
            user.tags
        );
    }
    assert_eq!(
        admin_iam
            .list_attached_user_policies(&plan.name)
            .await
            .expect("list"),
        vec![S3_READ_ONLY.to_owned()]
    );
    assert_eq!(
        admin_iam
            .list_user_policies(&plan.name)
            .await
            .expect("list"),
        vec!["mayfly-inline".to_owned()]
    );
    assert_eq!(
        admin_iam
            .list_groups_for_user(&plan.name)
            .await
            .expect("list"),
        vec![group.clone()]
    );
    assert_eq!(
        admin_iam.list_access_keys(&plan.name).await.expect("list"),
        vec![key.access_key_id.clone()]
    );
    admin_iam
        .sdk_client()
        .get_login_profile()
        .user_name(&plan.name)
        .send()
        .await
        .expect("login profile exists");
    let listed = admin_iam.list_users(&path).await.expect("list users");
    assert_eq!(listed.len(), 1, "{listed:?}");

    // The issued key authenticates as the new user...
    let as_user = factory.clients(&connection(
        moto,
        &key.access_key_id,
        key.secret_access_key.expose_secret(),
        None,
    ));
    let me = as_user.sts.get_caller_identity().await.expect("key works");
    assert_eq!(me.arn, user.arn);
    assert_eq!(me.account, ACCOUNT);
    // ...may do what its inline policy allows...
    let own = as_user.iam.get_user(&plan.name).await.expect("allowed");
    assert_eq!(own.map(|u| u.name), Some(plan.name.clone()));
    // ...and nothing else.
    let denied = as_user.iam.list_users("/").await.expect_err("denied");
    assert!(
        matches!(&denied, AwsError::AccessDenied { action, .. } if action == "iam:ListUsers"),
        "{denied:?}"
    );
    let denied = as_user
        .iam
        .create_user(&CreateUser {
            name: unique("escalation"),
            path: "/".into(),
            permissions_boundary: None,
            tags: Vec::new(),
        })
        .await
        .expect_err("denied");
    assert!(
        matches!(&denied, AwsError::AccessDenied { action, .. } if action == "iam:CreateUser"),
        "{denied:?}"
    );

    let report = teardown_user(
        &admin_iam,
        &plan.name,
        deadline(30),
        &RetryPolicy::default(),
    )
    .await
    .expect("torn down");
    assert!(report.user_existed);
    for expected in [
        "login-profile".to_owned(),
        format!("access-key:{}", key.access_key_id),
        format!("managed-policy:{S3_READ_ONLY}"),
        "inline-policy:mayfly-inline".to_owned(),
        format!("group:{group}"),
        format!("user:{}", plan.name),
    ] {
        assert!(
            report.removed.contains(&expected),
            "{expected} not in {report:?}"
        );
    }

    // The key is dead and nothing is left under the path.
    let rejected = as_user
        .sts
        .get_caller_identity()
        .await
        .expect_err("key rejected");
    assert!(
        matches!(rejected, AwsError::AccessDenied { .. }),
        "{rejected:?}"
    );
    assert!(admin_iam.list_users(&path).await.expect("list").is_empty());
    assert!(admin_iam.get_user(&plan.name).await.expect("get").is_none());
    let members = admin_iam
        .sdk_client()
        .get_group()
        .group_name(&group)
        .send()
        .await
        .expect("group");
    assert!(members.users().is_empty(), "{:?}", members.users());
    admin_iam
        .sdk_client()
        .delete_group()
        .group_name(&group)
        .send()
        .await
        .expect("clean up the group");
}

#[tokio::test]
async fn teardown_removes_what_was_added_out_of_band() {
    let moto = moto();
    let factory = factory();
    let admin_iam = factory.iam(&admin(moto));
    let sdk = admin_iam.sdk_client();
    let id = unique("oob");
    let path = format!("/mayfly-test/{id}/");
    let plan = plan(&id, &path);
    let created = create_user_with_access(&admin_iam, &plan, deadline(30), &RetryPolicy::default())
        .await
        .expect("issued");
    let first_key = created.access_key.expect("key");
    let user = plan.name.as_str();

    // Another admin adds things to the user behind our back.
    admin_iam
        .create_login_profile(user, &SecretString::from("Out-of-band-Passw0rd!"), true)
        .await
        .expect("login profile");
    let second_key = admin_iam.create_access_key(user).await.expect("second key");
    admin_iam
        .put_user_policy(user, "out-of-band", GET_USER_ONLY)
        .await
        .expect("inline policy");
    let mfa = sdk
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(unique("mfa"))
        .send()
        .await
        .expect("virtual mfa");
    let serial = mfa
        .virtual_mfa_device()
        .map(|d| d.serial_number().to_owned())
        .expect("serial");
    sdk.enable_mfa_device()
        .user_name(user)
        .serial_number(&serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .expect("enable mfa");
    let ssh = sdk
        .upload_ssh_public_key()
        .user_name(user)
        .ssh_public_key_body(SSH_PUBLIC_KEY)
        .send()
        .await
        .expect("ssh key");
    let ssh_id = ssh
        .ssh_public_key()
        .map(|k| k.ssh_public_key_id().to_owned())
        .expect("ssh key id");
    let cert = sdk
        .upload_signing_certificate()
        .user_name(user)
        .certificate_body(SIGNING_CERTIFICATE)
        .send()
        .await
        .expect("signing certificate");
    let cert_id = cert
        .certificate()
        .map(|c| c.certificate_id().to_owned())
        .expect("certificate id");
    assert_eq!(
        admin_iam.list_mfa_devices(user).await.expect("list"),
        vec![serial.clone()]
    );
    assert_eq!(
        admin_iam.list_ssh_public_keys(user).await.expect("list"),
        vec![ssh_id.clone()]
    );
    assert_eq!(
        admin_iam
            .list_signing_certificates(user)
            .await
            .expect("list"),
        vec![cert_id.clone()]
    );

    let report = teardown_user(&admin_iam, user, deadline(30), &RetryPolicy::default())
        .await
        .expect("torn down");
    for expected in [
        "login-profile".to_owned(),
        format!("access-key:{}", first_key.access_key_id),
        format!("access-key:{}", second_key.access_key_id),
        format!("mfa-device:{serial}"),
        format!("signing-certificate:{cert_id}"),
        format!("ssh-public-key:{ssh_id}"),
        "inline-policy:out-of-band".to_owned(),
        format!("user:{user}"),
    ] {
        assert!(
            report.removed.contains(&expected),
            "{expected} not in {report:?}"
        );
    }

    // moto deletes users whatever hangs off them, so check the leftovers DeleteUser would
    // not have cleaned: the virtual MFA device and both keys.
    let devices = sdk
        .list_virtual_mfa_devices()
        .send()
        .await
        .expect("list virtual mfa");
    assert!(
        devices
            .virtual_mfa_devices()
            .iter()
            .all(|d| d.serial_number() != serial),
        "virtual MFA device {serial} survived"
    );
    for key in [&first_key, &second_key] {
        let as_user = factory.clients(&connection(
            moto,
            &key.access_key_id,
            key.secret_access_key.expose_secret(),
            None,
        ));
        assert!(
            as_user.sts.get_caller_identity().await.is_err(),
            "{} still authenticates",
            key.access_key_id
        );
    }
    assert!(admin_iam.list_users(&path).await.expect("list").is_empty());
}

#[tokio::test]
async fn a_failure_after_create_user_reports_the_user_for_teardown() {
    let moto = moto();
    let factory = factory();
    let admin_iam = factory.iam(&admin(moto));
    let id = unique("fault");
    let path = format!("/mayfly-test/{id}/");
    let plan = UserPlan {
        policy_arns: vec![S3_READ_ONLY.into()],
        groups: vec![unique("no-such-group")],
        ..plan(&id, &path)
    };
    let failure = create_user_with_access(&admin_iam, &plan, deadline(30), &RetryPolicy::default())
        .await
        .expect_err("the group does not exist");
    assert!(failure.user_created);
    assert!(failure.error.is_no_such_entity(), "{failure:?}");
    // The key is created alongside the failing call but never handed out (the failure
    // carries none); the teardown deletes it with the user.
    assert!(
        admin_iam
            .list_access_keys(&plan.name)
            .await
            .expect("list")
            .len()
            <= 1,
        "at most the one key made alongside the set-up"
    );

    teardown_user(
        &admin_iam,
        &plan.name,
        deadline(30),
        &RetryPolicy::default(),
    )
    .await
    .expect("torn down");
    assert!(admin_iam.list_users(&path).await.expect("list").is_empty());
}

#[tokio::test]
async fn existing_and_missing_users_answer_like_iam() {
    let moto = moto();
    let factory = factory();
    let admin_iam = factory.iam(&admin(moto));
    let id = unique("exists");
    let path = format!("/mayfly-test/{id}/");
    let input = CreateUser {
        name: format!("tmp.{id}"),
        path: path.clone(),
        permissions_boundary: None,
        tags: vec![("mayfly:lease".into(), id.clone())],
    };
    assert!(admin_iam
        .get_user(&input.name)
        .await
        .expect("get")
        .is_none());
    admin_iam.create_user(&input).await.expect("created");
    let again = admin_iam.create_user(&input).await.expect_err("exists");
    assert!(again.is_entity_already_exists(), "{again:?}");
    assert_eq!(
        admin_iam.list_user_tags(&input.name).await.expect("tags"),
        input.tags
    );
    let missing = admin_iam
        .list_access_keys(&unique("nobody"))
        .await
        .expect_err("no such user");
    assert!(missing.is_no_such_entity(), "{missing:?}");

    let report = teardown_user(
        &admin_iam,
        &input.name,
        deadline(30),
        &RetryPolicy::default(),
    )
    .await
    .expect("torn down");
    assert_eq!(report.removed, vec![format!("user:{}", input.name)]);
    let again = teardown_user(
        &admin_iam,
        &input.name,
        deadline(30),
        &RetryPolicy::default(),
    )
    .await
    .expect("a missing user is torn down already");
    assert!(!again.user_existed);
    assert!(again.removed.is_empty());
}

#[tokio::test]
async fn list_calls_follow_markers_to_the_last_page() {
    let moto = moto();
    let factory = factory();
    let admin_iam = factory.iam(&admin(moto));
    let id = unique("pages");
    let path = format!("/mayfly-test/{id}/");
    let arns = [
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess",
        "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess",
        "arn:aws:iam::aws:policy/AmazonSNSReadOnlyAccess",
        "arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess",
    ];
    let plan = UserPlan {
        policy_arns: arns.iter().map(|a| a.to_string()).collect(),
        programmatic: false,
        ..plan(&id, &path)
    };
    create_user_with_access(&admin_iam, &plan, deadline(30), &RetryPolicy::default())
        .await
        .expect("issued");
    // moto pages ListAttachedUserPolicies (2 per page here); the SDK call alone sees one page.
    let first_page = admin_iam
        .sdk_client()
        .list_attached_user_policies()
        .user_name(&plan.name)
        .max_items(2)
        .send()
        .await
        .expect("page");
    assert!(first_page.is_truncated(), "moto paginates");
    let paged = factory.iam(&admin(moto)).with_page_size(2);
    let mut listed = paged
        .list_attached_user_policies(&plan.name)
        .await
        .expect("all pages");
    listed.sort();
    let mut expected: Vec<String> = arns.iter().map(|a| a.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);

    teardown_user(&paged, &plan.name, deadline(30), &RetryPolicy::default())
        .await
        .expect("torn down page by page");
    assert!(admin_iam.list_users(&path).await.expect("list").is_empty());
}

#[tokio::test]
async fn a_pretty_printed_policy_document_is_accepted() {
    let moto = moto();
    let factory = factory();
    let admin_iam = factory.iam(&admin(moto));
    let id = unique("pretty");
    let path = format!("/mayfly-test/{id}/");
    let document = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"iam:GetUser\",\n      \"Resource\": \"*\"\n    }\n  ]\n}\n";
    let plan = UserPlan {
        inline_policy: Some((
            "pretty policy+name".replace([' ', '+'], "-"),
            document.into(),
        )),
        console_password: Some(SecretString::from("With spaces & symbols +/= 1aA")),
        ..plan(&id, &path)
    };
    create_user_with_access(&admin_iam, &plan, deadline(30), &RetryPolicy::default())
        .await
        .expect("issued");
    teardown_user(
        &admin_iam,
        &plan.name,
        deadline(30),
        &RetryPolicy::default(),
    )
    .await
    .expect("torn down");
}
