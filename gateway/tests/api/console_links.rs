//! Console sign-in links (`args: output=console-url`): for STS sessions, a one-time link made
//! through the federation endpoint (a local one here, `MAYFLY_FEDERATION_ENDPOINT`) from the
//! very credential handed out; for IAM users with a password, the account's sign-in page.
//! Whatever cannot make a link is refused before a credential is issued.

use mayfly_testkit::{federation::FakeFederation, moto::MotoServer};
use serde_json::{json, Value};

use crate::{
    aws::{create_moto_target, create_role},
    helpers::{builder, error_of},
};

const USER_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}]}"#;

fn get(gw: &mayfly_testkit::TestGateway, name: &str, args: &[&str]) -> (u16, Value) {
    gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": name, "args": args, "timeout": 20}),
    )
}

#[test]
fn console_links_are_made_from_the_credential_handed_out() {
    let moto = MotoServer::shared();
    let federation = FakeFederation::start();
    let path = crate::aws::unique_path();
    let gw = builder()
        .env("MAYFLY_FEDERATION_ENDPOINT", federation.endpoint())
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .expect("gateway");
    create_moto_target(&gw, moto);
    let role = create_role(
        moto,
        &format!("console-{}", uuid::Uuid::new_v4().simple()),
        USER_ADMIN,
    );
    for body in [
        json!({"name": "/role", "target-name": "/aws", "access-mode": "assume_role",
               "aws-role-arns": role, "user-ttl": "15m"}),
        json!({"name": "/session", "target-name": "/aws", "access-mode": "session_token",
               "user-ttl": "15m"}),
        json!({"name": "/console-user", "target-name": "/aws", "access-mode": "iam_user",
               "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess", "user-ttl": "15m",
               "aws-user-console-access": true, "aws-user-programmatic-access": false}),
        json!({"name": "/keys-only", "target-name": "/aws", "access-mode": "iam_user",
               "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess", "user-ttl": "15m"}),
    ] {
        let (s, b) = gw.post_authed("/gateway-create-producer-aws", body);
        assert_eq!(s, 200, "{b}");
    }

    // An STS session: the link carries the sign-in token of this very session.
    let (s, v) = get(
        &gw,
        "/role",
        &[
            "output=console-url",
            "console_destination=https://us-east-1.console.aws.amazon.com/s3/",
        ],
    );
    assert_eq!(s, 200, "{v}");
    let key = v["access_key_id"].as_str().unwrap();
    let link = url::Url::parse(v["console_url"].as_str().unwrap()).unwrap();
    assert!(link.as_str().starts_with(&federation.endpoint()), "{link}");
    let q: std::collections::HashMap<_, _> = link.query_pairs().into_owned().collect();
    assert_eq!(q["Action"], "login");
    assert_eq!(q["Issuer"], "mayfly");
    assert_eq!(
        q["Destination"],
        "https://us-east-1.console.aws.amazon.com/s3/"
    );
    assert_eq!(q["SigninToken"], format!("token-for-{key}"));
    assert_eq!(federation.sessions(), vec![key.to_owned()]);
    // Without the argument, no link and no federation call.
    let (s, v) = get(&gw, "/role", &[]);
    assert_eq!(s, 200, "{v}");
    assert!(v.get("console_url").is_none());
    assert_eq!(federation.sessions().len(), 1);

    // An IAM user with a password: its account's sign-in page.
    let (s, v) = get(&gw, "/console-user", &["output=console-url"]);
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["console_url"], "https://123456789012.signin.aws.amazon.com/console",
        "{v}"
    );
    assert!(v["password"].as_str().is_some_and(|p| !p.is_empty()));

    // Refused before anything is issued: a session AWS will not sign in, a user without a
    // password, a destination off the console, an unknown output.
    let live = |gw: &mayfly_testkit::TestGateway| {
        ["/role", "/session", "/console-user", "/keys-only"].map(|n| {
            let (_, b) = gw.post_authed("/gateway-get-producer-tmp-creds", json!({"name": n}));
            b.as_array().map_or(0, Vec::len)
        })
    };
    let leases_before = live(&gw);
    for (name, args, says) in [
        ("/session", vec!["output=console-url"], "GetFederationToken"),
        ("/keys-only", vec!["output=console-url"], "console password"),
        (
            "/role",
            vec![
                "output=console-url",
                "console_destination=https://evil.example/",
            ],
            "console_destination",
        ),
        (
            "/role",
            vec!["console_destination=https://console.aws.amazon.com/"],
            "output=console-url",
        ),
        ("/role", vec!["output=yaml"], "output"),
    ] {
        let (s, b) = get(&gw, name, &args);
        assert_eq!(s, 400, "{name} {args:?}: {b}");
        assert!(error_of(&b).contains(says), "{says}: {b}");
    }
    assert_eq!(live(&gw), leases_before, "nothing issued");
    assert_eq!(federation.sessions().len(), 1);
}
