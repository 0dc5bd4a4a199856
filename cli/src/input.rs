//! Flag values that point elsewhere: `-` reads a secret from stdin, `@FILE` reads a document
//! from a file. Reading a secret from stdin keeps it out of the shell history and `ps`.

use std::io::Read;
use std::path::PathBuf;

use crate::error::CliError;

/// Resolves indirect flag values. Stdin can feed only one flag per invocation, so the first
/// flag that takes it is remembered and a second one is refused rather than left empty.
pub struct Inputs<'a> {
    stdin: &'a mut dyn Read,
    stdin_taken_by: Option<&'static str>,
}

impl<'a> Inputs<'a> {
    pub fn new(stdin: &'a mut dyn Read) -> Self {
        Inputs {
            stdin,
            stdin_taken_by: None,
        }
    }

    /// Replaces a value of exactly `-` with the contents of stdin, minus one trailing newline
    /// (what `echo` and heredocs add).
    pub fn secret(&mut self, flag: &'static str, value: &mut String) -> Result<(), CliError> {
        if value != "-" {
            return Ok(());
        }
        let text = self.read_stdin(flag)?;
        let trimmed = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        if trimmed.is_empty() {
            return Err(CliError::usage(format!(
                "{flag} -: nothing was read from stdin"
            )));
        }
        *value = trimmed.to_owned();
        Ok(())
    }

    /// Reads all of stdin for `flag`, refusing a second flag that asks for it.
    fn read_stdin(&mut self, flag: &'static str) -> Result<String, CliError> {
        if let Some(first) = self.stdin_taken_by {
            return Err(CliError::usage(format!(
                "{flag} and {first} both ask to read stdin (\"-\"); only one flag can"
            )));
        }
        self.stdin_taken_by = Some(flag);
        let mut text = String::new();
        self.stdin
            .read_to_string(&mut text)
            .map_err(|source| CliError::File {
                action: "cannot read",
                path: PathBuf::from("<stdin>"),
                source,
            })?;
        Ok(text)
    }

    /// A bearer token such as a JWT: `-` reads it from stdin, `@FILE` from a file (a CI
    /// system's or a pod's token file), anything else is the token itself. Surrounding
    /// whitespace is trimmed in every case. Errors name the flag and the file, never the
    /// token.
    pub fn token(&mut self, flag: &'static str, value: &mut String) -> Result<(), CliError> {
        let (text, source) = if value == "-" {
            (
                self.read_stdin(flag)?,
                "-: nothing was read from stdin".to_owned(),
            )
        } else if let Some(path) = value.strip_prefix('@') {
            if path.is_empty() {
                return Err(CliError::usage(format!(
                    "{flag} @: a file name must follow @"
                )));
            }
            let path = PathBuf::from(path);
            let text = std::fs::read_to_string(&path).map_err(|source| CliError::File {
                action: "cannot read",
                path: path.clone(),
                source,
            })?;
            (text, format!("@{}: the file is empty", path.display()))
        } else {
            (std::mem::take(value), "is empty".to_owned())
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(CliError::usage(format!("{flag} {source}")));
        }
        *value = trimmed.to_owned();
        Ok(())
    }

    /// [`Inputs::token`] for an optional flag.
    pub fn optional_token(
        &mut self,
        flag: &'static str,
        value: &mut Option<String>,
    ) -> Result<(), CliError> {
        match value {
            Some(value) => self.token(flag, value),
            None => Ok(()),
        }
    }

    /// [`Inputs::secret`] for an optional flag.
    pub fn optional_secret(
        &mut self,
        flag: &'static str,
        value: &mut Option<String>,
    ) -> Result<(), CliError> {
        match value {
            Some(value) => self.secret(flag, value),
            None => Ok(()),
        }
    }

