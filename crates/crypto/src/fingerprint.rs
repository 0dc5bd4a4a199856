//! Certificate fingerprints, printed at start-up so a client can check that the certificate
//! it is shown is the one the gateway generated.

use ring::digest::{digest, SHA256};

/// SHA-256 of a DER-encoded certificate as colon-separated uppercase hex (`AB:CD:...`), the
/// format `openssl x509 -fingerprint -sha256` and browsers show.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    digest(&SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_openssl() {
        let fp = fingerprint_sha256(b"abc");
        assert_eq!(
            fp,
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
        assert_eq!(fingerprint_sha256(b"").len(), 32 * 3 - 1);
    }
}
