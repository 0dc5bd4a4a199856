//! One call as the proxy reads it: the AWS action and form fields of an IAM/STS Query API
//! request, and the access key id it was signed with.

/// One call the proxy received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Call {
    /// The form body (`Action=AssumeRole&RoleArn=...`), percent-decoded into pairs (with the
    /// query string's pairs first, for a call that sends its parameters there).
    pub form: Vec<(String, String)>,
    /// The access key id the call was signed with (SigV4 `Credential=`).
    pub access_key_id: Option<String>,
    /// `X-Amz-Target`'s operation, for a JSON-protocol call (which has no `Action=`).
    target_operation: Option<String>,
}

impl Call {
    /// Reads a call from its query string, `Authorization` and `X-Amz-Target` headers, and
    /// body.
    pub(crate) fn parse(
        query: Option<&str>,
        authorization: Option<&str>,
        amz_target: Option<&str>,
        body: &[u8],
    ) -> Call {
        let mut form = query.map(parse_form).unwrap_or_default();
        form.extend(parse_form(&String::from_utf8_lossy(body)));
        let access_key_id = authorization
            .and_then(|v| v.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
            .map(str::to_owned);
        let target_operation = amz_target
            .and_then(|t| t.rsplit('.').next())
            .map(str::to_owned);
        Call {
            form,
            access_key_id,
            target_operation,
        }
    }

    /// The first value of form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The AWS action (`AssumeRole`, `CreateUser`); empty when the call names none.
    pub fn action(&self) -> &str {
        self.field("Action")
            .or(self.target_operation.as_deref())
            .unwrap_or_default()
    }
}

fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((decode(k), decode(v)))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_fields_and_signing_key_are_read() {
        let call = Call::parse(
            None,
            Some("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261129/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=abc"),
            None,
            b"Action=CreateUser&Version=2010-05-08&UserName=a%2Bb+c&Path=%2Fmayfly%2F",
        );
        assert_eq!(call.action(), "CreateUser");
        assert_eq!(call.field("UserName"), Some("a+b c"));
        assert_eq!(call.field("Path"), Some("/mayfly/"));
        assert_eq!(call.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
    }

    #[test]
    fn the_action_may_come_from_the_query_string_or_a_json_target() {
        assert_eq!(
            Call::parse(
                Some("Action=GetCallerIdentity&Version=2011-06-15"),
                None,
                None,
                b""
            )
            .action(),
            "GetCallerIdentity"
        );
        assert_eq!(
            Call::parse(
                None,
                None,
                Some("AWSSecurityTokenServiceV20110615.AssumeRole"),
                b"{}"
            )
            .action(),
            "AssumeRole"
        );
        assert_eq!(Call::parse(None, None, None, b"").action(), "");
    }

    #[test]
    fn broken_escapes_are_kept_as_text() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%41"), "A");
    }
}
