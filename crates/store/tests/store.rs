//! Store queries against an in-memory SQLite database with the real migrations applied.

use mayfly_store::{
    auth, connect, meta, producers,
    producers::NewProducer,
    targets::{self, NewTarget},
    StoreError,
};

async fn db() -> mayfly_store::DatabaseConnection {
    // One connection: every connection to `sqlite::memory:` would be a separate database.
    connect("sqlite::memory:", 1).await.expect("connect")
}

fn new_target(name: &str) -> NewTarget {
    NewTarget {
        uid: uuid_like(name),
        name: name.to_owned(),
        description: String::new(),
        region: "us-east-1".into(),
        iam_endpoint: None,
        sts_endpoint: None,
        sealed_credentials: "v1.k1.sealed".into(),
        access: String::new(),
        is_private: false,
        delete_protection: false,
    }
}

fn uuid_like(name: &str) -> String {
    format!("uid-{name}")
}

#[tokio::test]
async fn a_setting_put_twice_keeps_the_last_value() {
    let db = db().await;
    assert_eq!(meta::get(&db, "k").await.unwrap(), None);
    meta::put(&db, "k", "one").await.unwrap();
    meta::put(&db, "k", "two").await.unwrap();
    assert_eq!(meta::get(&db, "k").await.unwrap().as_deref(), Some("two"));
}

#[tokio::test]
async fn cluster_id_is_created_once_and_then_kept() {
    let db = db().await;
    let first = meta::ensure_cluster_id(&db, "c-one").await.unwrap();
    let second = meta::ensure_cluster_id(&db, "c-two").await.unwrap();
    assert_eq!(first, "c-one");
    assert_eq!(second, "c-one");
}

