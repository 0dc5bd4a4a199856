//! Bad input of every kind gets a 400 naming the field, and leaves the database as it was.

use serde_json::{json, Value};

use crate::helpers::{
    create_target, error_of, iam_user_body, on_each_database, snapshot, KEY_ID, ROLE,
};

fn with(mut body: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[test]
fn bad_producer_input_is_a_400_naming_every_field_and_changes_nothing() {
    on_each_database(|gw| {
        create_target(gw, "/t", "s");
        assert_eq!(
            gw.post_authed(
                "/gateway-create-producer-aws",
                iam_user_body("/existing", "/t")
            )
            .0,
            200
        );
        let before = snapshot(gw);
        let base = || iam_user_body("/new", "/t");
        let eleven: Vec<String> = (0..11)
            .map(|i| format!("arn:aws:iam::123456789012:policy/p{i}"))
            .collect();
        let eleven_groups: Vec<String> = (0..11).map(|i| format!("g{i}")).collect();
        let cases: Vec<(Value, &[&str])> = vec![
            (with(base(), json!({"user-ttl": "60"})), &["user-ttl"]),
            (with(base(), json!({"user-ttl": "0s"})), &["user-ttl"]),
            (with(base(), json!({"user-ttl": [60]})), &["user-ttl"]),
            (
                with(base(), json!({"access-mode": "root_keys"})),
                &["access-mode"],
            ),
            (
                with(base(), json!({"aws-user-policies": "arn:aws:s3:::bucket"})),
                &["aws-user-policies"],
            ),
            (
                with(base(), json!({"aws-user-policies": eleven.join(",")})),
                &["aws-user-policies"],
            ),
            (
                with(base(), json!({"aws-user-groups": eleven_groups.join(",")})),
                &["aws-user-groups"],
            ),
            (
                with(base(), json!({"aws-user-groups": "bad group!"})),
                &["aws-user-groups"],
            ),
            (
                with(base(), json!({"custom-username-template": "x".repeat(80)})),
                &["custom-username-template"],
            ),
            (
                with(
                    base(),
                    json!({"custom-username-template": "tmp user {{rand}}"}),
                ),
                &["custom-username-template"],
            ),
            (with(base(), json!({"name": "/a//b"})), &["name"]),
            (with(base(), json!({"name": ""})), &["name"]),
            (with(base(), json!({"tags": [1]})), &["tags"]),
            (
                with(base(), json!({"aws-user-programmatic-access": "maybe"})),
                &["aws-user-programmatic-access"],
            ),
            (
                with(
                    base(),
                    json!({"aws-user-programmatic-access": false, "aws-user-console-access": false}),
                ),
                &["aws-user"],
            ),
            (
                with(base(), json!({"aws-policy-document": "{not json"})),
                &["aws-policy-document"],
            ),
            (
                with(base(), json!({"target-name": "", "aws-access-key-id": ""})),
                &["target-name"],
            ),
            (
                with(base(), json!({"aws-access-key-id": KEY_ID})),
                &["target-name"],
            ),
            (
                json!({"name": "/r", "target-name": "/t", "access-mode": "assume_role"}),
                &["aws-role-arns"],
            ),
            (
                json!({"name": "/r", "target-name": "/t", "access-mode": "assume_role", "aws-role-arns": "arn:aws:iam::12:role/x"}),
                &["aws-role-arns"],
            ),
            (
                json!({"name": "/r", "target-name": "/t", "access-mode": "assume_role", "aws-role-arns": ROLE, "user-ttl": "13h"}),
                &["user-ttl"],
            ),
            (
                json!({"name": "/r", "target-name": "/t", "access-mode": "assume_role", "aws-role-arns": ROLE, "user-ttl": "5m"}),
                &["user-ttl"],
            ),
            // Several problems at once are all reported.
            (
                with(
                    base(),
                    json!({"user-ttl": "60", "access-mode": "nope", "aws-user-policies": "bad"}),
                ),
                &["user-ttl", "access-mode", "aws-user-policies"],
            ),
        ];
        for (body, fields) in cases {
            let (status, resp) = gw.post_authed("/gateway-create-producer-aws", body.clone());
            assert_eq!(status, 400, "{body} -> {resp}");
            let msg = error_of(&resp);
            for field in fields {
                assert!(
                    msg.contains(field),
                    "error for {body} should name {field}: {msg}"
                );
            }
        }
        // A bare number TTL gets a hint.
        let (_, resp) = gw.post_authed(
            "/gateway-create-producer-aws",
            with(base(), json!({"user-ttl": "60"})),
        );
        assert!(error_of(&resp).contains("60m"), "{resp}");
        // Updates are validated the same way and leave the stored definition alone.
        let (status, _) = gw.post_authed(
            "/gateway-update-producer-aws",
            with(
                iam_user_body("/existing", "/t"),
                json!({"user-ttl": "forever"}),
            ),
        );
        assert_eq!(status, 400);
        assert_eq!(
            snapshot(gw),
            before,
            "rejected requests must not change anything"
        );
    });
}

#[test]
fn bad_target_input_and_malformed_bodies_are_400s_that_change_nothing() {
    on_each_database(|gw| {
        create_target(gw, "/t", "s");
        let before = snapshot(gw);
        let cases: Vec<(&str, Value, &[&str])> = vec![
            (
                "/create-aws-target",
                json!({"name": "/x"}),
                &["access-key-id"],
            ),
            (
                "/create-aws-target",
                json!({"name": "/x", "access-key-id": KEY_ID}),
                &["access-key"],
            ),
            (
                "/create-aws-target",
                json!({"access-key-id": KEY_ID, "access-key": "s"}),
                &["name"],
            ),
            (
                "/create-aws-target",
                json!({"name": "/x", "access-key-id": "short", "access-key": "s"}),
                &["access-key-id"],
            ),
            (
                "/create-aws-target",
                json!({"name": "/x", "access-key-id": KEY_ID, "access-key": "s", "region": "mars-1"}),
                &["region"],
            ),
            (
                "/create-aws-target",
                json!({"name": "/x", "access-key-id": KEY_ID, "access-key": "s", "iam-endpoint": "file:///etc"}),
                &["iam-endpoint"],
            ),
            (
                "/create-aws-target",
                json!({"name": "/x", "access-key-id": KEY_ID, "access-key": "s", "delete_protection": "perhaps"}),
                &["delete_protection"],
            ),
            (
                "/create-aws-target",
                json!({"name": 5, "access-key-id": KEY_ID, "access-key": "s"}),
                &["name"],
            ),
            (
                "/update-aws-target",
                json!({"name": "/t", "access-key-id": KEY_ID}),
                &["access-key"],
            ),
            (
                "/update-aws-target",
                json!({"name": "/t", "new-name": "bad//name"}),
                &["new-name"],
            ),
            (
                "/delete-target",
                json!({"name": "/t", "force-deletion": "sometimes"}),
                &["force-deletion"],
            ),
            ("/get-target", json!({}), &["name"]),
        ];
        for (path, body, fields) in cases {
            let (status, resp) = gw.post_authed(path, body.clone());
            assert_eq!(status, 400, "{path} {body} -> {resp}");
            for field in fields {
                assert!(error_of(&resp).contains(field), "{path} {body}: {resp}");
            }
        }
        let token = gw.admin_token();
        for raw in ["{", "[]", "\"text\"", "{\"token\": 5}"] {
            let res = gw
                .client()
                .post(gw.url("/list-targets"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .unwrap();
            assert_eq!(res.status(), 400, "{raw}");
            let body: Value = res.json().unwrap();
            assert!(body["error"].is_string(), "{raw}: {body}");
        }
        // The gateway answers 413 from the Content-Length and closes the connection without
        // reading the 2 MB: a client still writing may see the close (broken pipe) before the
        // answer, a race of HTTP/1 itself. So a few tries; at least one must read the 413.
        let huge =
            json!({"token": token, "name": "/x", "description": "y".repeat(2 * 1024 * 1024)})
                .to_string();
        let mut statuses = Vec::new();
        for _ in 0..5 {
            match gw
                .client()
                .post(gw.url("/create-aws-target"))
                .header("content-type", "application/json")
                .body(huge.clone())
                .send()
            {
                Ok(res) => {
                    statuses.push(res.status().as_u16());
                    break;
                }
                Err(e) => assert!(e.is_request(), "not a transport race: {e}"),
            }
        }
        assert_eq!(statuses, [413], "an oversized body is refused with 413");
        assert_eq!(snapshot(gw), before);
    });
}
