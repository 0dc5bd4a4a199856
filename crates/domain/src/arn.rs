//! IAM policy and role ARNs.
//!
//! Checked up front so that a typo is a 400 naming the field at create time, rather than an
//! AWS error at the first credential request, possibly after an IAM user was half built.

const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];
const MAX_PATH_LEN: usize = 512;

/// A managed policy ARN: `arn:<partition>:iam::<account|aws>:policy/<path/>name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyArn(String);

impl PolicyArn {
    /// Accepts customer policies (12-digit account) and AWS managed ones (account `aws`),
    /// in the `aws`, `aws-cn` and `aws-us-gov` partitions. The name is 1..128 characters of
    /// `[A-Za-z0-9_+=,.@-]`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let example =
            "arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::123456789012:policy/NAME";
        let parts = split_iam_arn(text, "policy", example)?;
        if parts.account != "aws" && !is_account_id(parts.account) {
            return Err(format!(
                "{text:?} has account {:?}; use a 12-digit account id or \"aws\" for AWS managed policies",
                parts.account
            ));
        }
        check_name(text, parts.name, 128, "policy")?;
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The policy's name, without its path.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }
}

display_str!(PolicyArn);
string_serde!(PolicyArn);

/// A role ARN: `arn:<partition>:iam::<12-digit account>:role/<path/>name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleArn(String);

impl RoleArn {
    /// The name is 1..64 characters of `[A-Za-z0-9_+=,.@-]`, as IAM allows for roles.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let example = "arn:aws:iam::123456789012:role/NAME";
        let parts = split_iam_arn(text, "role", example)?;
        if !is_account_id(parts.account) {
            return Err(format!(
                "{text:?} has account {:?}; a role ARN needs the 12-digit account id",
                parts.account
            ));
        }
        check_name(text, parts.name, 64, "role")?;
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The role's name, without its path.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }
}

display_str!(RoleArn);
string_serde!(RoleArn);

struct ArnParts<'a> {
    account: &'a str,
    name: &'a str,
}

/// Splits `arn:<partition>:iam::<account>:<kind>/<path/>name`, checking everything but the
/// account and the name, which differ between policies and roles.
fn split_iam_arn<'a>(text: &'a str, kind: &str, example: &str) -> Result<ArnParts<'a>, String> {
    if text.is_empty() {
        return Err(format!("ARN must not be empty; use e.g. {example}"));
    }
    let fields: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = fields[..] else {
        return Err(format!(
            "{text:?} is not an IAM {kind} ARN; use e.g. {example}"
        ));
    };
    if arn != "arn" {
        return Err(format!(
            "{text:?} does not start with \"arn:\"; use e.g. {example}"
        ));
    }
    if !PARTITIONS.contains(&partition) {
        return Err(format!(
            "{text:?} has partition {partition:?}; use aws, aws-cn or aws-us-gov"
        ));
    }
    if service != "iam" || !region.is_empty() {
        return Err(format!(
            "{text:?} is not an IAM ARN (expected \"arn:{partition}:iam::\"); use e.g. {example}"
        ));
    }
    let Some(path_and_name) = resource
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return Err(format!("{text:?} is not a {kind} ARN; use e.g. {example}"));
    };
    let (path, name) = match path_and_name.rfind('/') {
        Some(i) => (&path_and_name[..i], &path_and_name[i + 1..]),
        None => ("", path_and_name),
    };
    if path.len() + 2 > MAX_PATH_LEN {
        return Err(format!(
            "{text:?} has a path longer than {MAX_PATH_LEN} characters"
        ));
    }
    if !path.is_empty() {
        for segment in path.split('/') {
            if segment.is_empty() {
                return Err(format!("{text:?} has an empty path segment ('//')"));
            }
            if let Some(bad) = segment.chars().find(|c| !matches!(c, '\x21'..='\x7e')) {
                return Err(format!(
                    "{text:?} has {bad:?} in its path; IAM paths use printable ASCII without spaces"
                ));
            }
        }
    }
    Ok(ArnParts { account, name })
}

