//! The producer rules: [`ProducerSpec::parse`].
//!
//! Every field is checked and every problem recorded before returning, so one 400 lists all
//! of them. Two things shape the rules:
//! - The official SDK sends every default (`aws-user-programmatic-access: true`,
//!   `aws-user-console-access: false`, `user-ttl: "60m"`) and clients send `""` for unset.
//!   So a setting only counts as given when it carries a real, non-default value, and an STS
//!   producer created through the SDK is not rejected for the iam_user defaults it carries.
//! - A setting that does not apply to the producer's mode is rejected rather than silently
//!   ignored, since the user evidently expects it to do something. Such a field is then not
//!   parsed further, so the one error says what matters.

use crate::arn::{PolicyArn, RoleArn};
use crate::flag::{bool_problem, parse_bool};
use crate::iam::{
    parse_comma_list, ExternalId, GroupName, PolicyDocument, TagList, TransitiveTagKeys, UserPath,
};
use crate::mode::{AccessMode, ModeKind};
use crate::name::ItemName;
use crate::password::{PasswordPolicy, PasswordPolicyInput};
use crate::ttl::Ttl;
use crate::username::UsernameTemplate;
use crate::validation::ValidationErrors;

use super::draft::ProducerDraft;
use super::fields::*;
use super::spec::{
    ProducerSpec, DEFAULT_USABLE_WAIT_SECS, MAX_DESCRIPTION_LEN, MAX_GROUPS, MAX_ITEM_TAGS,
    MAX_ITEM_TAG_LEN, MAX_POLICIES, MAX_USABLE_WAIT_SECS,
};

/// `wait-until-usable`: `true` (the default wait), `false` (none), or a wait such as `45s`.
fn parse_usable_wait(raw: &str) -> Result<Option<u32>, String> {
    if let Some(on) = parse_bool(raw) {
        return Ok(on.then_some(DEFAULT_USABLE_WAIT_SECS));
    }
    let ttl = Ttl::parse(raw).map_err(|_| {
        format!("{raw:?} is neither true, false nor a wait such as 30s (at most {MAX_USABLE_WAIT_SECS}s)")
    })?;
    u32::try_from(ttl.as_secs())
        .ok()
        .filter(|s| (1..=MAX_USABLE_WAIT_SECS).contains(s))
        .map(Some)
        .ok_or_else(|| {
            format!("at most {MAX_USABLE_WAIT_SECS}s (a get-value request waits that long)")
        })
}

const IAM_USER: &[ModeKind] = &[ModeKind::IamUser];
const ASSUME_ROLE: &[ModeKind] = &[ModeKind::AssumeRole];
/// The STS modes (their credentials cannot be revoked, so can be handed out again).
const STS_MODES: &[ModeKind] = &[
    ModeKind::AssumeRole,
    ModeKind::FederationToken,
    ModeKind::SessionToken,
];
/// The modes whose STS call takes session tags.
const STS_WITH_TAGS: &[ModeKind] = &[ModeKind::AssumeRole, ModeKind::FederationToken];
const WITH_POLICIES: &[ModeKind] = &[
    ModeKind::IamUser,
    ModeKind::AssumeRole,
    ModeKind::FederationToken,
];

