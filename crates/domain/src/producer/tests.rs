//! Tests of the producer rules, through the public `ProducerSpec::parse`.

use super::*;
use crate::mode::{AccessMode, ModeKind};
use crate::ttl::Ttl;
use crate::validation::ValidationErrors;

const POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const ROLE: &str = "arn:aws:iam::123456789012:role/deploy";

fn s(value: &str) -> Option<String> {
    Some(value.to_owned())
}

fn draft(mode: &str) -> ProducerDraft {
    ProducerDraft {
        name: s("/team/aws/s3-reader"),
        access_mode: s(mode),
        ..Default::default()
    }
}

fn assume_role() -> ProducerDraft {
    ProducerDraft {
        role_arns: s(ROLE),
        ..draft("assume_role")
    }
}

/// What the official SDK sends for an STS producer: every default, blanks for the rest.
fn sdk_sts_draft(mode: &str) -> ProducerDraft {
    ProducerDraft {
        name: s("/p/sts"),
        access_mode: s(mode),
        user_ttl: s("60m"),
        max_ttl: s(""),
        user_policies: s(""),
        user_groups: s(""),
        role_arns: if mode.contains("role") {
            s(ROLE)
        } else {
            s("")
        },
        external_id: s(""),
        session_tags: s(""),
        transitive_tag_keys: s(""),
        console_access: Some(false),
        programmatic_access: Some(true),
        password_length: s(""),
        use_capital_letters: s(""),
        use_lower_letters: s(""),
        use_numbers: s(""),
        use_special_characters: s(""),
        username_template: s(""),
        policy_document: s(" "),
        permissions_boundary: s(""),
        user_path: s(""),
        user_tags: s(""),
        tags: None,
        delete_protection: s("false"),
        description: s(""),
        wait_until_usable: s(""),
        caller_session_tags: s(""),
        source_identity: s(""),
        max_live_credentials: s(""),
        max_issue_rate: s(""),
        reuse_window: s(""),
        session_revocation: s(""),
    }
}

fn ok(draft: &ProducerDraft) -> ProducerSpec {
    match ProducerSpec::parse(draft) {
        Ok((_, spec)) => spec,
        Err(errors) => panic!("expected success, got: {errors}"),
    }
}

fn err(draft: &ProducerDraft) -> ValidationErrors {
    match ProducerSpec::parse(draft) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors,
    }
}

