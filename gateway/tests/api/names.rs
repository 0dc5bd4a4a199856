//! Names do not leak: responses name only the producers and targets the caller may `list`,
//! and `/metrics` is served as the `metrics` setting says.

use serde_json::json;

use crate::access::{call, key_with_rules};
use crate::helpers::{builder, create_target, error_of, iam_user_body, on_each_database};

#[test]
fn targets_and_items_name_only_what_the_caller_may_list() {
    on_each_database(|gw| {
        create_target(gw, "/shared/aws", "s");
        create_target(gw, "/hidden/aws", "s");
        for (name, target) in [
            ("/team-a/p1", "/shared/aws"),
            ("/team-b/secret-p", "/shared/aws"),
            ("/team-a/p2", "/hidden/aws"),
        ] {
            let (status, body) =
                gw.post_authed("/gateway-create-producer-aws", iam_user_body(name, target));
            assert_eq!(status, 200, "{body}");
        }
        let (token, _) = key_with_rules(
            gw,
            "/team-a",
            &[
                ("item-rule", "/team-a/*", &["read", "list", "delete"]),
                ("target-rule", "/shared/*", &["read", "list", "delete"]),
            ],
            "none",
        );
        let assoc_names = |target: &serde_json::Value| -> Vec<String> {
            target["target_items_assoc"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["item_name"].as_str().unwrap().to_owned())
                .collect()
        };

        for op in ["/get-target", "/get-target-details"] {
            let (status, body) = call(gw, &token, op, json!({"name": "/shared/aws"}));
            assert_eq!(status, 200, "{body}");
            let target = if op == "/get-target" {
                body.clone()
            } else {
                body["target"].clone()
            };
            assert_eq!(assoc_names(&target), ["/team-a/p1"], "{op}: {body}");
            assert!(!body.to_string().contains("team-b"), "{op}: {body}");
        }
        let (_, admin_view) = gw.post_authed("/get-target", json!({"name": "/shared/aws"}));
        assert_eq!(assoc_names(&admin_view).len(), 2, "the admin sees both");

        let (status, list) = call(gw, &token, "/list-targets", json!({}));
        assert_eq!(status, 200, "{list}");
        let targets = list["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 1, "{list}");
        assert_eq!(assoc_names(&targets[0]), ["/team-a/p1"]);
        assert!(!list.to_string().contains("team-b"), "{list}");

        // The conflict counts the hidden producer without naming it.
        let (status, body) = call(gw, &token, "/delete-target", json!({"name": "/shared/aws"}));
        assert_eq!(status, 409, "{body}");
        let message = error_of(&body);
        assert!(message.contains("/team-a/p1"), "{message}");
        assert!(
            message.contains("1 dynamic secret you may not list"),
            "{message}"
        );
        assert!(!message.contains("team-b"), "{message}");
        let (status, body) = call(
            gw,
            &token,
            "/delete-target",
            json!({"name": "/shared/aws", "force-deletion": true}),
        );
        assert_eq!(status, 403, "{body}");
        assert!(!error_of(&body).contains("team-b"), "{body}");
        let (status, _) = gw.post_authed("/get-target", json!({"name": "/shared/aws"}));
        assert_eq!(status, 200, "nothing was deleted");
        let (_, producers) = gw.post_authed("/gateway-list-producers", json!({}));
        assert_eq!(producers["producers"].as_array().unwrap().len(), 3);

        // list-items and get-producer show a target's name only to who may list the target.
        let (status, items) = call(gw, &token, "/list-items", json!({}));
        assert_eq!(status, 200, "{items}");
        let items = items["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        for item in items {
            let targets: Vec<&str> = item["item_targets_assoc"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["target_name"].as_str().unwrap())
                .collect();
            match item["item_name"].as_str().unwrap() {
                "/team-a/p1" => assert_eq!(targets, ["/shared/aws"]),
                "/team-a/p2" => assert!(targets.is_empty(), "{item}"),
                other => panic!("unexpected item {other}"),
            }
        }
        let (status, p2) = call(
            gw,
            &token,
            "/gateway-get-producer",
            json!({"name": "/team-a/p2"}),
        );
        assert_eq!(status, 200, "{p2}");
        assert!(!p2.to_string().contains("/hidden/aws"), "{p2}");
        let (_, p2) = gw.post_authed("/gateway-get-producer", json!({"name": "/team-a/p2"}));
        assert_eq!(p2["item_targets_assoc"][0]["target_name"], "/hidden/aws");
    });
}

fn get_metrics(gw: &mayfly_testkit::TestGateway, bearer: Option<&str>) -> (u16, String) {
    let mut req = gw.client().get(gw.url("/metrics"));
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let res = req.send().unwrap();
    (res.status().as_u16(), res.text().unwrap())
}

#[test]
fn metrics_are_open_off_or_behind_a_bearer_token() {
    let open = crate::helpers::spawn_sqlite();
    let (status, body) = get_metrics(&open, None);
    assert_eq!(status, 200, "open by default: {body}");
    assert!(body.contains("mayfly_leases"));
    drop(open);

    let explicit = builder().env("MAYFLY_METRICS", "open").spawn().unwrap();
    assert_eq!(get_metrics(&explicit, None).0, 200);
    drop(explicit);

    let off = builder().env("MAYFLY_METRICS", "off").spawn().unwrap();
    let (status, body) = get_metrics(&off, None);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("turned off"), "{body}");
    drop(off);

    let token = "metrics-scrape-token-0123456789abcdef";
    let bearer = builder()
        .env("MAYFLY_METRICS", "bearer")
        .env("MAYFLY_METRICS_TOKEN", token)
        .spawn()
        .unwrap();
    let (status, body) = get_metrics(&bearer, None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("Bearer"), "{body}");
    assert_eq!(
        get_metrics(&bearer, Some("metrics-scrape-token-wrong")).0,
        401
    );
    assert_eq!(get_metrics(&bearer, Some(&token[..token.len() - 1])).0, 401);
    let (status, body) = get_metrics(&bearer, Some(token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("mayfly_http_requests"));
    assert!(!bearer.logs().contains(token), "the token is never logged");
    drop(bearer);

    // From a file (a mounted Kubernetes secret, say); the token alone turns bearer on.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics-token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let from_file = builder()
        .env("MAYFLY_METRICS_TOKEN_FILE", &file)
        .spawn()
        .unwrap();
    assert_eq!(get_metrics(&from_file, None).0, 401);
    assert_eq!(get_metrics(&from_file, Some(token)).0, 200);
}
