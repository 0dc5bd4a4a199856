//! Anonymous traffic cannot grow the audit table: refusals of callers who proved nothing are
//! counted per window and client, while refusals of authenticated callers keep a row each.

use serde_json::{json, Value};

use crate::{access::key_with_rules, helpers::spawn_sqlite};

fn events(gw: &mayfly_testkit::TestGateway) -> Vec<Value> {
    let (status, page) = gw.post_authed("/get-audit-events", json!({"limit": 1000}));
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().unwrap().clone()
}

#[test]
fn six_hundred_anonymous_refusals_add_a_handful_of_rows() {
    let gw = spawn_sqlite();
    // A scoped key, logged in before the flood (which also trips the per-address login limit).
    let (token, id) = key_with_rules(
        &gw,
        "/scoped",
        &[("item-rule", "/team-a/*", &["read"])],
        "none",
    );
    let before = events(&gw).len();
    let long_item = format!("/{}", "x".repeat(500));
    for i in 0..150 {
        gw.post("/list-targets", json!({}));
        gw.post(
            "/create-aws-target",
            json!({"name": long_item, "token": format!("t-bogus{i}")}),
        );
        gw.post("/delete-role", json!({"name": "/r", "token": "t-nope"}));
        gw.post(
            "/auth",
            json!({"access-id": format!("p-{i:012}"), "access-key": "wrong"}),
        );
    }
    let after = events(&gw);
    let added: Vec<&Value> = after[before..]
        .iter()
        .filter(|e| e["operation"] != "get-audit-events")
        .collect();
    assert!(
        added.len() <= 8,
        "600 anonymous refusals became {} rows: {added:#?}",
        added.len()
    );
    let counted = added
        .iter()
        .find(|e| e["operation"] == "create-aws-target")
        .expect("the refusals are on record, counted");
    assert!(
        counted["detail"]
            .as_str()
            .unwrap()
            .starts_with("150 refusals"),
        "{counted}"
    );
    assert!(
        !after.iter().any(|e| e["item"] == json!(long_item)),
        "a body-supplied name of an anonymous caller is not stored"
    );
    let logins = added
        .iter()
        .find(|e| e["operation"] == "auth")
        .expect("failed logins counted");
    assert!(
        logins["detail"]
            .as_str()
            .unwrap()
            .contains("access ids tried: p-"),
        "{logins}"
    );

    // A valid token without the right: each refusal keeps its own row.
    for _ in 0..5 {
        let (status, _) = gw.post(
            "/gateway-delete-producer",
            json!({"name": "/team-b/p", "token": token}),
        );
        assert_eq!(status, 403);
    }
    let denied = events(&gw)
        .iter()
        .filter(|e| e["operation"] == "gateway-delete-producer" && e["access_id"] == json!(id))
        .count();
    assert_eq!(denied, 5);
}

/// A caller who may read only its own events cannot close the counting windows early: asking
/// for its events between anonymous refusals does not split them into a row each.
#[test]
fn reading_ones_own_events_does_not_split_the_counts() {
    let gw = spawn_sqlite();
    let (token, _) = key_with_rules(&gw, "/auditor", &[], "own");
    for _ in 0..10 {
        gw.post("/delete-role", json!({"name": "/r", "token": "t-nope"}));
        let (status, body) = gw.post("/get-audit-events", json!({"token": token}));
        assert_eq!(status, 200, "{body}");
    }
    let rows: Vec<Value> = events(&gw)
        .into_iter()
        .filter(|e| e["operation"] == "delete-role")
        .collect();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(
        rows[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("10 refusals"),
        "{}",
        rows[0]
    );
}