impl ProducerSpec {
    /// Checks a producer request and returns its name and definition, or every problem found.
    pub fn parse(draft: &ProducerDraft) -> Result<(ItemName, ProducerSpec), ValidationErrors> {
        let mut p = Parser {
            errors: ValidationErrors::new(),
            mode: None,
        };
        let name = p.errors.check(
            NAME,
            ItemName::parse(draft.name.as_deref().unwrap_or_default()),
        );
        p.mode = match given(&draft.access_mode) {
            None => Some(AccessMode::IamUser),
            Some(raw) => p.errors.check(ACCESS_MODE, AccessMode::parse(raw)),
        };

        let ttl = p
            .ttl(USER_TTL, &draft.user_ttl)
            .map(|t| t.unwrap_or_else(Ttl::default_user_ttl));
        let max_ttl = p.ttl(MAX_TTL, &draft.max_ttl);
        if let (Some(ttl), Some(Some(max))) = (&ttl, &max_ttl) {
            if max < ttl {
                p.errors.push(
                    MAX_TTL,
                    format!(
                        "{} is shorter than user-ttl {}; make it at least as long",
                        max.original(),
                        ttl.original()
                    ),
                );
            }
        }

        let policies = p.list(
            AWS_USER_POLICIES,
            &draft.user_policies,
            WITH_POLICIES,
            PolicyArn::parse,
            MAX_POLICIES,
            "managed policies",
        );
        let groups = p.list(
            AWS_USER_GROUPS,
            &draft.user_groups,
            IAM_USER,
            GroupName::parse,
            MAX_GROUPS,
            "groups",
        );
        let role_arns = p.list(
            AWS_ROLE_ARNS,
            &draft.role_arns,
            ASSUME_ROLE,
            RoleArn::parse,
            usize::MAX,
            "role ARNs",
        );
        // Checked on the parsed list: `" , "` is given but names no role; a bad ARN was
        // already reported and is not also "missing".
        if p.kind() == Some(ModeKind::AssumeRole) && role_arns.as_ref().is_some_and(Vec::is_empty) {
            p.errors.push(
                AWS_ROLE_ARNS,
                "assume_role needs at least one role ARN, e.g. arn:aws:iam::123456789012:role/NAME",
            );
        }
        let external_id = p.optional(
            AWS_EXTERNAL_ID,
            &draft.external_id,
            ASSUME_ROLE,
            ExternalId::parse,
        );
        let session_tags = p.optional(
            SESSION_TAGS,
            &draft.session_tags,
            ASSUME_ROLE,
            TagList::parse,
        );
        let transitive_tag_keys =
            p.transitive_keys(&draft.transitive_tag_keys, session_tags.as_ref());

        let console_access = draft.console_access.unwrap_or(false);
        if console_access {
            p.allowed(
                AWS_USER_CONSOLE_ACCESS,
                IAM_USER,
                "set it to false or leave it unset",
            );
        }
        let programmatic_access = draft.programmatic_access.unwrap_or(true);
        if p.kind() == Some(ModeKind::IamUser) && !console_access && !programmatic_access {
            p.errors.push(
                AWS_USER_PROGRAMMATIC_ACCESS,
                "an iam_user producer must hand out something: set aws-user-programmatic-access or aws-user-console-access to true",
            );
        }
        let password_policy = p.password_policy(draft);

        let username_template = p.optional(
            CUSTOM_USERNAME_TEMPLATE,
            &draft.username_template,
            ALL_MODES,
            UsernameTemplate::parse,
        );
        let policy_document = p.optional(
            AWS_POLICY_DOCUMENT,
            &draft.policy_document,
            WITH_POLICIES,
            PolicyDocument::parse,
        );
        let permissions_boundary = p.optional(
            AWS_PERMISSIONS_BOUNDARY,
            &draft.permissions_boundary,
            IAM_USER,
            PolicyArn::parse,
        );
        let user_path = p.optional(AWS_USER_PATH, &draft.user_path, IAM_USER, UserPath::parse);
        let user_tags = p.optional(AWS_USER_TAGS, &draft.user_tags, IAM_USER, TagList::parse);

        let tags = p.item_tags(draft.tags.as_deref().unwrap_or_default());
        let delete_protection = match given(&draft.delete_protection) {
            None => Some(false),
            Some(raw) => p.errors.check(
                DELETE_PROTECTION,
                parse_bool(raw).ok_or_else(|| bool_problem(raw)),
            ),
        };
        let description = p.description(&draft.description);
        let wait_until_usable = p
            .optional(
                WAIT_UNTIL_USABLE,
                &draft.wait_until_usable,
                IAM_USER,
                parse_usable_wait,
            )
            .map(Option::flatten);
        if wait_until_usable.as_ref().is_some_and(Option::is_some) && !programmatic_access {
            p.errors.push(
                WAIT_UNTIL_USABLE,
                "needs aws-user-programmatic-access: only an access key can be tried before it is handed out",
            );
        }

        let caller_session_tags = p.optional(
            CALLER_SESSION_TAGS,
            &draft.caller_session_tags,
            STS_WITH_TAGS,
            |raw| crate::caller_attrs::CallerTags::parse(raw).map(|t| t.to_wire_string()),
        );
        if let (Some(Some(caller)), Some(Some(fixed))) = (&caller_session_tags, &session_tags) {
            let caller = crate::caller_attrs::CallerTags::parse(caller).unwrap_or_default();
            let clash = caller
                .keys()
                .find(|k| fixed.iter().any(|t| t.key().eq_ignore_ascii_case(k)))
                .map(str::to_owned);
            if let Some(k) = clash {
                p.errors.push(
                    CALLER_SESSION_TAGS,
                    format!("tag key {k:?} is also in session-tags; a session tag has one value"),
                );
            }
        }
        let source_identity = p.optional(
            SOURCE_IDENTITY,
            &draft.source_identity,
            ASSUME_ROLE,
            |raw| crate::caller_attrs::CallerTemplate::parse(raw).map(|t| t.as_str().to_owned()),
        );

        let max_live_credentials = p.optional(
            MAX_LIVE_CREDENTIALS,
            &draft.max_live_credentials,
            ALL_MODES,
            |raw| {
                raw.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{raw:?} is not a number of credentials (1 or more)"))
            },
        );
        let max_issue_rate = p.optional(
            MAX_ISSUE_RATE,
            &draft.max_issue_rate,
            ALL_MODES,
            super::spec::IssueRate::parse,
        );
        let reuse_window = p.optional(REUSE_WINDOW, &draft.reuse_window, STS_MODES, |raw| {
            let ttl = Ttl::parse(raw)?;
            u32::try_from(ttl.as_secs())
                .ok()
                .filter(|s| (1..=3600).contains(s))
                .ok_or_else(|| "a window of at most 1h, such as 5m".to_owned())
        });
        if let (Some(Some(window)), Some(ttl)) = (&reuse_window, &ttl) {
            // A reused credential must still be worth having: half its life at least.
            if u64::from(*window) * 2 > ttl.as_secs() {
                p.errors.push(
                    REUSE_WINDOW,
                    format!(
                        "at most half of user-ttl ({}): a reused credential must still live a while",
                        ttl.original()
                    ),
                );
            }
        }

        // On by default wherever it applies; a bad value is an error, never a guess.
        let session_revocation = p
            .optional(
                SESSION_REVOCATION,
                &draft.session_revocation,
                STS_MODES,
                |raw| parse_bool(raw).ok_or_else(|| bool_problem(raw)),
            )
            .map(|on| on.unwrap_or(p.kind().is_some_and(|k| STS_MODES.contains(&k))));

        // Each `?` below only fails if an error was recorded above.
        let build = || {
            Some((
                name?,
                ProducerSpec {
                    mode: p.mode?,
                    ttl: ttl?,
                    max_ttl: max_ttl?,
                    policies: policies?,
                    groups: groups?,
                    role_arns: role_arns?,
                    external_id: external_id?,
                    session_tags: session_tags?.unwrap_or_default(),
                    transitive_tag_keys: transitive_tag_keys?,
                    console_access,
                    programmatic_access,
                    password_policy: password_policy?,
                    username_template: username_template?,
                    policy_document: policy_document?,
                    permissions_boundary: permissions_boundary?,
                    user_path: user_path?,
                    user_tags: user_tags?.unwrap_or_default(),
                    tags: tags?,
                    delete_protection: delete_protection?,
                    description: description?,
                    wait_until_usable_secs: wait_until_usable?,
                    caller_session_tags: caller_session_tags?,
                    source_identity: source_identity?,
                    max_live_credentials: max_live_credentials?,
                    max_issue_rate: max_issue_rate?,
                    reuse_window_secs: reuse_window?,
                    session_revocation: session_revocation?,
                },
            ))
        };
        match (p.errors.is_empty(), build()) {
            (true, Some(parsed)) => Ok(parsed),
            _ => Err(p.errors),
        }
    }
}

