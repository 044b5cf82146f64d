//! Development mode: a kiss-server with no AWS and no identity provider.
//!
//! The server generates an RSA signing key and trusts only it, keeps secrets
//! in the local backend, and writes token files in kubelogin's format for a
//! demo user and an admin. It listens on loopback only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::ServeError;
use crate::audit::Audit;
use crate::auth::{AuthMode, AuthSettings, Authenticator, Jwks, NamespaceRule};
use crate::pipeline::{ClaimsAuthorizer, Limits};
use crate::server::{self, Parts, Running};
use crate::store::local::LocalStore;
use crate::store::{Naming, SecretRef, SecretStore};

/// The demo user's identifier.
pub const DEMO_USER: &str = "demo@kiss.dev";
/// The namespaces the demo user is granted.
pub const DEMO_NAMESPACES: &[&str] = &["team-a", "team-b", "sandbox"];
/// The admin's identifier.
pub const ADMIN_USER: &str = "admin@kiss.dev";
/// The admin namespace in dev mode.
pub const ADMIN_NAMESPACE: &str = "kiss-admins";
/// The `iss` of dev tokens.
pub const ISSUER: &str = "https://kiss.dev/dev-mode";
/// The `aud` of dev tokens.
pub const AUDIENCE: &str = "kiss";
/// The claim dev tokens carry their namespaces in.
pub const GROUPS_CLAIM: &str = "cognito:groups";
const KID: &str = "kiss-dev-key";
const TOKEN_LIFETIME: i64 = 12 * 3600;

/// How to start a dev server.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Where the local backend keeps its file.
    pub data_dir: PathBuf,
    /// Where the token files are written.
    pub token_dir: PathBuf,
    /// Where to listen; must be a loopback address (port 0: any free port).
    pub addr: SocketAddr,
    /// Create a few sample secrets (only into an empty store).
    pub seed_samples: bool,
}

/// The flags a dev server shares with a normal one, so that what an
/// operator tries in dev mode (audit file, metrics, limits) behaves alike.
#[derive(Debug, Clone)]
pub struct SharedFlags {
    /// `--audit-log`: audit records to this file instead of the log.
    pub audit_log: Option<PathBuf>,
    /// `--metrics-addr`: serve `/metrics` here.
    pub metrics_addr: Option<SocketAddr>,
    /// Rate and concurrency limits.
    pub limits: Limits,
    /// `--trusted-proxy`.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `--deletion-recovery-days`.
    pub deletion_recovery_days: u32,
}

impl Default for SharedFlags {
    /// What an embedded dev server (the app's demo, tests) runs with: audit
    /// to the log, no metrics, no rate limit, a 7-day recovery window.
    fn default() -> Self {
        SharedFlags {
            audit_log: None,
            metrics_addr: None,
            limits: Limits::unlimited(),
            trusted_proxies: Vec::new(),
            deletion_recovery_days: 7,
        }
    }
}

impl SharedFlags {
    /// The shared flags as given on the command line.
    pub fn from_config(config: &crate::config::Config) -> SharedFlags {
        SharedFlags {
            audit_log: config.audit_log.clone(),
            metrics_addr: config.metrics_addr,
            limits: config.limits(),
            trusted_proxies: config.trusted_proxies.clone(),
            deletion_recovery_days: config.deletion_recovery_days,
        }
    }
}

/// A running dev server.
pub struct DevServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Where the token files are.
    pub token_dir: PathBuf,
    /// The demo user's token file.
    pub user_token_path: PathBuf,
    /// The admin's token file.
    pub admin_token_path: PathBuf,
    key: EncodingKey,
    running: Running,
}

fn fail(what: &str, e: impl std::fmt::Display) -> ServeError {
    ServeError::Config(format!("dev mode: {what}: {e}"))
}

/// A generated RS256 signing key, the key set that publishes it, and token
/// minting: dev mode's stand-in for an identity provider (also used by
/// benchmarks).
pub struct DevKey {
    key: EncodingKey,
    jwks: JwkSet,
}

impl DevKey {
    /// Generates a fresh 2048-bit RSA key.
    pub fn generate() -> Result<DevKey, ServeError> {
        let (key, jwks) = signing_key()?;
        Ok(DevKey { key, jwks })
    }

    /// The JWKS that publishes the public half.
    pub fn key_set(&self) -> &JwkSet {
        &self.jwks
    }

    /// Signs an ID token like Cognito's; a negative `expires_in_secs` gives
    /// an expired one.
    pub fn mint(&self, identifier: &str, namespaces: &[&str], expires_in_secs: i64) -> String {
        mint(&self.key, identifier, namespaces, expires_in_secs)
    }

    /// Signs any `claims` with this key and its `kid`, the header changed by
    /// `edit`: tokens dev mode would never issue, for tests of the checks.
    #[cfg(test)]
    pub(crate) fn sign(
        &self,
        claims: &serde_json::Value,
        edit: impl FnOnce(&mut Header),
    ) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.into());
        edit(&mut header);
        jsonwebtoken::encode(&header, claims, &self.key).expect("test claims sign")
    }
}

