use serde_json::{json, Value};

use crate::helpers::{create_target, error_of, iam_user_body, on_each_database, POLICY, ROLE};

#[test]
fn iam_user_producer_lifecycle_with_the_contract_fields() {
    on_each_database(|gw| {
        create_target(gw, "/aws/admin", "admin-secret");
        let (status, body) = gw.post_authed(
            "/gateway-create-producer-aws",
            iam_user_body("team-a/s3-reader", "/aws/admin"),
        );
        assert_eq!(status, 200, "{body}");
        let d = &body["producer_details"];
        assert_eq!(d["dynamic_secret_name"], "/team-a/s3-reader");
        assert_eq!(d["dynamic_secret_type"], "aws");
        assert_eq!(d["aws_access_mode"], "iam_user");
        assert_eq!(d["aws_user_policies"], POLICY);
        assert_eq!(d["aws_user_groups"], "developers");
        assert_eq!(d["aws_user_programmatic_access"], Value::Bool(true));
        assert_eq!(d["aws_user_console_access"], Value::Bool(false));
        assert_eq!(d["user_ttl"], "60m");
        assert_eq!(d["tags"], json!(["team-a"]));
        assert_eq!(d["delete_protection"], Value::Bool(false));
        assert_eq!(
            d["aws_region"], "us-east-1",
            "the target's region wins over the SDK's default"
        );
        assert_eq!(d["item_targets_assoc"][0]["target_name"], "/aws/admin");
        assert_eq!(d["aws_secret_access_key"], "");
        assert!(d["dynamic_secret_id"].as_i64().unwrap() > 0);

        let (status, got) = gw.post_authed(
            "/gateway-get-producer",
            json!({"name": "/team-a/s3-reader"}),
        );
        assert_eq!(status, 200);
        assert_eq!(&got, d, "get returns what create returned");

        let (status, list) = gw.post_authed("/gateway-list-producers", json!({}));
        assert_eq!(status, 200);
        assert_eq!(list["producers"][0]["name"], "/team-a/s3-reader");
        assert_eq!(list["producers"][0]["type"], "aws");
        assert_eq!(list["producers"][0]["active"], Value::Bool(true));

        // Update replaces the definition; a rename moves it.
        let mut update = iam_user_body("/team-a/s3-reader", "/aws/admin");
        update["new-name"] = json!("/team-a/s3-reader-v2");
        update["user-ttl"] = json!("2h");
        update["aws-user-groups"] = json!("");
        update["delete_protection"] = json!("true");
        let (status, body) = gw.post_authed("/gateway-update-producer-aws", update);
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["producer_details"]["dynamic_secret_name"],
            "/team-a/s3-reader-v2"
        );
        assert_eq!(body["producer_details"]["user_ttl"], "2h");
        assert_eq!(body["producer_details"]["aws_user_groups"], "");
        let (status, _) = gw.post_authed(
            "/gateway-get-producer",
            json!({"name": "/team-a/s3-reader"}),
        );
        assert_eq!(status, 404);

        let (status, body) = gw.post_authed(
            "/gateway-delete-producer",
            json!({"name": "/team-a/s3-reader-v2"}),
        );
        assert_eq!(status, 409, "delete protection: {body}");
        let mut unprotect = iam_user_body("/team-a/s3-reader-v2", "/aws/admin");
        unprotect["delete_protection"] = json!("false");
        assert_eq!(
            gw.post_authed("/gateway-update-producer-aws", unprotect).0,
            200
        );
        let (status, body) = gw.post_authed(
            "/gateway-delete-producer",
            json!({"name": "/team-a/s3-reader-v2"}),
        );
        assert_eq!(
            (status, body),
            (
                200,
                json!({"producer_name": "/team-a/s3-reader-v2", "revoking": 0})
            )
        );
        let (status, _) = gw.post_authed(
            "/gateway-delete-producer",
            json!({"name": "/team-a/s3-reader-v2"}),
        );
        assert_eq!(status, 404);
    });
}

#[test]
fn assume_role_producer_on_the_dynamic_secret_paths() {
    on_each_database(|gw| {
        create_target(gw, "/aws/admin", "s");
        let body = json!({
            "name": "/deploy/role", "target-name": "/aws/admin", "access-mode": "assumed_role",
            "aws-role-arns": format!("{ROLE},arn:aws:iam::123456789012:role/other"),
            "aws-external-id": "ext-123", "session-tags": "team=a,env=prod",
            "transitive-tag-keys": "team", "user-ttl": "30m", "description": "deployers",
            "aws-user-programmatic-access": true, "aws-user-console-access": false,
            "region": "us-east-2", "json": false,
        });
        let (status, body) = gw.post_authed("/dynamic-secret-create-aws", body);
        assert_eq!(status, 200, "{body}");
        let d = &body["dynamic_secret_details"];
        assert_eq!(
            d["aws_access_mode"], "assumed_role",
            "the stored spelling is echoed"
        );
        assert_eq!(
            d["aws_role_arns"],
            format!("{ROLE},arn:aws:iam::123456789012:role/other")
        );
        assert_eq!(d["aws_external_id"], "ext-123");
        assert_eq!(d["aws_session_tags"], "team=a,env=prod");
        assert_eq!(d["aws_transitive_tag_keys"], "team");
        assert_eq!(d["user_ttl"], "30m");
        assert_eq!(d["description"], "deployers");

        let (status, got) = gw.post_authed("/dynamic-secret-get", json!({"name": "/deploy/role"}));
        assert_eq!(status, 200);
        assert_eq!(&got, d);
        let (_, list) = gw.post_authed("/dynamic-secret-list", json!({}));
        assert_eq!(list["producers"].as_array().unwrap().len(), 1);

        let (status, body) = gw.post_authed(
            "/dynamic-secret-update-aws",
            json!({"name": "/deploy/role", "access-mode": "assume_role", "aws-role-arns": ROLE, "user-ttl": "1h"}),
        );
        assert_eq!(status, 200, "{body}");
        let d = &body["dynamic_secret_details"];
        assert_eq!(d["aws_access_mode"], "assume_role");
        assert_eq!(
            d["item_targets_assoc"][0]["target_name"], "/aws/admin",
            "no target given: kept"
        );

        let (status, body) =
            gw.post_authed("/dynamic-secret-delete", json!({"name": "/deploy/role"}));
        assert_eq!(
            (status, body),
            (
                200,
                json!({"dynamic_secret_name": "/deploy/role", "revoking": 0})
            )
        );
    });
}