const ALL_MODES: &[ModeKind] = &[
    ModeKind::IamUser,
    ModeKind::AssumeRole,
    ModeKind::FederationToken,
    ModeKind::SessionToken,
];

/// A value counts as given only when it is not blank.
fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().filter(|r| !r.trim().is_empty())
}

/// The parse in progress. Every helper returns `None` when it recorded an error, and
/// `Some(value)` (often `Some(None)` or an empty list for "not given") otherwise.
struct Parser {
    errors: ValidationErrors,
    /// `None` when `access-mode` itself was bad: then no mode-specific rule is applied, to
    /// avoid errors that follow only from the bad mode.
    mode: Option<AccessMode>,
}

impl Parser {
    fn kind(&self) -> Option<ModeKind> {
        self.mode.map(|m| m.kind())
    }

    /// Records an error on `field` if the producer's mode is not in `modes`, and says whether
    /// the field may be used.
    fn allowed(&mut self, field: &'static str, modes: &[ModeKind], fix: &str) -> bool {
        match self.mode {
            Some(mode) if !modes.contains(&mode.kind()) => {
                self.errors.push(
                    field,
                    format!(
                        "applies only to {} producers, not {mode}; {fix}",
                        describe(modes)
                    ),
                );
                false
            }
            _ => true,
        }
    }

    /// A TTL field within the mode's bounds; `Some(None)` when not given.
    fn ttl(&mut self, field: &'static str, raw: &Option<String>) -> Option<Option<Ttl>> {
        let Some(raw) = given(raw) else {
            return Some(None);
        };
        let ttl = self.errors.check(field, Ttl::parse(raw))?;
        if let Some(mode) = self.mode {
            let (min, max) = mode.ttl_bounds();
            if !(min..=max).contains(&ttl.as_secs()) {
                self.errors.push(
                    field,
                    format!(
                        "{} is outside what {mode} allows ({} to {})",
                        ttl.original(),
                        Ttl::from_secs(min),
                        Ttl::from_secs(max)
                    ),
                );
                return None;
            }
        }
        Some(Some(ttl))
    }

