//! TLS for the listener: certificates from files, or a local CA and server certificate
//! generated into the data directory on first start.
//!
//! Why a CA instead of one self-signed certificate: clients (the CLI's `--ca-cert`, Python's
//! `ssl_ca_cert`) expect a CA file, and some TLS stacks refuse an end-entity certificate as
//! its own trust anchor. The CA's private key is thrown away after signing, so nothing on disk
//! can mint further certificates.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};

/// Where the generated files live inside the data directory.
pub struct GeneratedPaths {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl GeneratedPaths {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("tls");
        GeneratedPaths {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no usable PEM {what}")]
    Pem { path: PathBuf, what: &'static str },
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key do not form a usable TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Generates the CA and server certificate unless they exist. Returns true if it generated.
pub fn ensure_generated(paths: &GeneratedPaths) -> Result<bool, TlsError> {
    if paths.cert.exists() && paths.key.exists() {
        return Ok(false);
    }
    let dir = paths.cert.parent().unwrap_or(Path::new("."));
    mayfly_app::files::create_private_dir(dir).map_err(|source| TlsError::Write {
        path: dir.to_owned(),
        source,
    })?;

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "Mayfly gateway local CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // From yesterday (clock skew) to 825 days ahead, the longest validity clients accept.
    let ymd = |d: chrono::DateTime<chrono::Utc>| {
        use chrono::Datelike;
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    let now = chrono::Utc::now();
    let not_before = ymd(now - chrono::Duration::days(1));
    let not_after = ymd(now + chrono::Duration::days(825));
    ca.not_before = not_before;
    ca.not_after = not_after;
    let ca_cert = ca.self_signed(&ca_key)?;

    let mut names = vec!["localhost".to_owned(), "127.0.0.1".into(), "::1".into()];
    if let Some(host) = hostname() {
        names.push(host);
    }
    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(names)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "mayfly-gateway");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = not_before;
    server.not_after = not_after;
    let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key)?;

    write_file(&paths.ca, ca_cert.pem().as_bytes(), 0o644)?;
    write_file(&paths.key, server_key.serialize_pem().as_bytes(), 0o600)?;
    // The chain a client receives: server certificate, then the CA.
    let chain = format!("{}{}", server_cert.pem(), ca_cert.pem());
    write_file(&paths.cert, chain.as_bytes(), 0o644)?;
    Ok(true)
}

fn hostname() -> Option<String> {
    let name = fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'))
    .then(|| name.to_owned())
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let err = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = mayfly_app::files::create_with_mode(path, mode).map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)
}

/// Loaded certificate chain and key, plus the SHA-256 fingerprint of the leaf.
pub struct LoadedTls {
    pub config: ServerConfig,
    pub fingerprint: String,
}

/// Reads PEM files into a rustls server configuration using the ring provider.
pub fn load(cert_path: &Path, key_path: &Path) -> Result<LoadedTls, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .map_err(|_| TlsError::Pem {
            path: cert_path.to_owned(),
            what: "certificate",
        })?
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::Pem {
            path: cert_path.to_owned(),
            what: "certificate",
        })?;
    let leaf = certs.first().ok_or_else(|| TlsError::Pem {
        path: cert_path.to_owned(),
        what: "certificate",
    })?;
    let fingerprint = mayfly_crypto::fingerprint_sha256(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|_| TlsError::Pem {
        path: key_path.to_owned(),
        what: "private key",
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(LoadedTls {
        config,
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_load_and_are_not_regenerated() {
        let dir = tempfile::tempdir().unwrap();
        let paths = GeneratedPaths::in_data_dir(dir.path());
        assert!(ensure_generated(&paths).unwrap());
        let first = load(&paths.cert, &paths.key).unwrap().fingerprint;
        assert!(!ensure_generated(&paths).unwrap());
        let second = load(&paths.cert, &paths.key).unwrap().fingerprint;
        assert_eq!(first, second);
        assert_eq!(first.len(), 32 * 3 - 1);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&paths.key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn garbage_pem_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        fs::write(&cert, "not pem").unwrap();
        let err = load(&cert, &cert).err().unwrap().to_string();
        assert!(err.contains("c.pem"), "{err}");
    }
}
