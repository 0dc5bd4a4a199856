use serde_json::json;

use crate::helpers::{create_target, iam_user_body, on_each_database};

#[test]
fn list_items_lists_dynamic_secrets_by_folder() {
    on_each_database(|gw| {
        create_target(gw, "/t", "s");
        for name in ["/team-a/s3", "/team-a/db/rw", "/team-ab/x", "/top"] {
            let mut body = iam_user_body(name, "/t");
            if name == "/top" {
                body["tags"] = json!(["special"]);
            }
            assert_eq!(gw.post_authed("/gateway-create-producer-aws", body).0, 200);
        }
        let names = |v: &serde_json::Value| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["item_name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let (status, all) = gw.post_authed("/list-items", json!({"type": ["dynamic-secret"], "accessibility": "regular", "auto-pagination": "enabled", "current-folder": false}));
        assert_eq!(status, 200, "{all}");
        assert_eq!(
            names(&all),
            ["/team-a/db/rw", "/team-a/s3", "/team-ab/x", "/top"]
        );
        assert_eq!(all["folders"], json!(["/team-a", "/team-ab"]));
        let item = &all["items"][1];
        assert_eq!(item["item_type"], "DYNAMIC_SECRET");
        assert_eq!(item["item_sub_type"], "aws");
        assert_eq!(item["item_targets_assoc"][0]["target_name"], "/t");
        assert!(item["item_id"].as_i64().unwrap() > 0);

        let (_, a) = gw.post_authed("/list-items", json!({"path": "/team-a"}));
        assert_eq!(
            names(&a),
            ["/team-a/db/rw", "/team-a/s3"],
            "/team-ab is not inside /team-a"
        );
        assert_eq!(a["folders"], json!(["/team-a/db"]));
        let (_, here) = gw.post_authed(
            "/list-items",
            json!({"path": "/team-a/", "current-folder": true}),
        );
        assert_eq!(names(&here), ["/team-a/s3"]);
        let (_, tagged) = gw.post_authed("/list-items", json!({"tag": "special"}));
        assert_eq!(names(&tagged), ["/top"]);
        let (_, keys) = gw.post_authed("/list-items", json!({"type": ["static-secret"]}));
        assert_eq!(names(&keys), Vec::<String>::new());
        let (status, _) = gw.post_authed("/list-items", json!({"path": "a//b"}));
        assert_eq!(status, 400);
    });
}

/// Names are case-sensitive: SQLite's LIKE is not, so a folder filter built on it alone
/// returned `/TEAM-A/...` for `/team-a`.
#[test]
fn list_items_folders_are_case_sensitive() {
    on_each_database(|gw| {
        create_target(gw, "/t", "s");
        for name in ["/team-a/s3", "/TEAM-A/x", "/Team-A/y"] {
            let (status, body) =
                gw.post_authed("/gateway-create-producer-aws", iam_user_body(name, "/t"));
            assert_eq!(status, 200, "{body}");
        }
        let listed = |path: &str| {
            let (status, v) = gw.post_authed("/list-items", json!({ "path": path }));
            assert_eq!(status, 200, "{v}");
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["item_name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(listed("/team-a"), ["/team-a/s3"]);
        assert_eq!(listed("/TEAM-A"), ["/TEAM-A/x"]);
        assert_eq!(listed("/Team-A"), ["/Team-A/y"]);
    });
}
