//! Errors that name the request field at fault.
//!
//! The gateway answers bad input with one 400 listing *every* problem, each tied to the wire
//! name of its field (`user-ttl`, `aws-user-policies`, ...), so a user fixes a request in one
//! round trip instead of one per mistake.

use std::fmt;

/// One problem with one request field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's wire name, exactly as the request spells it (kebab-case, except
    /// `delete_protection`).
    pub field: &'static str,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in one request, in the order they were found.
///
/// `Display` joins them as `user-ttl: ...; aws-role-arns: ...`, which is what the gateway puts
/// in its `{"error": ...}` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors {
    errors: Vec<FieldError>,
}

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with `field`.
    pub fn push(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records the error of `result` (if any) against `field` and passes the value on, so a
    /// parser can keep going after a bad field and still report the next one.
    pub fn check<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.push(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.errors.iter()
    }

    /// Whether any problem concerns `field`.
    pub fn has_field(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    /// `Ok(value)` when nothing was recorded, otherwise `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self {
            errors: vec![error],
        }
    }
}

impl From<Vec<FieldError>> for ValidationErrors {
    fn from(errors: Vec<FieldError>) -> Self {
        Self { errors }
    }
}

impl IntoIterator for ValidationErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_joins_every_error_with_its_field() {
        let mut errors = ValidationErrors::new();
        errors.push("user-ttl", "add a unit, e.g. 60m");
        errors.push("aws-role-arns", "assume_role needs at least one role ARN");
        assert_eq!(
            errors.to_string(),
            "user-ttl: add a unit, e.g. 60m; aws-role-arns: assume_role needs at least one role ARN"
        );
        assert_eq!(errors.len(), 2);
        assert!(errors.has_field("aws-role-arns"));
        assert!(!errors.has_field("name"));
    }

    #[test]
    fn check_records_errors_and_passes_values_through() {
        let mut errors = ValidationErrors::new();
        assert_eq!(errors.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(errors.check::<u8>("b", Err("bad".into())), None);
        assert_eq!(errors.errors(), &[FieldError::new("b", "bad")]);
        assert_eq!(errors.clone().into_result(()), Err(errors));
    }

    #[test]
    fn empty_errors_give_ok() {
        assert_eq!(ValidationErrors::new().into_result(7), Ok(7));
    }
}