#[tokio::test]
async fn duplicate_target_name_is_a_conflict() {
    let db = db().await;
    targets::insert(&db, new_target("/t"), 1).await.unwrap();
    let mut again = new_target("/t");
    again.uid = "other".into();
    let err = targets::insert(&db, again, 2).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

#[tokio::test]
async fn update_is_refused_when_the_row_changed_since_it_was_read() {
    let db = db().await;
    let row = targets::insert(&db, new_target("/t"), 1).await.unwrap();
    let mut first = row.clone();
    first.description = "first".into();
    assert!(targets::update_if_unchanged(&db, &first, 2).await.unwrap());
    let mut stale = row.clone();
    stale.description = "stale".into();
    assert!(!targets::update_if_unchanged(&db, &stale, 3).await.unwrap());
    let now = targets::find_by_id(&db, row.id).await.unwrap().unwrap();
    assert_eq!(now.description, "first");
    assert_eq!(now.version, 2);
}

#[tokio::test]
async fn a_target_in_use_cannot_be_deleted_under_the_foreign_key() {
    let db = db().await;
    let t = targets::insert(&db, new_target("/t"), 1).await.unwrap();
    producers::insert(
        &db,
        NewProducer {
            name: "/p".into(),
            target_id: t.id,
            access_mode: "iam_user".into(),
            spec: "{}".into(),
        },
        1,
    )
    .await
    .unwrap();
    assert!(targets::delete(&db, t.id).await.is_err());
    assert_eq!(targets::producers_using(&db, t.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn list_below_matches_whole_folders_and_escapes_like_wildcards() {
    let db = db().await;
    let t = targets::insert(&db, new_target("/t"), 1).await.unwrap();
    for name in ["/a/x", "/a/b/y", "/ab/z", "/a_/w", "/a%/v"] {
        producers::insert(
            &db,
            NewProducer {
                name: name.into(),
                target_id: t.id,
                access_mode: "iam_user".into(),
                spec: "{}".into(),
            },
            1,
        )
        .await
        .unwrap();
    }
    let names = |v: Vec<mayfly_store::entity::producer::Model>| {
        v.into_iter().map(|p| p.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(producers::list_below(&db, "/a").await.unwrap()),
        ["/a/b/y", "/a/x"]
    );
    assert_eq!(
        names(producers::list_below(&db, "/a_").await.unwrap()),
        ["/a_/w"]
    );
    assert_eq!(producers::list_below(&db, "/").await.unwrap().len(), 5);
}

#[tokio::test]
async fn tokens_expire() {
    let db = db().await;
    let m = auth::insert_auth_method(
        &db,
        auth::NewAuthMethod {
            name: "/admin".into(),
            access_id: "p-x".into(),
            kind: "api_key".into(),
            key_hash: "h".into(),
            settings: String::new(),
            description: String::new(),
            delete_protection: false,
        },
        0,
    )
    .await
    .unwrap();
    auth::insert_token(
        &db,
        &m,
        auth::NewToken {
            token_hash: "th".into(),
            created_at: 0,
            expires_at: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(auth::find_live_token(&db, "th", 99)
        .await
        .unwrap()
        .is_some());
    assert!(auth::find_live_token(&db, "th", 100)
        .await
        .unwrap()
        .is_none());
    assert_eq!(auth::delete_expired_tokens(&db, 100).await.unwrap(), 1);
    assert_eq!(auth::count_auth_methods(&db).await.unwrap(), 1);
}

mod leases {
    use mayfly_store::{
        leases::{self, LeaseMode, LeaseState, NewLease},
        LeaseId, ProducerId, TargetId,
    };

    fn new_lease(id: &str, mode: &str, expires_at: i64) -> NewLease {
        NewLease {
            created_by_identity: String::new(),
            created_by_claims: String::new(),
            id: LeaseId::new(id),
            producer_id: ProducerId::new(1),
            producer_name: "/p".into(),
            target_id: TargetId::new(1),
            mode: LeaseMode::from_access_mode(mode).unwrap(),
            state: if mode == "iam_user" {
                LeaseState::Creating
            } else {
                LeaseState::Active
            },
            iam_user_name: Some(format!("tmp.{id}")),
            iam_user_path: Some("/mayfly/".into()),
            access_key_id: None,
            created_by: "p-admin".into(),
            client_address: "127.0.0.1".into(),
            expires_at,
            aws_account: None,
            session_name: None,
            role_arn: None,
        }
    }

    /// A database with the target and producer (both id 1) that `new_lease` names: a lease
    /// is only written for an existing producer.
    async fn db() -> mayfly_store::DatabaseConnection {
        use mayfly_store::{producers, producers::NewProducer, targets};
        let db = super::db().await;
        let t = targets::insert(&db, super::new_target("/t"), 0)
            .await
            .unwrap();
        let p = producers::insert(
            &db,
            NewProducer {
                name: "/p".into(),
                target_id: t.id,
                access_mode: "iam_user".into(),
                spec: "{}".into(),
            },
            0,
        )
        .await
        .unwrap();
        assert_eq!((t.id, p.id), (TargetId::new(1), ProducerId::new(1)));
        db
    }

    /// Issues lease `id` at `at` (expiring at `expires_at`) and makes it active.
    async fn issue(db: &mayfly_store::DatabaseConnection, id: &str, at: i64, expires_at: i64) {
        assert!(
            leases::insert(db, new_lease(id, "iam_user", expires_at), at)
                .await
                .unwrap()
        );
        assert!(leases::mark_active(db, &LeaseId::new(id), None, None, at)
            .await
            .unwrap());
    }

    /// Tears lease `id` down at `at`, as the revoker does.
    async fn end(db: &mayfly_store::DatabaseConnection, id: &str, at: i64) {
        let id = LeaseId::new(id);
        assert!(leases::claim_for_revoke(db, &id, "g1", at).await.unwrap());
        assert!(
            leases::finish_revoke(db, &id, "g1", LeaseState::Revoked, at)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn activity_counts_issued_and_ended_per_hour_and_the_lag_of_late_teardowns() {
        const H: i64 = 3_600_000;
        let db = db().await;
        issue(&db, "before", -5, H).await; // issued before the window
        issue(&db, "late", 10, H + H / 2).await;
        end(&db, "late", 2 * H + 5_000).await; // 30 min and 5 s after its expiry
        issue(&db, "early", 20, 10 * H).await;
        end(&db, "early", 3 * H).await; // revoked by request, long before its expiry
        issue(&db, "live", H + 1, 4 * H).await;
        assert!(
            leases::insert(&db, new_lease("new", "iam_user", 9 * H), 3 * H + 7)
                .await
                .unwrap()
        );

        let a = leases::activity(&db, &[ProducerId::new(1)], 0, 4)
            .await
            .unwrap();
        assert_eq!(a.issued, [2, 1, 0, 1]);
        assert_eq!(a.ended, [0, 0, 1, 1]);
        assert_eq!(a.lag_count, 1, "only the teardown after expiry is lag");
        assert_eq!(a.lag_total_ms, H / 2 + 5_000);
        assert_eq!(a.lag_max_ms, H / 2 + 5_000);

        let none = leases::activity(&db, &[ProducerId::new(2)], 0, 4)
            .await
            .unwrap();
        assert_eq!(
            (none.issued, none.ended, none.lag_count),
            (vec![0; 4], vec![0; 4], 0)
        );
        // A window that starts later shifts the buckets and drops what came before it.
        let later = leases::activity(&db, &[ProducerId::new(1)], 2 * H, 2)
            .await
            .unwrap();
        assert_eq!((later.issued, later.ended), (vec![0, 1], vec![1, 1]));
    }

    #[tokio::test]
    async fn only_one_claimer_wins_and_only_the_claimer_finishes() {
        let db = db().await;
        assert!(leases::insert(&db, new_lease("a", "iam_user", 100), 0)
            .await
            .unwrap());
        assert!(
            !leases::claim_for_revoke(&db, &LeaseId::new("a"), "g1", 1)
                .await
                .unwrap(),
            "creating cannot be claimed"
        );
        assert!(leases::mark_active(
            &db,
            &LeaseId::new("a"),
            Some("AKIA".into()),
            Some("111122223333".into()),
            1
        )
        .await
        .unwrap());
        assert_eq!(
            leases::find(&db, &LeaseId::new("a"))
                .await
                .unwrap()
                .unwrap()
                .aws_account
                .as_deref(),
            Some("111122223333"),
            "the account that holds the user is recorded"
        );
        assert!(
            !leases::mark_active(&db, &LeaseId::new("a"), None, None, 2)
                .await
                .unwrap(),
            "only once"
        );
        assert!(leases::due_for_revoke(&db, 99, 10)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(leases::due_for_revoke(&db, 100, 10).await.unwrap().len(), 1);
        assert!(leases::claim_for_revoke(&db, &LeaseId::new("a"), "g1", 101)
            .await
            .unwrap());
        assert!(
            !leases::claim_for_revoke(&db, &LeaseId::new("a"), "g2", 101)
                .await
                .unwrap()
        );
        assert!(
            !leases::finish_revoke(&db, &LeaseId::new("a"), "g2", LeaseState::Revoked, 102)
                .await
                .unwrap()
        );
        assert!(
            leases::mark_revoke_failed(&db, &LeaseId::new("a"), "g1", "boom", 200, 102)
                .await
                .unwrap()
        );
        let l = leases::find(&db, &LeaseId::new("a"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (l.state, l.attempts, l.last_error.as_deref()),
            (LeaseState::RevokeFailed, 1, Some("boom"))
        );
        assert!(
            leases::due_for_revoke(&db, 150, 10)
                .await
                .unwrap()
                .is_empty(),
            "backoff respected"
        );
        assert_eq!(leases::due_for_revoke(&db, 200, 10).await.unwrap().len(), 1);
        assert!(leases::claim_for_revoke(&db, &LeaseId::new("a"), "g2", 201)
            .await
            .unwrap());
        assert!(
            leases::finish_revoke(&db, &LeaseId::new("a"), "g2", LeaseState::Revoked, 202)
                .await
                .unwrap()
        );
        assert!(leases::live_for_producer(&db, ProducerId::new(1))
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn live_leases_are_counted_by_state_and_finished_ones_are_not() {
        let db = db().await;
        let live = |db| async move { leases::count_live_by_state(db).await.unwrap() };
        assert_eq!(
            live(&db).await,
            vec![
                (LeaseState::Creating, 0),
                (LeaseState::Active, 0),
                (LeaseState::Revoking, 0),
                (LeaseState::RevokeFailed, 0),
            ],
            "every live state is listed, with 0 when none"
        );
        for (id, mode) in [
            ("c", "iam_user"),
            ("a1", "assume_role"),
            ("a2", "assume_role"),
        ] {
            assert!(leases::insert(&db, new_lease(id, mode, 50), 0)
                .await
                .unwrap());
        }
        assert!(leases::insert(&db, new_lease("r", "iam_user", 50), 0)
            .await
            .unwrap());
        assert!(leases::mark_active(&db, &LeaseId::new("r"), None, None, 1)
            .await
            .unwrap());
        assert!(leases::claim_for_revoke(&db, &LeaseId::new("r"), "g1", 2)
            .await
            .unwrap());
        assert_eq!(
            live(&db).await,
            vec![
                (LeaseState::Creating, 1),
                (LeaseState::Active, 2),
                (LeaseState::Revoking, 1),
                (LeaseState::RevokeFailed, 0),
            ]
        );
        // Finished leases leave the counts.
        assert_eq!(leases::expire_sts(&db, 60).await.unwrap(), 2);
        assert!(
            leases::finish_revoke(&db, &LeaseId::new("r"), "g1", LeaseState::Revoked, 3)
                .await
                .unwrap()
        );
        assert_eq!(
            live(&db).await,
            vec![
                (LeaseState::Creating, 1),
                (LeaseState::Active, 0),
                (LeaseState::Revoking, 0),
                (LeaseState::RevokeFailed, 0),
            ]
        );
        assert_eq!(
            leases::count_in_state(&db, LeaseState::Expired)
                .await
                .unwrap(),
            2
        );
    }

    #[tokio::test]
    async fn sts_leases_expire_without_teardown_and_stuck_ones_are_taken_over_once() {
        let db = db().await;
        assert!(leases::insert(&db, new_lease("s", "assume_role", 50), 0)
            .await
            .unwrap());
        assert!(leases::insert(&db, new_lease("c", "iam_user", 500), 0)
            .await
            .unwrap());
        assert!(
            leases::due_for_revoke(&db, 60, 10)
                .await
                .unwrap()
                .is_empty(),
            "STS leases are not torn down"
        );
        assert_eq!(leases::expire_sts(&db, 60).await.unwrap(), 1);
        assert_eq!(
            leases::find(&db, &LeaseId::new("s"))
                .await
                .unwrap()
                .unwrap()
                .state,
            LeaseState::Expired
        );

        let stuck = leases::stuck(&db, LeaseState::Creating, 10, 10)
            .await
            .unwrap();
        assert_eq!(stuck.len(), 1);
        assert!(leases::take_over(&db, &stuck[0], "g1", 20).await.unwrap());
        assert!(
            !leases::take_over(&db, &stuck[0], "g2", 20).await.unwrap(),
            "a stale view loses"
        );
        assert!(
            !leases::mark_active(&db, &LeaseId::new("c"), None, None, 21)
                .await
                .unwrap(),
            "the issuer lost the lease"
        );
        assert!(
            leases::finish_revoke(&db, &LeaseId::new("c"), "g1", LeaseState::Aborted, 22)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_lease_is_written_only_while_its_producer_still_has_that_target() {
        use mayfly_store::{producers, producers::NewProducer, targets};
        let db = super::db().await;
        let t = targets::insert(&db, super::new_target("/t"), 1)
            .await
            .unwrap();
        let other = targets::insert(&db, super::new_target("/u"), 1)
            .await
            .unwrap();
        let p = producers::insert(
            &db,
            NewProducer {
                name: "/p".into(),
                target_id: t.id,
                access_mode: "assume_role".into(),
                spec: "{}".into(),
            },
            1,
        )
        .await
        .unwrap();
        let lease = |id: &str, target_id: TargetId| NewLease {
            created_by_identity: String::new(),
            created_by_claims: String::new(),
            producer_id: p.id,
            target_id,
            ..new_lease(id, "assume_role", 50)
        };
        assert!(leases::insert(&db, lease("ok", t.id), 2).await.unwrap());
        let row = leases::find(&db, &LeaseId::new("ok"))
            .await
            .unwrap()
            .expect("written");
        assert_eq!(row.state, LeaseState::Active);
        assert_eq!(
            (row.producer_id, row.target_id, row.expires_at),
            (p.id, t.id, 50)
        );
        assert_eq!((row.created_at, row.attempts), (2, 0));
        assert!(
            !leases::insert(&db, lease("moved", other.id), 3)
                .await
                .unwrap(),
            "a stale view of the producer's target writes nothing"
        );
        producers::delete(&db, p.id).await.unwrap();
        assert!(
            !leases::insert(&db, lease("gone", t.id), 4).await.unwrap(),
            "a deleted producer gets no new lease"
        );
        assert!(leases::find(&db, &LeaseId::new("moved"))
            .await
            .unwrap()
            .is_none());
        assert!(leases::find(&db, &LeaseId::new("gone"))
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn a_private_target_is_deleted_only_once_no_producer_and_no_live_lease_needs_it() {
        use mayfly_store::{producers, producers::NewProducer, targets};
        let db = super::db().await;
        let mut private = super::new_target("private:old");
        private.is_private = true;
        let old = targets::insert(&db, private, 1).await.unwrap();
        let named = targets::insert(&db, super::new_target("/named"), 1)
            .await
            .unwrap();
        let p = producers::insert(
            &db,
            NewProducer {
                name: "/p".into(),
                target_id: old.id,
                access_mode: "iam_user".into(),
                spec: "{}".into(),
            },
            1,
        )
        .await
        .unwrap();
        let lease = NewLease {
            created_by_identity: String::new(),
            created_by_claims: String::new(),
            producer_id: p.id,
            target_id: old.id,
            ..new_lease("live", "iam_user", 50)
        };
        assert!(leases::insert(&db, lease, 2).await.unwrap());
        assert!(
            !targets::delete_unreferenced_private(&db, old.id)
                .await
                .unwrap(),
            "its producer uses it"
        );
        // Re-pointed at a named target: the private one is left behind, a lease still needs it.
        assert!(producers::update(
            &db,
            p.id,
            NewProducer {
                name: "/p".into(),
                target_id: named.id,
                access_mode: "iam_user".into(),
                spec: "{}".into(),
            },
            3,
        )
        .await
        .unwrap());
        assert!(!targets::delete_unreferenced_private(&db, old.id)
            .await
            .unwrap());
        assert_eq!(
            targets::delete_all_unreferenced_private(&db).await.unwrap(),
            0
        );
        assert!(
            !targets::delete_unreferenced_private(&db, named.id)
                .await
                .unwrap(),
            "public targets are never deleted here"
        );
        // The lease ends: nothing needs the old target any more.
        assert!(
            leases::mark_active(&db, &LeaseId::new("live"), None, None, 4)
                .await
                .unwrap()
        );
        assert!(
            leases::claim_for_revoke(&db, &LeaseId::new("live"), "g1", 5)
                .await
                .unwrap()
        );
        assert!(
            leases::finish_revoke(&db, &LeaseId::new("live"), "g1", LeaseState::Revoked, 6)
                .await
                .unwrap()
        );
        assert!(targets::delete_unreferenced_private(&db, old.id)
            .await
            .unwrap());
        assert!(targets::find_by_id(&db, old.id).await.unwrap().is_none());
        assert!(targets::find_by_id(&db, named.id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_retired_public_target_gives_its_name_back_and_is_deleted_by_the_pass() {
        use mayfly_store::targets;
        let db = super::db().await;
        let t = targets::insert(&db, super::new_target("/t"), 1)
            .await
            .unwrap();
        // A live lease whose producer is gone (deleted with the target): written directly, as
        // `leases::insert` refuses a lease without its producer.
        use sea_orm::{ActiveModelTrait, IntoActiveModel};
        let row = mayfly_store::entity::lease::Model {
            created_by_identity: String::new(),
            created_by_claims: String::new(),
            session_name: None,
            role_arn: None,
            id: LeaseId::new("live"),
            producer_id: ProducerId::new(99),
            producer_name: "/gone".into(),
            target_id: t.id,
            mode: LeaseMode::IamUser,
            state: LeaseState::Active,
            iam_user_name: Some("tmp.live".into()),
            iam_user_path: Some("/mayfly/".into()),
            access_key_id: None,
            created_by: "p-admin".into(),
            client_address: "127.0.0.1".into(),
            created_at: 1,
            expires_at: 50,
            updated_at: 1,
            custom_ttl_min: None,
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            claimed_by: None,
            claimed_at: None,
            ended_at: None,
            aws_account: Some("111122223333".into()),
        };
        row.into_active_model().insert(&db).await.unwrap();
        assert!(targets::retire(&db, &t, 2).await.unwrap());
        let retired = targets::find_by_id(&db, t.id).await.unwrap().unwrap();
        assert!(retired.is_private);
        assert_eq!(retired.name, format!("retired:{}", t.uid));
        assert_eq!(
            retired.sealed_credentials, t.sealed_credentials,
            "unchanged"
        );
        assert_eq!(retired.version, t.version + 1);
        assert!(targets::find_by_name(&db, "/t").await.unwrap().is_none());
        let mut again = super::new_target("/t");
        again.uid = "uid-again".into();
        targets::insert(&db, again, 3)
            .await
            .expect("the name is free again");
        assert_eq!(
            targets::delete_all_unreferenced_private(&db).await.unwrap(),
            0
        );
        assert!(
            leases::claim_for_revoke(&db, &LeaseId::new("live"), "g1", 5)
                .await
                .unwrap()
        );
        assert!(
            leases::finish_revoke(&db, &LeaseId::new("live"), "g1", LeaseState::Revoked, 6)
                .await
                .unwrap()
        );
        assert_eq!(
            targets::delete_all_unreferenced_private(&db).await.unwrap(),
            1
        );
        assert!(targets::find_by_id(&db, t.id).await.unwrap().is_none());
    }
}

mod session_denials {
    use mayfly_store::{session_denials, TargetId};

    #[tokio::test]
    async fn one_gateway_at_a_time_changes_a_principals_policy() {
        let db = super::db().await;
        let t = TargetId::new(1);
        let role = "arn:aws:iam::123456789012:role/app";
        let a = session_denials::lock(&db, t, role, "gw-a", 100, 30_100)
            .await
            .unwrap()
            .expect("the first gateway takes the lock");
        assert_eq!(a.statements, "");
        // Another gateway waits while the lock is held and not lapsed.
        assert!(session_denials::lock(&db, t, role, "gw-b", 200, 30_200)
            .await
            .unwrap()
            .is_none());
        // Another principal is independent.
        assert!(
            session_denials::lock(&db, t, "arn:aws:iam::1:role/x", "gw-b", 200, 30_200)
                .await
                .unwrap()
                .is_some()
        );
        assert!(session_denials::save_and_unlock(
            &db,
            &a.id,
            "gw-a",
            "{\"doc\":1}",
            Some(5_000),
            300
        )
        .await
        .unwrap());
        let b = session_denials::lock(&db, t, role, "gw-b", 400, 30_400)
            .await
            .unwrap()
            .expect("released");
        assert_eq!(b.statements, "{\"doc\":1}");
        // gw-a's lock is gone: it cannot save over gw-b's.
        assert!(
            !session_denials::save_and_unlock(&db, &a.id, "gw-a", "{}", None, 500)
                .await
                .unwrap()
        );
        // A lapsed lock is taken over.
        assert!(session_denials::lock(&db, t, role, "gw-c", 40_000, 70_000)
            .await
            .unwrap()
            .is_some());
        let due = session_denials::due_for_prune(&db, 5_000, 10)
            .await
            .unwrap();
        assert_eq!(due.len(), 1);
        // Nothing left: the row goes.
        assert!(
            session_denials::save_and_unlock(&db, &a.id, "gw-c", "", None, 41_000)
                .await
                .unwrap()
        );
        assert!(session_denials::find(&db, t, role).await.unwrap().is_none());
    }
}
