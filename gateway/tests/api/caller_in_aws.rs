//! The caller's identity goes with the credential: a producer maps who asked (access id, auth
//! method, a JWT login's claims) to STS session tags and `SourceIdentity`. moto keeps neither
//! where a test can read it, so a recording proxy in front of it shows what the gateway sent.

use std::collections::BTreeMap;

use mayfly_testkit::{
    jwt::{github_claims, jwks, JwksServer, TestKey},
    moto::MotoServer,
    recording_proxy::{RecordingProxy, Seen},
};
use serde_json::json;

use crate::{
    access::call,
    aws::create_role,
    helpers::{builder, error_of},
};

const USER_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}]}"#;
const GITHUB: &str = "https://token.actions.githubusercontent.com";
const AUDIENCE: &str = "https://github.com/octo-org";

/// The session tags of a recorded `AssumeRole` (`Tags.member.N.Key` / `.Value`).
fn tags_of(call: &Seen) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for n in 1..=50 {
        match (
            call.field(&format!("Tags.member.{n}.Key")),
            call.field(&format!("Tags.member.{n}.Value")),
        ) {
            (Some(k), Some(v)) => {
                out.insert(k.to_owned(), v.to_owned());
            }
            _ => break,
        }
    }
    out
}

#[test]
fn sessions_carry_who_asked_as_tags_and_source_identity() {
    let moto = MotoServer::shared();
    let proxy = RecordingProxy::start(moto.url());
    let jwks_server = JwksServer::start(&jwks(&[TestKey::A]));
    let gw = builder()
        .env(
            "MAYFLY_ALLOWED_ENDPOINTS",
            format!("{},{},{}", moto.url(), proxy.url(), jwks_server.origin()),
        )
        .spawn()
        .expect("gateway");
    let (id, secret) = moto.admin();
    let (s, b) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/aws", "access-key-id": id, "access-key": secret, "region": "us-east-1",
               "iam-endpoint": proxy.url(), "sts-endpoint": proxy.url()}),
    );
    assert_eq!(s, 200, "{b}");
    let role = create_role(
        moto,
        &format!("tagged-{}", uuid::Uuid::new_v4().simple()),
        USER_ADMIN,
    );
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        json!({"name": "/ci/deploy", "target-name": "/aws", "access-mode": "assume_role",
               "aws-role-arns": role, "user-ttl": "15m", "session-tags": "Team=platform",
               "caller-session-tags": "Repo={claim:repository},Who={access_id},Method={auth_method}",
               "source-identity": "{claim:repository}"}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["producer_details"]["caller-session-tags"],
        "Repo={claim:repository},Who={access_id},Method={auth_method}"
    );

    // An API key: no claims, so no Repo and no SourceIdentity.
    let (s, v) = gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": "/ci/deploy", "timeout": 20}),
    );
    assert_eq!(s, 200, "{v}");
    let assumed = proxy.calls("AssumeRole").pop().expect("AssumeRole");
    let expected: BTreeMap<String, String> = [
        ("Team", "platform"),
        ("Who", gw.admin_access_id()),
        ("Method", "/admin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(tags_of(&assumed), expected);
    assert_eq!(assumed.field("SourceIdentity"), None);

    // A CI job logged in with its GitHub token: its repository goes along.
    let (s, b) = gw.post_authed(
        "/create-auth-method-oauth2",
        json!({"name": "/ci/github", "jwks-uri": jwks_server.uri(), "issuer": GITHUB,
               "audience": AUDIENCE, "unique-identifier": "repository"}),
    );
    assert_eq!(s, 200, "{b}");
    let access_id = b["access_id"].as_str().unwrap().to_owned();
    assert_eq!(
        gw.post_authed("/create-role", json!({"name": "/ci/r"})).0,
        200
    );
    let (s, b) = gw.post_authed(
        "/set-role-rule",
        json!({"role-name": "/ci/r", "path": "/ci/*", "capability": ["read"]}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = gw.post_authed(
        "/assoc-role-am",
        json!({"role-name": "/ci/r", "am-name": "/ci/github"}),
    );
    assert_eq!(s, 200, "{b}");
    let jwt = TestKey::A.sign(&github_claims(GITHUB, AUDIENCE, "octo-org/app-a"));
    let (s, b) = gw.post(
        "/auth",
        json!({"access-type": "jwt", "access-id": access_id, "jwt": jwt}),
    );
    assert_eq!(s, 200, "{b}");
    let token = b["token"].as_str().unwrap().to_owned();
    let (s, v) = call(
        &gw,
        &token,
        "/get-dynamic-secret-value",
        json!({"name": "/ci/deploy", "timeout": 20}),
    );
    assert_eq!(s, 200, "{v}");
    let assumed = proxy.calls("AssumeRole").pop().expect("AssumeRole");
    let tags = tags_of(&assumed);
    assert_eq!(tags["Repo"], "octo-org/app-a");
    assert_eq!(tags["Who"], access_id);
    assert_eq!(tags["Method"], "/ci/github");
    assert_eq!(assumed.field("SourceIdentity"), Some("octo-org-app-a"));

    // Checked when the producer is made.
    for (body, says) in [
        (
            json!({"name": "/x1", "target-name": "/aws", "access-mode": "iam_user",
                   "caller-session-tags": "Who={access_id}"}),
            "caller-session-tags",
        ),
        (
            json!({"name": "/x2", "target-name": "/aws", "access-mode": "federation_token",
                   "aws-policy-document": "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
                   "source-identity": "{access_id}"}),
            "source-identity",
        ),
        (
            json!({"name": "/x3", "target-name": "/aws", "access-mode": "assume_role",
                   "aws-role-arns": role, "caller-session-tags": "Who={whoever}"}),
            "whoever",
        ),
        (
            json!({"name": "/x4", "target-name": "/aws", "access-mode": "assume_role",
                   "aws-role-arns": role, "session-tags": "Who=fixed",
                   "caller-session-tags": "Who={access_id}"}),
            "also in session-tags",
        ),
    ] {
        let (s, b) = gw.post_authed("/gateway-create-producer-aws", body);
        assert_eq!(s, 400, "{b}");
        assert!(error_of(&b).contains(says), "{says}: {b}");
    }
}