fn message(errors: &ValidationErrors, field: &str) -> String {
    errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn a_name_alone_is_an_iam_user_with_defaults() {
    let (name, spec) = ProducerSpec::parse(&ProducerDraft {
        name: s("team/x"),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(name.as_str(), "/team/x");
    assert_eq!(spec.mode(), AccessMode::IamUser);
    assert_eq!(spec.ttl().original(), "60m");
    assert_eq!(spec.max_ttl(), None);
    assert!(spec.programmatic_access());
    assert!(!spec.console_access());
    assert!(!spec.delete_protection());
    assert_eq!(spec.password_policy().length(), 20);
    assert_eq!(spec.username_template().as_str(), "tmp.{{name}}.{{rand}}");
    assert_eq!(spec.custom_username_template(), None);
    assert!(spec.policies().is_empty() && spec.groups().is_empty() && spec.tags().is_empty());
    assert_eq!(spec.description(), None);
}

#[test]
fn the_recorded_sdk_iam_user_body_is_accepted() {
    let spec = ok(&ProducerDraft {
        name: s("/p/ds"),
        access_mode: s("iam_user"),
        console_access: Some(false),
        programmatic_access: Some(true),
        user_policies: s(POLICY),
        delete_protection: s("false"),
        tags: Some(vec!["a".to_owned()]),
        user_ttl: s("60m"),
        ..Default::default()
    });
    assert_eq!(spec.policies()[0].as_str(), POLICY);
    assert_eq!(spec.tags(), ["a"]);
}

#[test]
fn sdk_default_laden_sts_drafts_are_accepted() {
    for mode in [
        "assume_role",
        "assumed_role",
        "federation_token",
        "session_token",
    ] {
        let spec = ok(&sdk_sts_draft(mode));
        assert_eq!(spec.mode().as_str(), mode);
        assert!(spec.mode().is_sts());
        assert!(spec.programmatic_access());
        assert!(!spec.console_access());
        assert_eq!(spec.policy_document(), None);
    }
}

#[test]
fn sts_ignores_programmatic_access_false() {
    // Clients that default booleans to false (Terraform does) must not break STS producers.
    let spec = ok(&ProducerDraft {
        programmatic_access: Some(false),
        ..assume_role()
    });
    assert!(!spec.programmatic_access());
}

#[test]
fn assumed_role_spelling_is_stored_and_echoed() {
    let spec = ok(&ProducerDraft {
        access_mode: s("assumed_role"),
        ..assume_role()
    });
    assert_eq!(spec.mode().as_str(), "assumed_role");
    assert_eq!(spec.mode().kind(), ModeKind::AssumeRole);
    let json = serde_json::to_string(&spec).unwrap();
    let back: ProducerSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back.mode().as_str(), "assumed_role");
}

#[test]
fn eleven_policies_are_rejected_ten_accepted() {
    let arns = |n: usize| -> String {
        (0..n)
            .map(|i| format!("arn:aws:iam::123456789012:policy/p{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let errors = err(&ProducerDraft {
        user_policies: Some(arns(11)),
        ..draft("iam_user")
    });
    assert_eq!(
        errors.to_string(),
        "aws-user-policies: 11 managed policies given; the maximum is 10"
    );
    assert_eq!(
        ok(&ProducerDraft {
            user_policies: Some(arns(10)),
            ..draft("iam_user")
        })
        .policies()
        .len(),
        10
    );
}

#[test]
fn eleven_groups_are_rejected() {
    let groups: Vec<String> = (0..11).map(|i| format!("g{i}")).collect();
    let errors = err(&ProducerDraft {
        user_groups: Some(groups.join(",")),
        ..draft("iam_user")
    });
    assert_eq!(
        message(&errors, "aws-user-groups"),
        "11 groups given; the maximum is 10"
    );
}

#[test]
fn duplicate_list_entries_are_dropped() {
    let spec = ok(&ProducerDraft {
        user_policies: Some(format!("{POLICY}, {POLICY},")),
        user_groups: s("a,b,a"),
        ..draft("iam_user")
    });
    assert_eq!(spec.policies().len(), 1);
    assert_eq!(spec.groups().len(), 2);
}

#[test]
fn every_problem_is_collected_at_once() {
    let errors = err(&ProducerDraft {
        name: s(""),
        access_mode: s("iam_user"),
        user_ttl: s("60"),
        max_ttl: s("soon"),
        user_policies: s("arn:aws:iam::aws:policy/ok,not-an-arn"),
        user_groups: s("dev ops"),
        console_access: Some(true),
        password_length: s("3"),
        use_numbers: s("maybe"),
        username_template: s("tmp.{{name}}"),
        policy_document: s("{"),
        permissions_boundary: s("boundary"),
        user_path: s("users"),
        user_tags: s("aws:owner=me"),
        tags: Some(vec![String::new()]),
        delete_protection: s("yes"),
        description: Some("d".repeat(1025)),
        ..Default::default()
    });
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "name",
            "user-ttl",
            "max-ttl",
            "aws-user-policies",
            "aws-user-groups",
            "use-numbers",
            "custom-username-template",
            "aws-policy-document",
            "aws-permissions-boundary",
            "aws-user-path",
            "aws-user-tags",
            "tags",
            "delete_protection",
            "description",
        ],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(text.contains("user-ttl: 60 has no unit; add a unit, e.g. 60m"));
    assert!(text.contains("delete_protection: must be \"true\" or \"false\", got \"yes\""));
    // The length error shows once the other password field is fixed.
    let errors = err(&ProducerDraft {
        password_length: s("3"),
        ..draft("iam_user")
    });
    assert!(errors.has_field("password-length"), "{errors}");
}

#[test]
fn sts_modes_reject_iam_user_only_settings() {
    let errors = err(&ProducerDraft {
        user_groups: s("admins"),
        console_access: Some(true),
        permissions_boundary: s(POLICY),
        user_path: s("/x/"),
        user_tags: s("team=data"),
        ..assume_role()
    });
    for field in [
        "aws-user-groups",
        "aws-user-console-access",
        "aws-permissions-boundary",
        "aws-user-path",
        "aws-user-tags",
    ] {
        let text = message(&errors, field);
        assert!(
            text.starts_with("applies only to iam_user producers, not assume_role;"),
            "{field}: {text}"
        );
    }
    assert_eq!(errors.len(), 5, "{errors}");
}

#[test]
fn password_settings_are_tolerated_for_sts() {
    let spec = ok(&ProducerDraft {
        password_length: s("30"),
        use_special_characters: s("false"),
        ..draft("session_token")
    });
    assert_eq!(spec.password_policy().length(), 30);
}

#[test]
fn assume_role_needs_a_role_arn() {
    let errors = err(&draft("assume_role"));
    assert!(message(&errors, "aws-role-arns").contains("at least one role ARN"));
    let errors = err(&ProducerDraft {
        role_arns: s(" , "),
        ..draft("assumed_role")
    });
    assert!(message(&errors, "aws-role-arns").contains("at least one role ARN"));
    // A bad ARN is reported as bad, not also as missing.
    let errors = err(&ProducerDraft {
        role_arns: s("deploy"),
        ..draft("assume_role")
    });
    assert_eq!(errors.len(), 1, "{errors}");
    assert!(message(&errors, "aws-role-arns").contains("\"deploy\""));
}

#[test]
fn assume_role_only_settings_are_rejected_elsewhere() {
    let errors = err(&ProducerDraft {
        role_arns: s(ROLE),
        external_id: s("tenant-42"),
        session_tags: s("team=data"),
        transitive_tag_keys: s("team"),
        ..draft("federation_token")
    });
    for field in [
        "aws-role-arns",
        "aws-external-id",
        "session-tags",
        "transitive-tag-keys",
    ] {
        assert!(
            message(&errors, field)
                .starts_with("applies only to assume_role producers, not federation_token"),
            "{field}: {errors}"
        );
    }
}

#[test]
fn assume_role_takes_its_settings() {
    let spec = ok(&ProducerDraft {
        role_arns: s(&format!("{ROLE},arn:aws:iam::123456789012:role/other")),
        external_id: s("tenant-42"),
        session_tags: s("team=data,env=prod"),
        transitive_tag_keys: s("team"),
        user_policies: s(POLICY),
        policy_document: s(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#),
        user_ttl: s("12h"),
        ..assume_role()
    });
    assert_eq!(spec.role_arns().len(), 2);
    assert_eq!(spec.external_id().unwrap().as_str(), "tenant-42");
    assert_eq!(spec.session_tags().len(), 2);
    assert_eq!(spec.transitive_tag_keys().keys(), ["team"]);
    assert_eq!(spec.policies().len(), 1);
    assert!(spec.policy_document().is_some());
}

#[test]
fn transitive_keys_follow_session_tags() {
    let errors = err(&ProducerDraft {
        session_tags: s("team=data"),
        transitive_tag_keys: s("team owner"),
        ..assume_role()
    });
    assert!(message(&errors, "transitive-tag-keys").contains("\"owner\" is not among"));
    let errors = err(&ProducerDraft {
        transitive_tag_keys: s("team"),
        ..assume_role()
    });
    assert!(errors.has_field("transitive-tag-keys"));
    // With broken session tags, only the session tags are reported.
    let errors = err(&ProducerDraft {
        session_tags: s("team"),
        transitive_tag_keys: s("team"),
        ..assume_role()
    });
    assert_eq!(errors.len(), 1, "{errors}");
    assert!(errors.has_field("session-tags"));
}

#[test]
fn session_token_takes_no_policies() {
    let errors = err(&ProducerDraft {
        user_policies: s(POLICY),
        policy_document: s(r#"{"Statement":{}}"#),
        ..draft("session_token")
    });
    let expected = "applies only to iam_user, assume_role and federation_token producers, not session_token; leave it unset";
    assert_eq!(message(&errors, "aws-user-policies"), expected);
    assert_eq!(message(&errors, "aws-policy-document"), expected);

    let spec = ok(&ProducerDraft {
        user_policies: s(POLICY),
        policy_document: s(r#"{"Statement":{}}"#),
        ..draft("federation_token")
    });
    assert_eq!(spec.policies().len(), 1);
}

#[test]
fn ttl_bounds_follow_the_mode() {
    let errors = err(&ProducerDraft {
        user_ttl: s("13h"),
        ..assume_role()
    });
    assert_eq!(
        message(&errors, "user-ttl"),
        "13h is outside what assume_role allows (15m to 12h)"
    );
    let errors = err(&ProducerDraft {
        user_ttl: s("10m"),
        ..draft("federation_token")
    });
    assert!(message(&errors, "user-ttl").contains("(15m to 36h)"));
    let errors = err(&ProducerDraft {
        user_ttl: s("30s"),
        ..draft("iam_user")
    });
    assert!(message(&errors, "user-ttl").contains("(1m to 8760h)"));
    assert_eq!(
        ok(&ProducerDraft {
            user_ttl: s("36h"),
            ..draft("session_token")
        })
        .ttl()
        .as_secs(),
        129_600
    );
    assert_eq!(
        ok(&ProducerDraft {
            user_ttl: s("60s"),
            ..draft("iam_user")
        })
        .ttl()
        .original(),
        "60s"
    );
}

#[test]
fn max_ttl_must_cover_ttl_and_fit_the_mode() {
    let errors = err(&ProducerDraft {
        user_ttl: s("2h"),
        max_ttl: s("90m"),
        ..draft("iam_user")
    });
    assert_eq!(
        message(&errors, "max-ttl"),
        "90m is shorter than user-ttl 2h; make it at least as long"
    );
    let errors = err(&ProducerDraft {
        max_ttl: s("24h"),
        ..assume_role()
    });
    assert!(message(&errors, "max-ttl").contains("(15m to 12h)"));
    let spec = ok(&ProducerDraft {
        max_ttl: s("4h"),
        ..assume_role()
    });
    assert_eq!(spec.max_ttl().unwrap().original(), "4h");
}

#[test]
fn iam_user_must_hand_out_something() {
    let errors = err(&ProducerDraft {
        programmatic_access: Some(false),
        console_access: Some(false),
        ..draft("iam_user")
    });
    assert!(message(&errors, "aws-user-programmatic-access").contains("must hand out something"));
    let spec = ok(&ProducerDraft {
        programmatic_access: Some(false),
        console_access: Some(true),
        ..draft("iam_user")
    });
    assert!(spec.console_access() && !spec.programmatic_access());
}

#[test]
fn a_bad_access_mode_is_reported_alone() {
    let errors = err(&ProducerDraft {
        user_groups: s("admins"),
        console_access: Some(true),
        user_ttl: s("5h"),
        ..draft("root_user")
    });
    assert_eq!(errors.len(), 1, "{errors}");
    assert!(message(&errors, "access-mode").contains("\"root_user\""));
}

#[test]
fn access_mode_is_case_insensitive_and_defaults_to_iam_user() {
    assert_eq!(ok(&draft("IAM_USER")).mode(), AccessMode::IamUser);
    assert_eq!(ok(&draft("")).mode(), AccessMode::IamUser);
}

#[test]
fn item_tags_are_trimmed_deduplicated_and_limited() {
    let spec = ok(&ProducerDraft {
        tags: Some(vec![" a ".into(), "b".into(), "a".into()]),
        ..draft("iam_user")
    });
    assert_eq!(spec.tags(), ["a", "b"]);
    let many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    let errors = err(&ProducerDraft {
        tags: Some(many),
        ..draft("iam_user")
    });
    assert_eq!(message(&errors, "tags"), "51 tags given; the maximum is 50");
    let errors = err(&ProducerDraft {
        tags: Some(vec!["x".repeat(257)]),
        ..draft("iam_user")
    });
    assert!(message(&errors, "tags").contains("maximum is 256"));
    assert!(
        ok(&ProducerDraft {
            tags: Some(vec!["x".repeat(256)]),
            ..draft("iam_user")
        })
        .tags()
        .len()
            == 1
    );
}

#[test]
fn delete_protection_and_description() {
    let spec = ok(&ProducerDraft {
        delete_protection: s("TRUE"),
        description: s("reads the reports bucket"),
        ..draft("iam_user")
    });
    assert!(spec.delete_protection());
    assert_eq!(spec.description(), Some("reads the reports bucket"));
    assert!(ok(&ProducerDraft {
        description: Some("d".repeat(1024)),
        ..draft("iam_user")
    })
    .description()
    .is_some());
}

#[test]
fn iam_user_extensions_are_kept() {
    let spec = ok(&ProducerDraft {
        permissions_boundary: s("arn:aws:iam::123456789012:policy/boundary"),
        user_path: s("/mayfly/team/"),
        user_tags: s("team=data"),
        username_template: s("svc.{{name}}.{{rand}}"),
        user_groups: s("readers"),
        console_access: Some(true),
        password_length: s("24"),
        ..draft("iam_user")
    });
    assert_eq!(spec.permissions_boundary().unwrap().name(), "boundary");
    assert_eq!(spec.user_path().unwrap().as_str(), "/mayfly/team/");
    assert_eq!(spec.user_tags().to_wire_string(), "team=data");
    assert_eq!(spec.username_template().as_str(), "svc.{{name}}.{{rand}}");
    assert_eq!(
        spec.custom_username_template().unwrap().as_str(),
        "svc.{{name}}.{{rand}}"
    );
    assert_eq!(spec.groups()[0].as_str(), "readers");
    assert_eq!(spec.password_policy().length(), 24);
}

#[test]
fn the_spec_survives_a_json_round_trip() {
    let spec = ok(&ProducerDraft {
        session_tags: s("team=data"),
        transitive_tag_keys: s("team"),
        external_id: s("tenant-42"),
        user_ttl: s("90m"),
        max_ttl: s("2h"),
        tags: Some(vec!["x".into()]),
        delete_protection: s("true"),
        description: s("d"),
        ..assume_role()
    });
    let json = serde_json::to_string(&spec).unwrap();
    let back: ProducerSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, spec);
    assert_eq!(back.ttl().original(), "90m");
    assert!(json.contains("\"ttl\":\"90m\""), "{json}");
    let tampered = json.replace("\"90m\"", "\"90\"");
    assert!(serde_json::from_str::<ProducerSpec>(&tampered).is_err());
}

#[test]
fn effective_ttl_allows_shorter_and_up_to_the_ceiling() {
    let spec = ok(&ProducerDraft {
        user_ttl: s("1h"),
        ..assume_role()
    });
    let ttl = |raw: &str| Some(Ttl::parse(raw).unwrap());
    assert_eq!(spec.effective_ttl(None).unwrap().original(), "1h");
    assert_eq!(spec.effective_ttl(ttl("30m")).unwrap().original(), "30m");
    assert_eq!(spec.effective_ttl(ttl("15m")).unwrap().as_secs(), 900);
    let longer = spec.effective_ttl(ttl("61m")).unwrap_err();
    assert!(longer.contains("use at most 1h (its user-ttl)"), "{longer}");
    let shorter = spec.effective_ttl(ttl("14m")).unwrap_err();
    assert!(
        shorter.contains("shorter than assume_role allows; use at least 15m"),
        "{shorter}"
    );

    let capped = ok(&ProducerDraft {
        user_ttl: s("1h"),
        max_ttl: s("3h"),
        ..assume_role()
    });
    assert_eq!(capped.effective_ttl(ttl("3h")).unwrap().as_secs(), 10_800);
    assert!(capped
        .effective_ttl(ttl("3h1s"))
        .unwrap_err()
        .contains("at most 3h (its max-ttl)"));

    let user = ok(&draft("iam_user"));
    assert_eq!(user.effective_ttl(ttl("60s")).unwrap().as_secs(), 60);
    assert!(user.effective_ttl(ttl("59s")).is_err());
}

#[test]
fn only_description_tags_and_delete_protection_leave_the_grant_unchanged() {
    let base = ProducerDraft {
        user_policies: s(POLICY),
        description: s("old"),
        ..draft("iam_user")
    };
    let before = ok(&base);
    let bookkeeping = ok(&ProducerDraft {
        description: s("new words"),
        tags: Some(vec!["team-a".into()]),
        delete_protection: s("true"),
        ..base.clone()
    });
    assert!(before.grants_same_as(&bookkeeping));
    for changed in [
        ProducerDraft {
            user_policies: s(&format!(
                "{POLICY},arn:aws:iam::aws:policy/AdministratorAccess"
            )),
            ..base.clone()
        },
        ProducerDraft {
            policy_document: s(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
            ..base.clone()
        },
        ProducerDraft {
            user_groups: s("admins"),
            ..base.clone()
        },
        ProducerDraft {
            user_ttl: s("2h"),
            ..base.clone()
        },
        ProducerDraft {
            console_access: Some(true),
            ..base.clone()
        },
        ProducerDraft {
            user_tags: s("team=ops"),
            ..base.clone()
        },
        ProducerDraft {
            user_policies: s(""),
            role_arns: s(ROLE),
            ..assume_role()
        },
    ] {
        assert!(!before.grants_same_as(&ok(&changed)), "{changed:?}");
    }
}

#[test]
fn wait_until_usable_is_a_bounded_wait_for_iam_user_keys() {
    let mut d = draft("iam_user");
    assert_eq!(ok(&d).wait_until_usable(), None);
    d.wait_until_usable = s("true");
    assert_eq!(
        ok(&d).wait_until_usable(),
        Some(std::time::Duration::from_secs(30))
    );
    d.wait_until_usable = s("45s");
    assert_eq!(
        ok(&d).wait_until_usable(),
        Some(std::time::Duration::from_secs(45))
    );
    d.wait_until_usable = s("false");
    assert_eq!(ok(&d).wait_until_usable(), None);
    // Waiting grants nothing: changing it is bookkeeping.
    let mut waiting = draft("iam_user");
    waiting.wait_until_usable = s("20s");
    assert!(ok(&waiting).grants_same_as(&ok(&draft("iam_user"))));
    for bad in ["121s", "soon"] {
        d.wait_until_usable = s(bad);
        let err = ProducerSpec::parse(&d).unwrap_err().to_string();
        assert!(err.contains("wait-until-usable"), "{bad}: {err}");
    }
}

#[test]
fn guardrails_are_counts_rates_and_short_windows() {
    let mut d = draft("iam_user");
    d.max_live_credentials = s("100");
    d.max_issue_rate = s("30/m");
    let spec = ok(&d);
    assert_eq!(spec.max_live_credentials(), Some(100));
    assert_eq!(
        spec.max_issue_rate(),
        Some(super::spec::IssueRate {
            count: 30,
            per_secs: 60
        })
    );
    d.reuse_window = s("5m");
    let err = ProducerSpec::parse(&d).unwrap_err().to_string();
    assert!(err.contains("reuse-window"), "{err}");
    let mut sts = sdk_sts_draft("assume_role");
    sts.reuse_window = s("10m");
    assert_eq!(
        ok(&sts).reuse_window(),
        Some(std::time::Duration::from_secs(600))
    );
    sts.reuse_window = s("45m");
    assert!(ProducerSpec::parse(&sts)
        .unwrap_err()
        .to_string()
        .contains("half of user-ttl"));
    for bad in ["0", "x/m", "5/d"] {
        let mut d = draft("iam_user");
        d.max_issue_rate = s(bad);
        d.max_live_credentials = s(if bad == "0" { "0" } else { "" });
        assert!(ProducerSpec::parse(&d).is_err(), "{bad}");
    }
}

#[test]
fn session_revocation_is_on_by_default_for_sts_modes_only() {
    let sts = assume_role();
    assert!(ok(&sts).session_revocation());
    let mut off = assume_role();
    off.session_revocation = s("false");
    assert!(!ok(&off).session_revocation());
    assert!(ok(&draft("federation_token")).session_revocation());
    assert!(!ok(&draft("iam_user")).session_revocation());
    let mut iam = draft("iam_user");
    iam.session_revocation = s("true");
    assert!(
        ProducerSpec::parse(&iam).is_err(),
        "iam_user keys are always revocable"
    );
    let mut bad = assume_role();
    bad.session_revocation = s("maybe");
    assert!(ProducerSpec::parse(&bad).is_err());
    // Stored before the field existed: off.
    let stored: ProducerSpec = serde_json::from_value({
        let mut v = serde_json::to_value(ok(&sts)).unwrap();
        v.as_object_mut().unwrap().remove("session_revocation");
        v
    })
    .unwrap();
    assert!(!stored.session_revocation());
}