/// The file in the data directory that keeps dev mode's signing key, so a
/// restarted dev server still accepts the token files (and open apps) of
/// the previous run.
pub const KEY_FILE: &str = "dev-signing-key.der";

/// The dev signing key and the key set that publishes it: from `saved`
/// (PKCS#8 DER) when given, else freshly generated. Also returns the DER.
fn signing_key_from(saved: Option<&[u8]>) -> Result<(EncodingKey, JwkSet, Vec<u8>), ServeError> {
    let pair = match saved {
        Some(der) => KeyPair::from_pkcs8(der).map_err(|e| fail("cannot read the saved key", e))?,
        None => {
            KeyPair::generate(KeySize::Rsa2048).map_err(|e| fail("cannot generate a key", e))?
        }
    };
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
        .map_err(|e| fail("cannot encode the key", e))?;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    let key =
        EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| fail("cannot load the key", e))?;
    let public = aws_lc_rs::signature::KeyPair::public_key(&pair);
    let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
    let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
    let jwks: JwkSet = serde_json::from_value(serde_json::json!({
        "keys": [{"kty": "RSA", "kid": KID, "alg": "RS256", "use": "sig", "n": n, "e": e}]
    }))
    .map_err(|e| fail("cannot build the key set", e))?;
    Ok((key, jwks, pkcs8.as_ref().to_vec()))
}

/// A fresh dev signing key and the key set that publishes it.
fn signing_key() -> Result<(EncodingKey, JwkSet), ServeError> {
    signing_key_from(None).map(|(key, jwks, _)| (key, jwks))
}

/// The data directory's saved key, or a new one that is then saved there.
fn persistent_signing_key(data_dir: &Path) -> Result<(EncodingKey, JwkSet), ServeError> {
    let path = data_dir.join(KEY_FILE);
    if let Ok(der) = std::fs::read(&path) {
        if let Ok((key, jwks, _)) = signing_key_from(Some(&der)) {
            return Ok((key, jwks));
        }
        tracing::warn!(file = %path.display(), "the saved dev key is unusable; making a new one");
    }
    let (key, jwks, der) = signing_key_from(None)?;
    write_private_file(&path, &der)?;
    Ok((key, jwks))
}

/// The token rules of dev mode, as flags would give them.
pub fn dev_auth_settings() -> AuthSettings {
    AuthSettings {
        algorithms: vec![Algorithm::RS256],
        issuer: Some(ISSUER.into()),
        audiences: vec![AUDIENCE.into()],
        required_claims: vec![("token_use".into(), "id".into())],
        leeway: 60,
        identifier_key: "email".into(),
        require_verified_email: true,
        namespaces: NamespaceRule::new(GROUPS_CLAIM, None).expect("a fixed, valid rule"),
        admin_namespace: Some(ADMIN_NAMESPACE.into()),
    }
}

/// Signs an ID token like Cognito's with `key`.
fn mint(key: &EncodingKey, identifier: &str, namespaces: &[&str], expires_in_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = serde_json::json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": format!("dev-{}", identifier.split('@').next().unwrap_or(identifier)),
        "email": identifier,
        "email_verified": true,
        "token_use": "id",
        GROUPS_CLAIM: namespaces,
        "iat": now,
        "exp": now + expires_in_secs,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    // Signing with a key we just generated cannot fail short of a bug.
    jsonwebtoken::encode(&header, &claims, key).unwrap_or_default()
}

fn write_token_file(dir: &Path, file: &str, token: &str) -> Result<PathBuf, ServeError> {
    let path = dir.join(file);
    let body = serde_json::json!({ "id_token": token }).to_string();
    write_private_file(&path, body.as_bytes())?;
    Ok(path)
}

/// Writes `bytes` to `path`, readable by its owner only.
fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), ServeError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // Tokens (the admin's grants every namespace) and the signing key:
        // owner-only, like kubelogin's cache.
        opts.mode(0o600);
        // An existing file keeps its mode on open: tighten it too.
        if path.exists() {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
    }
    opts.open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| fail(&format!("cannot write {}", path.display()), e))
}

/// Creates `dir` (and parents) readable by its owner only.
fn private_dir(dir: &Path) -> Result<(), ServeError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| fail(&format!("cannot create {}", dir.display()), e))?;
    // An existing directory keeps its mode: tighten it, which also fails
    // when someone else owns it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
            fail(
                &format!("cannot make {} private (whose is it?)", dir.display()),
                e,
            )
        })?;
    }
    Ok(())
}

/// Where `kiss-server --dev` keeps its files unless told otherwise: a
/// directory of this user's under the system's temporary directory (the
/// port is added below it, so two dev servers do not share files).
pub fn default_dir() -> PathBuf {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    let user: String = user.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if user.is_empty() {
        std::env::temp_dir().join("kiss-dev")
    } else {
        std::env::temp_dir().join(format!("kiss-dev-{user}"))
    }
}