#[test]
fn inline_credentials_become_a_private_target_that_lives_and_dies_with_the_producer() {
    on_each_database(|gw| {
        let body = json!({
            "name": "/inline", "access-mode": "session_token",
            "aws-access-key-id": "AKIAIOSFODNN7EXAMPLE", "aws-access-secret-key": "inline-secret",
            "region": "eu-central-1", "user-ttl": "1h",
        });
        let (status, body) = gw.post_authed("/gateway-create-producer-aws", body);
        assert_eq!(status, 200, "{body}");
        let d = &body["producer_details"];
        assert_eq!(d["aws_region"], "eu-central-1");
        assert_eq!(d["aws_access_key_id"], "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(d["aws_secret_access_key"], "");
        assert_eq!(d["item_targets_assoc"], json!([]));
        assert!(!body.to_string().contains("inline-secret"));
        let (_, targets) = gw.post_authed("/list-targets", json!({}));
        assert_eq!(
            targets["targets"],
            json!([]),
            "private targets are not listed"
        );

        // Switch to a named target: the private one goes away.
        create_target(gw, "/shared", "s");
        let (status, body) = gw.post_authed(
            "/gateway-update-producer-aws",
            json!({"name": "/inline", "access-mode": "session_token", "target-name": "/shared"}),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["producer_details"]["aws_access_key_id"], "");
        let (status, _) = gw.post_authed("/gateway-delete-producer", json!({"name": "/inline"}));
        assert_eq!(status, 200);
        let (status, _) = gw.post_authed("/delete-target", json!({"name": "/shared"}));
        assert_eq!(status, 200, "nothing uses the shared target any more");
    });
}

#[test]
fn producer_creation_refuses_unknown_targets_and_duplicate_names() {
    on_each_database(|gw| {
        let (status, body) = gw.post_authed(
            "/gateway-create-producer-aws",
            iam_user_body("/p", "/missing"),
        );
        assert_eq!(status, 404, "{body}");
        assert!(error_of(&body).contains("/missing"));
        create_target(gw, "/t", "s");
        assert_eq!(
            gw.post_authed("/gateway-create-producer-aws", iam_user_body("/p", "/t"))
                .0,
            200
        );
        let (status, body) =
            gw.post_authed("/dynamic-secret-create-aws", iam_user_body("/p", "/t"));
        assert_eq!(status, 409, "{body}");
    });
}

#[test]
fn admin_rotation_fields_schedule_inline_credentials_and_are_refused_on_named_targets() {
    let gw = crate::helpers::spawn_sqlite();
    let inline = json!({
        "name": "/inline", "access-mode": "iam_user",
        "aws-access-key-id": "AKIAIOSFODNN7EXAMPLE", "aws-access-secret-key": "s", "region": "us-east-1",
        "enable-admin-rotation": true, "admin-rotation-interval-days": 30,
    });
    let (status, body) = gw.post_authed("/dynamic-secret-create-aws", inline);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["dynamic_secret_details"]["enable_admin_rotation"],
        Value::Bool(true)
    );
    assert_eq!(
        body["dynamic_secret_details"]["admin_rotation_interval_days"],
        30
    );
    // What the SDK sends by default switches it off again.
    let (status, body) = gw.post_authed(
        "/dynamic-secret-update-aws",
        json!({"name": "/inline", "access-mode": "iam_user", "enable-admin-rotation": false, "admin-rotation-interval-days": 0}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["dynamic_secret_details"]["enable_admin_rotation"],
        Value::Bool(false)
    );

    create_target(&gw, "/named", "s");
    let mut named = iam_user_body("/named-p", "/named");
    named["enable-admin-rotation"] = json!(true);
    named["admin-rotation-interval-days"] = json!(7);
    let (status, body) = gw.post_authed("/gateway-create-producer-aws", named);
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).contains("rotation-interval-days"), "{body}");
    let (status, _) = gw.post_authed("/gateway-get-producer", json!({"name": "/named-p"}));
    assert_eq!(status, 404, "nothing was created");
    let (status, body) = gw.post_authed(
        "/target-update-aws",
        json!({"name": "/named", "rotation-interval-days": -1}),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = gw.post_authed(
        "/target-update-aws",
        json!({"name": "/named", "rotation-interval-days": 7}),
    );
    assert_eq!(status, 200, "{body}");
}