    /// Replaces a value starting with `@` with the contents of the file it names, so a policy
    /// document can live in its own file (`--aws-policy-document @policy.json`).
    pub fn file_reference(
        &mut self,
        flag: &'static str,
        value: &mut Option<String>,
    ) -> Result<(), CliError> {
        let Some(path) = value.as_deref().and_then(|v| v.strip_prefix('@')) else {
            return Ok(());
        };
        if path.is_empty() {
            return Err(CliError::usage(format!(
                "{flag} @: a file name must follow @"
            )));
        }
        let path = PathBuf::from(path);
        let contents = std::fs::read_to_string(&path).map_err(|source| CliError::File {
            action: "cannot read",
            path,
            source,
        })?;
        *value = Some(contents);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_reads_stdin_without_the_trailing_newline() {
        let mut stdin: &[u8] = b"s3cr3t\r\n";
        let mut inputs = Inputs::new(&mut stdin);
        let mut value = "-".to_owned();
        inputs.secret("--access-key", &mut value).unwrap();
        assert_eq!(value, "s3cr3t");
    }

    #[test]
    fn other_values_are_untouched_and_stdin_unread() {
        let mut stdin: &[u8] = b"unused";
        let mut inputs = Inputs::new(&mut stdin);
        let mut value = Some("plain".to_owned());
        inputs.optional_secret("--access-key", &mut value).unwrap();
        assert_eq!(value.as_deref(), Some("plain"));
        let mut none = None;
        inputs.optional_secret("--access-key", &mut none).unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn stdin_feeds_only_one_flag() {
        let mut stdin: &[u8] = b"one\n";
        let mut inputs = Inputs::new(&mut stdin);
        let mut first = "-".to_owned();
        let mut second = "-".to_owned();
        inputs.secret("--a", &mut first).unwrap();
        let error = inputs.secret("--b", &mut second).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("--a"), "{error}");
    }

    #[test]
    fn empty_stdin_is_refused() {
        let mut stdin: &[u8] = b"\n";
        let mut inputs = Inputs::new(&mut stdin);
        let mut value = "-".to_owned();
        assert!(inputs.secret("--access-key", &mut value).is_err());
    }

    #[test]
    fn tokens_come_from_stdin_files_or_the_value_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  eyJ.file.sig \n\n").unwrap();
        let mut stdin: &[u8] = b"\n eyJ.stdin.sig\r\n";
        let mut inputs = Inputs::new(&mut stdin);
        let mut from_file = format!("@{}", path.display());
        inputs.token("--jwt", &mut from_file).unwrap();
        assert_eq!(from_file, "eyJ.file.sig");
        let mut from_stdin = Some("-".to_owned());
        inputs.optional_token("--jwt", &mut from_stdin).unwrap();
        assert_eq!(from_stdin.as_deref(), Some("eyJ.stdin.sig"));
        let mut plain = " eyJ.plain.sig\n".to_owned();
        inputs.token("--jwt", &mut plain).unwrap();
        assert_eq!(plain, "eyJ.plain.sig");
        let mut none = None;
        inputs.optional_token("--jwt", &mut none).unwrap();
        assert_eq!(none, None);
        // Stdin was taken by the first "-".
        let mut again = "-".to_owned();
        assert_eq!(
            inputs
                .token("MAYFLY_JWT", &mut again)
                .unwrap_err()
                .exit_code(),
            2
        );
    }

    #[test]
    fn empty_or_missing_tokens_are_refused_without_echoing_them() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n").unwrap();
        let mut stdin: &[u8] = b"\n";
        let mut inputs = Inputs::new(&mut stdin);
        let mut value = format!("@{}", empty.display());
        let error = inputs.token("--jwt", &mut value).unwrap_err();
        assert!(error.to_string().contains("the file is empty"), "{error}");
        let mut value = "-".to_owned();
        let error = inputs.token("--jwt", &mut value).unwrap_err();
        assert!(error.to_string().contains("nothing was read"), "{error}");
        let mut value = "   ".to_owned();
        assert!(inputs.token("--jwt", &mut value).is_err());
        let mut value = "@".to_owned();
        assert!(inputs.token("--jwt", &mut value).is_err());
        let mut value = "@/nonexistent/token".to_owned();
        let error = inputs.token("--jwt", &mut value).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/token"), "{error}");
    }

    #[test]
    fn at_file_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, r#"{"Version":"2012-10-17"}"#).unwrap();
        let mut stdin: &[u8] = b"";
        let mut inputs = Inputs::new(&mut stdin);
        let mut value = Some(format!("@{}", path.display()));
        inputs
            .file_reference("--aws-policy-document", &mut value)
            .unwrap();
        assert_eq!(value.as_deref(), Some(r#"{"Version":"2012-10-17"}"#));

        let mut inline = Some(r#"{"a":1}"#.to_owned());
        inputs
            .file_reference("--aws-policy-document", &mut inline)
            .unwrap();
        assert_eq!(inline.as_deref(), Some(r#"{"a":1}"#));

        let mut missing = Some("@/nonexistent/policy.json".to_owned());
        assert!(inputs
            .file_reference("--aws-policy-document", &mut missing)
            .is_err());
    }
}
