use serde_json::{json, Value};

use crate::helpers::{create_target, error_of, iam_user_body, on_each_database, KEY_ID};

#[test]
fn target_lifecycle_on_both_paths() {
    on_each_database(|gw| {
        let created = create_target(gw, "team/aws/admin", "secret-one");
        let id = created["target_id"].as_i64().expect("target_id");
        let (status, body) = gw.post_authed(
            "/target-create-aws",
            json!({"name": "/team/aws/other", "access-key-id": KEY_ID, "access-key": "s2",
                   "delete_protection": "true", "description": "second"}),
        );
        assert_eq!(status, 200, "{body}");
        assert!(body["target_id"].as_i64().unwrap() > id);

        let (status, body) = gw.post_authed(
            "/create-aws-target",
            json!({"name": "/team/aws/admin", "access-key-id": KEY_ID, "access-key": "x"}),
        );
        assert_eq!(status, 409, "{body}");

        let (status, t) = gw.post_authed("/get-target", json!({"name": "/team/aws/admin"}));
        assert_eq!(status, 200, "{t}");
        assert_eq!(t["target_name"], "/team/aws/admin");
        assert_eq!(t["target_type"], "aws");
        assert_eq!(t["target_id"], id);
        assert_eq!(t["delete_protection"], Value::Bool(false));
        assert_eq!(t["last_version"], 1);
        for date in ["creation_date", "modification_date"] {
            chrono::DateTime::parse_from_rfc3339(t[date].as_str().unwrap()).unwrap();
        }
        let (_, t2) = gw.post_authed("/target-get", json!({"name": "team/aws/other"}));
        assert_eq!(t2["delete_protection"], Value::Bool(true));
        assert_eq!(t2["comment"], "second");

        let (status, d) = gw.post_authed("/get-target-details", json!({"name": "/team/aws/admin"}));
        assert_eq!(status, 200);
        assert_eq!(
            d["value"]["aws_target_details"]["aws_secret_access_key"],
            "secret-one"
        );
        assert_eq!(
            d["value"]["aws_target_details"]["aws_access_key_id"],
            KEY_ID
        );
        assert_eq!(d["value"]["aws_target_details"]["aws_region"], "us-east-1");
        assert_eq!(d["target"]["target_name"], "/team/aws/admin");

        let (status, list) = gw.post_authed("/target-list", json!({"type": ["aws"]}));
        assert_eq!(status, 200);
        assert_eq!(list["targets"].as_array().unwrap().len(), 2);
        assert!(!list.to_string().contains("secret-one"));
        let (_, filtered) = gw.post_authed("/list-targets", json!({"filter": "other"}));
        assert_eq!(filtered["targets"].as_array().unwrap().len(), 1);
        let (_, none) = gw.post_authed("/list-targets", json!({"type": ["gcp"]}));
        assert_eq!(none["targets"].as_array().unwrap().len(), 0);

        // Old update answers {}, new one the id; rename and rotate the secret.
        let (status, body) = gw.post_authed(
            "/update-aws-target",
            json!({"name": "/team/aws/admin", "new-name": "/team/aws/root", "access-key-id": KEY_ID,
                   "access-key": "secret-two", "region": "eu-west-1", "keep-prev-version": "false"}),
        );
        assert_eq!((status, body), (200, json!({})));
        let (status, _) = gw.post_authed("/get-target", json!({"name": "/team/aws/admin"}));
        assert_eq!(status, 404);
        let (_, d) = gw.post_authed("/target-get-details", json!({"name": "/team/aws/root"}));
        assert_eq!(
            d["value"]["aws_target_details"]["aws_secret_access_key"],
            "secret-two"
        );
        assert_eq!(d["value"]["aws_target_details"]["aws_region"], "eu-west-1");
        assert_eq!(d["target"]["last_version"], 2);
        let (status, body) = gw.post_authed(
            "/target-update-aws",
            json!({"name": "/team/aws/root", "description": "renamed"}),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["target_id"], id);
        let (status, body) = gw.post_authed(
            "/update-aws-target-details",
            json!({"name": "/team/aws/root", "description": "again"}),
        );
        assert_eq!((status, body), (200, json!({"updated": true})));

        // Delete protection, unknown names.
        let (status, body) = gw.post_authed("/delete-target", json!({"name": "/team/aws/other"}));
        assert_eq!(status, 409, "{body}");
        assert!(error_of(&body).contains("delete protection"));
        let (status, _) = gw.post_authed("/delete-target", json!({"name": "/nope"}));
        assert_eq!(status, 404);
        let (status, body) = gw.post_authed("/target-delete", json!({"name": "/team/aws/root"}));
        assert_eq!((status, body), (200, json!({})));
        let (status, _) = gw.post_authed("/target-get", json!({"name": "/team/aws/root"}));
        assert_eq!(status, 404);
    });
}

#[test]
fn a_target_in_use_is_only_deleted_with_force_and_takes_its_producers() {
    on_each_database(|gw| {
        create_target(gw, "/t", "s");
        let (status, body) =
            gw.post_authed("/gateway-create-producer-aws", iam_user_body("/p1", "/t"));
        assert_eq!(status, 200, "{body}");
        let (_, t) = gw.post_authed("/get-target", json!({"name": "/t"}));
        assert_eq!(t["target_items_assoc"][0]["item_name"], "/p1");

        let (status, body) = gw.post_authed(
            "/delete-target",
            json!({"name": "/t", "force-deletion": false}),
        );
        assert_eq!(status, 409);
        assert!(error_of(&body).contains("/p1"), "{body}");
        let (status, _) = gw.post_authed("/gateway-get-producer", json!({"name": "/p1"}));
        assert_eq!(status, 200, "a refused delete leaves everything in place");

        let (status, body) = gw.post_authed(
            "/delete-target",
            json!({"name": "/t", "force-deletion": true}),
        );
        assert_eq!(status, 200, "{body}");
        let (status, _) = gw.post_authed("/gateway-get-producer", json!({"name": "/p1"}));
        assert_eq!(status, 404);
    });
}

#[test]
fn a_stale_target_update_does_not_overwrite_a_concurrent_one() {
    let gw = crate::helpers::spawn_sqlite();
    create_target(&gw, "/t", "s");
    // Many concurrent updates: each either lands or gets 409; the version counts the landed ones.
    let results: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let gw = &gw;
                s.spawn(move || {
                    gw.post_authed(
                        "/target-update-aws",
                        json!({"name": "/t", "description": format!("d{i}")}),
                    )
                    .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        results.iter().all(|s| *s == 200 || *s == 409),
        "{results:?}"
    );
    let landed = results.iter().filter(|s| **s == 200).count() as i64;
    let (_, t) = gw.post_authed("/get-target", json!({"name": "/t"}));
    assert_eq!(t["last_version"].as_i64().unwrap(), 1 + landed);
}
