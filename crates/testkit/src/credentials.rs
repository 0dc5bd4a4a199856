//! The admin API key handed to the gateway at first start.
//!
//! The gateway accepts `MAYFLY_ADMIN_ACCESS_ID` / `MAYFLY_ADMIN_ACCESS_KEY` on first start
//! instead of generating a key, so tests know the admin credentials without parsing logs. The
//! values are random per gateway so that a test looking for a leaked key in logs or database
//! files cannot be fooled by a constant that happens to appear elsewhere.

use uuid::Uuid;

/// An access id (`p-...`) and access key pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminCredentials {
    pub access_id: String,
    pub access_key: String,
}

impl AdminCredentials {
    /// Fresh random credentials: `p-` and 12 lowercase hex digits (the shape of an Akeyless
    /// access id), and a 64-hex-digit access key (well over the 32 bytes a real key carries).
    pub fn generate() -> Self {
        let id = Uuid::new_v4().simple().to_string();
        let key = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        Self {
            access_id: format!("p-{}", &id[..12]),
            access_key: key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_have_the_expected_shape() {
        let creds = AdminCredentials::generate();
        let id = creds.access_id.strip_prefix("p-").expect("p- prefix");
        assert_eq!(id.len(), 12);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(creds.access_key.len(), 64);
        assert!(creds.access_key.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn generated_credentials_differ_each_time() {
        let a = AdminCredentials::generate();
        let b = AdminCredentials::generate();
        assert_ne!(a.access_id, b.access_id);
        assert_ne!(a.access_key, b.access_key);
    }
}
