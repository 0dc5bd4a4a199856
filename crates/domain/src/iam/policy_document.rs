//! Inline IAM policy documents (`aws-policy-document`).

/// AWS's limit for an IAM user's inline policies and for STS session policies, counted
/// without whitespace.
pub const MAX_POLICY_CHARS: usize = 2048;

/// A JSON policy document: an object with a `Statement`, kept in compact form (whitespace
/// outside strings removed, keys in the user's order) and at most 2048 characters so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument(String);

impl PolicyDocument {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact = minify(raw.trim());
        if compact.is_empty() {
            return Err("policy document must not be empty".to_owned());
        }
        let value: serde_json::Value = serde_json::from_str(&compact)
            .map_err(|e| format!("policy document is not valid JSON: {e}"))?;
        let Some(object) = value.as_object() else {
            return Err("policy document must be a JSON object such as {\"Version\":\"2012-10-17\",\"Statement\":[...]}".to_owned());
        };
        match object.get("Statement") {
            None => {
                return Err("policy document has no \"Statement\"; add one, e.g. \"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]".to_owned())
            }
            Some(serde_json::Value::Array(statements)) if statements.is_empty() => {
                return Err("policy document has an empty \"Statement\" list".to_owned())
            }
            Some(serde_json::Value::Array(_) | serde_json::Value::Object(_)) => {}
            Some(_) => {
                return Err("policy document's \"Statement\" must be an object or a list of objects".to_owned())
            }
        }
        let len = compact.chars().count();
        if len > MAX_POLICY_CHARS {
            return Err(format!(
                "policy document is {len} characters without whitespace; AWS allows {MAX_POLICY_CHARS}"
            ));
        }
        Ok(Self(compact))
    }

    /// The compact JSON text, as sent to AWS.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

display_str!(PolicyDocument);
string_serde!(PolicyDocument);

/// Removes JSON whitespace outside strings, leaving everything else byte for byte, which is
/// how AWS counts a policy's size. Invalid JSON stays invalid, for the parser to report.
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my bucket/*"}]
    }"#;

    #[test]
    fn keeps_a_compact_form_with_order_and_string_spaces() {
        let doc = PolicyDocument::parse(POLICY).unwrap();
        assert_eq!(
            doc.as_str(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my bucket/*"}]}"#
        );
        let escaped = PolicyDocument::parse(r#"{"Statement": {"Sid": "a \" b"}}"#).unwrap();
        assert_eq!(escaped.as_str(), r#"{"Statement":{"Sid":"a \" b"}}"#);
    }

    #[test]
    fn rejects_non_policies() {
        for (raw, needle) in [
            ("", "must not be empty"),
            ("  \n ", "must not be empty"),
            ("{", "not valid JSON"),
            ("[1]", "must be a JSON object"),
            ("\"text\"", "must be a JSON object"),
            (r#"{"Version":"2012-10-17"}"#, "no \"Statement\""),
            (r#"{"Statement":[]}"#, "empty \"Statement\""),
            (r#"{"Statement":"Allow"}"#, "must be an object or a list"),
        ] {
            let err = PolicyDocument::parse(raw).unwrap_err();
            assert!(err.contains(needle), "{raw:?}: {err}");
        }
    }

    #[test]
    fn counts_size_without_whitespace() {
        let fits = |n: usize| format!(r#"{{"Statement":{{"Sid":"{}"}}}}"#, "a".repeat(n));
        let overhead = fits(0).len();
        let exact = fits(MAX_POLICY_CHARS - overhead);
        let padded = exact.replace(':', " :\n  ");
        assert!(PolicyDocument::parse(&padded).is_ok());
        let over = fits(MAX_POLICY_CHARS - overhead + 1);
        assert!(PolicyDocument::parse(&over)
            .unwrap_err()
            .contains("2049 characters"));
    }

    #[test]
    fn serde_uses_the_compact_text() {
        let doc = PolicyDocument::parse(POLICY).unwrap();
        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(serde_json::from_str::<PolicyDocument>(&json).unwrap(), doc);
        assert!(serde_json::from_str::<PolicyDocument>("\"{}\"").is_err());
    }
}