async fn seed(store: &LocalStore) -> Result<(), ServeError> {
    let samples: &[(&str, &str, &str)] = &[
        (
            "team-a",
            "database-url",
            "postgres://app:s3cr3t@db.team-a.svc:5432/app",
        ),
        ("team-a", "api-key", "sk_live_51Hdemo0000000000000000"),
        (
            "team-a",
            "tls-bundle",
            "-----BEGIN CERTIFICATE-----\nMIIBdemo...\n-----END CERTIFICATE-----\n",
        ),
        ("team-b", "stripe-webhook", "whsec_demo_0123456789"),
        ("sandbox", "hello", "world"),
    ];
    for (ns, name, value) in samples {
        let secret = SecretRef::new(*ns, *name);
        store
            .create(&secret, value)
            .await
            .map_err(|e| fail("cannot seed samples", e))?;
    }
    let api_key = SecretRef::new("team-a", "api-key");
    store
        .create_policy(&api_key)
        .await
        .map_err(|e| fail("cannot seed samples", e))?;
    store
        .bind(&api_key, "payments")
        .await
        .map_err(|e| fail("cannot seed samples", e))?;
    Ok(())
}

impl DevServer {
    /// Starts a dev server with the [`SharedFlags`] defaults.
    pub async fn start(opts: DevOptions) -> Result<DevServer, ServeError> {
        Self::start_with(opts, SharedFlags::default()).await
    }

    /// Starts a dev server that honours `flags`.
    pub async fn start_with(opts: DevOptions, flags: SharedFlags) -> Result<DevServer, ServeError> {
        if !opts.addr.ip().is_loopback() {
            return Err(ServeError::Config(format!(
                "dev mode listens on loopback only; {} is not a loopback address",
                opts.addr.ip()
            )));
        }
        private_dir(&opts.token_dir)?;
        private_dir(&opts.data_dir)?;
        let (key, jwks) = persistent_signing_key(&opts.data_dir)?;
        // Samples go into a new store only: a user who deleted them keeps it that way.
        let fresh = !LocalStore::exists(&opts.data_dir);
        let audit =
            match &flags.audit_log {
                None => Arc::new(Audit::to_log()),
                Some(path) => Arc::new(Audit::to_file(path).map_err(|e| {
                    fail(&format!("cannot open the audit log {}", path.display()), e)
                })?),
            };
        let store = LocalStore::open(
            &opts.data_dir,
            Naming::default(),
            flags.deletion_recovery_days,
        )
        .map_err(|source| ServeError::Store {
            backend: "local",
            source,
        })?;
        if opts.seed_samples && fresh {
            seed(&store).await?;
        }
        let user_token_path = write_token_file(
            &opts.token_dir,
            "kiss-dev-1-demo-user",
            &mint(&key, DEMO_USER, DEMO_NAMESPACES, TOKEN_LIFETIME),
        )?;
        let admin_token_path = write_token_file(
            &opts.token_dir,
            "kiss-dev-2-admin",
            &mint(&key, ADMIN_USER, &[ADMIN_NAMESPACE], TOKEN_LIFETIME),
        )?;
        let jwks = Jwks::fixed(&jwks);
        let ready = jwks.ready();
        let parts = Parts {
            store: Arc::new(store),
            auth: AuthMode::Verify(Arc::new(Authenticator::new(dev_auth_settings(), jwks))),
            authorizer: Arc::new(ClaimsAuthorizer),
            audit,
            trusted_proxies: flags.trusted_proxies,
            tls: None,
            shutdown_grace: Duration::from_secs(2),
            limits: flags.limits,
        };
        let listener = server::bind(opts.addr).await?;
        let mut running = server::start(parts, listener, ready).await?;
        if let Some(addr) = flags.metrics_addr {
            running.serve_metrics(addr).await?;
        }
        Ok(DevServer {
            addr: running.addr,
            token_dir: opts.token_dir,
            user_token_path,
            admin_token_path,
            key,
            running,
        })
    }

    /// Signs a token for any identifier and namespaces; a negative
    /// `expires_in_secs` gives an expired token.
    pub fn mint_token(
        &self,
        identifier: &str,
        namespaces: &[&str],
        expires_in_secs: i64,
    ) -> String {
        mint(&self.key, identifier, namespaces, expires_in_secs)
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        let _ = self.running.shutdown().await;
    }

    /// Waits until the server stops (after a signal, via [`DevServer::stop_on_signal`]).
    pub async fn wait(&mut self) -> Result<(), ServeError> {
        self.running.wait().await
    }

    /// Stops the server when SIGTERM or SIGINT arrives.
    pub fn stop_on_signal(&mut self) {
        if let Some(stop) = self.running.take_shutdown() {
            tokio::spawn(async move {
                server::wait_for_signal().await;
                let _ = stop.send(());
            });
        }
    }
}