    /// A comma-separated list: each entry parsed (each bad one reported), duplicates dropped,
    /// at most `max` entries.
    fn list<T: PartialEq>(
        &mut self,
        field: &'static str,
        raw: &Option<String>,
        modes: &[ModeKind],
        parse: fn(&str) -> Result<T, String>,
        max: usize,
        what: &str,
    ) -> Option<Vec<T>> {
        let Some(raw) = given(raw) else {
            return Some(Vec::new());
        };
        if !self.allowed(field, modes, "leave it unset") {
            return None;
        }
        let before = self.errors.len();
        let mut items: Vec<T> = Vec::new();
        for entry in parse_comma_list(raw) {
            if let Some(item) = self.errors.check(field, parse(&entry)) {
                if !items.contains(&item) {
                    items.push(item);
                }
            }
        }
        if self.errors.len() > before {
            return None;
        }
        if items.len() > max {
            self.errors.push(
                field,
                format!("{} {what} given; the maximum is {max}", items.len()),
            );
            return None;
        }
        Some(items)
    }

    /// A single optional value; `Some(None)` when not given.
    fn optional<T>(
        &mut self,
        field: &'static str,
        raw: &Option<String>,
        modes: &[ModeKind],
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let Some(raw) = given(raw) else {
            return Some(None);
        };
        if !self.allowed(field, modes, "leave it unset") {
            return None;
        }
        self.errors.check(field, parse(raw)).map(Some)
    }

    /// Transitive keys must name session tags. If `session-tags` itself was bad, only the
    /// keys' own syntax is checked, since membership cannot be judged.
    fn transitive_keys(
        &mut self,
        raw: &Option<String>,
        session_tags: Option<&Option<TagList>>,
    ) -> Option<TransitiveTagKeys> {
        let Some(raw) = given(raw) else {
            return Some(TransitiveTagKeys::default());
        };
        if !self.allowed(TRANSITIVE_TAG_KEYS, ASSUME_ROLE, "leave it unset") {
            return None;
        }
        let result = match session_tags {
            Some(tags) => {
                let empty = TagList::default();
                TransitiveTagKeys::parse(raw, tags.as_ref().unwrap_or(&empty))
            }
            None => TransitiveTagKeys::try_from(
                raw.split([' ', ',']).map(str::to_owned).collect::<Vec<_>>(),
            ),
        };
        self.errors.check(TRANSITIVE_TAG_KEYS, result)
    }

    fn password_policy(&mut self, draft: &ProducerDraft) -> Option<PasswordPolicy> {
        let input = PasswordPolicyInput {
            password_length: draft.password_length.as_deref(),
            use_capital_letters: draft.use_capital_letters.as_deref(),
            use_lower_letters: draft.use_lower_letters.as_deref(),
            use_numbers: draft.use_numbers.as_deref(),
            use_special_characters: draft.use_special_characters.as_deref(),
        };
        match PasswordPolicy::parse(&input) {
            Ok(policy) => Some(policy),
            Err(errors) => {
                for error in errors {
                    self.errors.push(error.field, error.message);
                }
                None
            }
        }
    }

    /// Item tags: trimmed, 1..256 characters each, duplicates dropped, at most 50.
    fn item_tags(&mut self, raw: &[String]) -> Option<Vec<String>> {
        let before = self.errors.len();
        let mut tags: Vec<String> = Vec::new();
        for tag in raw.iter().map(|t| t.trim()) {
            let len = tag.chars().count();
            if len == 0 {
                self.errors.push(TAGS, "tags must not be empty strings");
            } else if len > MAX_ITEM_TAG_LEN {
                self.errors.push(
                    TAGS,
                    format!("a tag is {len} characters long; the maximum is {MAX_ITEM_TAG_LEN}"),
                );
            } else if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
            }
        }
        if tags.len() > MAX_ITEM_TAGS {
            self.errors.push(
                TAGS,
                format!("{} tags given; the maximum is {MAX_ITEM_TAGS}", tags.len()),
            );
        }
        (self.errors.len() == before).then_some(tags)
    }

    fn description(&mut self, raw: &Option<String>) -> Option<Option<String>> {
        let Some(text) = given(raw) else {
            return Some(None);
        };
        let len = text.chars().count();
        if len > MAX_DESCRIPTION_LEN {
            self.errors.push(
                DESCRIPTION,
                format!("is {len} characters long; the maximum is {MAX_DESCRIPTION_LEN}"),
            );
            return None;
        }
        Some(Some(text.to_owned()))
    }
}

/// `iam_user`, `iam_user and assume_role`, `iam_user, assume_role and federation_token`.
fn describe(modes: &[ModeKind]) -> String {
    let names: Vec<String> = modes.iter().map(ModeKind::to_string).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}
