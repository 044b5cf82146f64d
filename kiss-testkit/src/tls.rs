//! A CA and a server certificate for `localhost` it signs, made with the
//! openssl command as a cluster's issuer would make them, for TLS tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of a test PKI, in the directory given to [`certificates`].
pub struct TestCertificates {
    /// The CA's certificate (PEM): what clients trust.
    pub ca_cert: PathBuf,
    /// The server's certificate (PEM), for `localhost`.
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
}

impl TestCertificates {
    /// The CA certificate's PEM.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.ca_cert).expect("the CA certificate was written")
    }

    /// The server's certificate and key as a tonic identity.
    pub fn identity(&self) -> tonic::transport::Identity {
        tonic::transport::Identity::from_pem(
            std::fs::read(&self.cert).expect("the certificate was written"),
            std::fs::read(&self.key).expect("the key was written"),
        )
    }
}

/// Makes a P-256 CA and a `localhost` server certificate in `dir`.
pub fn certificates(dir: &Path) -> TestCertificates {
    let p = |f: &str| dir.join(f).to_str().expect("a UTF-8 path").to_owned();
    let (ca_cert, ca_key, cert, key, csr, ext) = (
        p("ca.crt"),
        p("ca.key"),
        p("tls.crt"),
        p("tls.key"),
        p("tls.csr"),
        p("ext.cnf"),
    );
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .expect("the extensions file is written");
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let steps: Vec<Vec<&str>> = vec![
        [
            &["req", "-x509"][..],
            &new_key,
            &["-days", "1", "-subj", "/CN=kiss-test-ca"],
            &["-keyout", &ca_key, "-out", &ca_cert],
        ]
        .concat(),
        [
            &["req"][..],
            &new_key,
            &["-subj", "/CN=localhost", "-keyout", &key, "-out", &csr],
        ]
        .concat(),
        vec![
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_cert,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ],
    ];
    for args in steps {
        let made = Command::new("openssl")
            .args(&args)
            .output()
            .expect("openssl is needed to make test certificates (apt-get install openssl)");
        assert!(
            made.status.success(),
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&made.stderr)
        );
    }
    TestCertificates {
        ca_cert: ca_cert.into(),
        cert: cert.into(),
        key: key.into(),
    }
}
