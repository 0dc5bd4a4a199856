//! What goes to stdout: the gateway's JSON pretty-printed, or a dynamic secret value reshaped
//! for a shell (`--output env`) or for the AWS CLI's `credential_process`.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::error::CliError;

/// Prints any JSON value pretty, followed by a newline.
pub fn print_json(value: &Value, out: &mut dyn Write) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::InvalidResponse(e.to_string()))?;
    writeln!(out, "{text}").map_err(CliError::Output)
}

/// The AWS credentials inside a `get-dynamic-secret-value` answer.
#[derive(Debug, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `security_token` of the STS modes; `iam_user` keys have none.
    pub session_token: Option<String>,
    /// RFC 3339, as the gateway sends it.
    pub expiration: Option<String>,
}

impl AwsCredentials {
    /// Reads the flat value object (`access_key_id`, `secret_access_key`, `security_token`,
    /// `expiration`). A value without keys (an `iam_user` producer with programmatic access
    /// off) cannot become environment variables, which is said plainly.
    pub fn from_value(value: &Value) -> Result<Self, CliError> {
        let required = |key: &str| {
            string_field(value, key).ok_or_else(|| {
                CliError::InvalidResponse(format!(
                    "the value has no {key:?}, so it cannot be printed as AWS credentials \
                     (try --output json)"
                ))
            })
        };
        Ok(AwsCredentials {
            access_key_id: required("access_key_id")?,
            secret_access_key: required("secret_access_key")?,
            session_token: string_field(value, "security_token"),
            expiration: string_field(value, "expiration"),
        })
    }

    /// `export` lines for `eval "$(mayfly get-dynamic-secret-value ... --output env)"`.
    /// Without a session token the line is `unset AWS_SESSION_TOKEN`, so a token left in the
    /// shell from earlier STS credentials cannot be paired with fresh IAM user keys.
    pub fn to_env(&self) -> String {
        let mut text = format!(
            "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\n",
            shell_quote(&self.access_key_id),
            shell_quote(&self.secret_access_key)
        );
        match &self.session_token {
            Some(token) => text.push_str(&format!(
                "export AWS_SESSION_TOKEN={}\n",
                shell_quote(token)
            )),
            None => text.push_str("unset AWS_SESSION_TOKEN\n"),
        }
        text
    }

    /// The JSON the AWS CLI and SDKs expect from a `credential_process` command (one line).
    pub fn to_credential_process(&self) -> Result<String, CliError> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct CredentialProcess<'a> {
            version: u8,
            access_key_id: &'a str,
            secret_access_key: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            session_token: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            expiration: Option<&'a str>,
        }
        let document = CredentialProcess {
            version: 1,
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            session_token: self.session_token.as_deref(),
            expiration: self.expiration.as_deref(),
        };
        serde_json::to_string(&document).map_err(|e| CliError::InvalidResponse(e.to_string()))
    }
}

/// A non-empty string field; numbers are accepted too (the contract says strings, but older
/// servers send `ttl_in_minutes` as a number and it costs nothing to be lenient).
fn string_field(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Quotes a word for POSIX shells: left bare when it only has characters no shell treats
/// specially (AWS keys usually do), else in single quotes with `'` written as `'\''`.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./+=:@%,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts_value() -> Value {
        json!({
            "access_key_id": "ASIAEXAMPLE",
            "secret_access_key": "wJalr/K7MDENG+bPxRfiCY",
            "security_token": "FQoGZX'IvYXdz",
            "expiration": "2030-01-01T00:00:00Z",
            "ttl_in_minutes": "60",
            "id": "tc-1"
        })
    }

    #[test]
    fn env_output_exports_keys_and_session_token() {
        let creds = AwsCredentials::from_value(&sts_value()).unwrap();
        assert_eq!(
            creds.to_env(),
            "export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n\
             export AWS_SECRET_ACCESS_KEY=wJalr/K7MDENG+bPxRfiCY\n\
             export AWS_SESSION_TOKEN='FQoGZX'\\''IvYXdz'\n"
        );
    }

    #[test]
    fn env_output_without_token_unsets_a_stale_one() {
        let value = json!({
            "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "abc def",
            "user": "tmp.x",
            "type": "aws_dynamic_user",
        });
        let creds = AwsCredentials::from_value(&value).unwrap();
        assert_eq!(
            creds.to_env(),
            "export AWS_ACCESS_KEY_ID=AKIAEXAMPLE\n\
             export AWS_SECRET_ACCESS_KEY='abc def'\n\
             unset AWS_SESSION_TOKEN\n"
        );
    }

    #[test]
    fn credential_process_has_the_aws_field_names() {
        let creds = AwsCredentials::from_value(&sts_value()).unwrap();
        let parsed: Value = serde_json::from_str(&creds.to_credential_process().unwrap()).unwrap();
        assert_eq!(
            parsed,
            json!({
                "Version": 1,
                "AccessKeyId": "ASIAEXAMPLE",
                "SecretAccessKey": "wJalr/K7MDENG+bPxRfiCY",
                "SessionToken": "FQoGZX'IvYXdz",
                "Expiration": "2030-01-01T00:00:00Z"
            })
        );
        assert!(!creds.to_credential_process().unwrap().contains('\n'));
    }

    #[test]
    fn credential_process_omits_absent_token_and_expiration() {
        let value =
            json!({"access_key_id": "AKIA", "secret_access_key": "s", "security_token": ""});
        let creds = AwsCredentials::from_value(&value).unwrap();
        assert_eq!(
            creds.to_credential_process().unwrap(),
            r#"{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"s"}"#
        );
    }

    #[test]
    fn value_without_keys_is_an_error() {
        let error = AwsCredentials::from_value(&json!({"password": "x"})).unwrap_err();
        assert!(error.to_string().contains("access_key_id"), "{error}");
    }

    #[test]
    fn shell_quote_handles_specials() {
        assert_eq!(shell_quote("AKIA123"), "AKIA123");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn print_json_is_pretty_with_newline() {
        let mut out = Vec::new();
        print_json(&json!({}), &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{}\n");
        let mut out = Vec::new();
        print_json(&json!({"a": 1}), &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\n  \"a\": 1\n}\n");
    }
}