fn check_name(text: &str, name: &str, max: usize, kind: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{text:?} has no {kind} name after the last '/'"));
    }
    if let Some(bad) = name.chars().find(|c| !is_iam_name_char(*c)) {
        return Err(format!(
            "{text:?} has {bad:?} in its {kind} name; use letters, digits and _ + = , . @ -"
        ));
    }
    // Only ASCII is left, so bytes are characters.
    if name.len() > max {
        return Err(format!(
            "{text:?} has a {kind} name of {} characters; the maximum is {max}",
            name.len()
        ));
    }
    Ok(())
}

fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// The IAM name character set `[\w+=,.@-]`, with `\w` meaning ASCII letters, digits and `_`.
pub(crate) fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_customer_and_aws_managed_policies() {
        for raw in [
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
            "arn:aws:iam::123456789012:policy/team/s3/my_policy+x=y,z.a@b-c",
            "arn:aws-cn:iam::123456789012:policy/p",
            "arn:aws-us-gov:iam::aws:policy/p",
        ] {
            assert_eq!(PolicyArn::parse(raw).unwrap().as_str(), raw);
        }
        let arn = PolicyArn::parse(" arn:aws:iam::aws:policy/a/b/Name ").unwrap();
        assert_eq!(arn.as_str(), "arn:aws:iam::aws:policy/a/b/Name");
        assert_eq!(arn.name(), "Name");
    }

    #[test]
    fn rejects_malformed_policy_arns() {
        for (raw, needle) in [
            ("", "must not be empty"),
            ("ReadOnlyAccess", "is not an IAM policy ARN"),
            ("arx:aws:iam::aws:policy/p", "does not start with"),
            ("arn:aws-eu:iam::aws:policy/p", "partition"),
            ("arn:aws:s3::aws:policy/p", "is not an IAM ARN"),
            ("arn:aws:iam:us-east-1:aws:policy/p", "is not an IAM ARN"),
            ("arn:aws:iam::12345:policy/p", "12-digit"),
            ("arn:aws:iam::12345678901a:policy/p", "12-digit"),
            ("arn:aws:iam::aws:role/p", "is not a policy ARN"),
            ("arn:aws:iam::aws:policyp", "is not a policy ARN"),
            ("arn:aws:iam::aws:policy/", "no policy name"),
            ("arn:aws:iam::aws:policy/a/", "no policy name"),
            ("arn:aws:iam::aws:policy/a//b", "empty path segment"),
            ("arn:aws:iam::aws:policy/a b/c", "in its path"),
            ("arn:aws:iam::aws:policy/bad*name", "'*'"),
        ] {
            let err = PolicyArn::parse(raw).unwrap_err();
            assert!(err.contains(needle), "{raw:?}: {err}");
        }
    }

    #[test]
    fn policy_name_length_limit() {
        let ok = format!("arn:aws:iam::aws:policy/{}", "a".repeat(128));
        assert!(PolicyArn::parse(&ok).is_ok());
        let long = format!("arn:aws:iam::aws:policy/{}", "a".repeat(129));
        assert!(PolicyArn::parse(&long)
            .unwrap_err()
            .contains("maximum is 128"));
    }

    #[test]
    fn role_arns() {
        let role = RoleArn::parse("arn:aws:iam::123456789012:role/path/deploy").unwrap();
        assert_eq!(role.name(), "deploy");
        assert!(RoleArn::parse("arn:aws:iam::aws:role/x")
            .unwrap_err()
            .contains("12-digit"));
        assert!(RoleArn::parse("arn:aws:iam::123456789012:policy/x")
            .unwrap_err()
            .contains("is not a role ARN"));
        assert!(RoleArn::parse("arn:aws:sts::123456789012:assumed-role/x/y").is_err());
        let ok = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(64));
        assert!(RoleArn::parse(&ok).is_ok());
        let long = format!("arn:aws:iam::123456789012:role/{}", "r".repeat(65));
        assert!(RoleArn::parse(&long).unwrap_err().contains("maximum is 64"));
    }

    #[test]
    fn serde_parses() {
        let arn: RoleArn = serde_json::from_str("\"arn:aws:iam::123456789012:role/r\"").unwrap();
        assert_eq!(
            serde_json::to_string(&arn).unwrap(),
            "\"arn:aws:iam::123456789012:role/r\""
        );
        assert!(serde_json::from_str::<PolicyArn>("\"nope\"").is_err());
    }
}
