//! Turning a token into an [`Identity`]: signature against the JWKS, the
//! registered claims, the configured required claims, then the identifier
//! and namespaces.

pub mod cache;
pub mod claims;
pub mod jwks;

use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

pub use claims::{ClaimError, NamespaceRule, RuleError};
pub use jwks::Jwks;

/// Tokens larger than this are refused before any decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What kiss-server knows about a caller once the token checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The identifier claim (e.g. e-mail), used in messages and audit.
    pub user: String,
    /// The `sub` claim, for audit.
    pub subject: String,
    /// The namespaces the token grants.
    pub namespaces: BTreeSet<String>,
    /// Whether the token grants the admin namespace.
    pub admin: bool,
    /// `exp`, in seconds since the epoch.
    pub expires_at: Option<i64>,
    /// `iss`.
    pub issuer: String,
    /// The token itself and its claims, kept only for authorizers that ask
    /// the cluster about them (`--authorization kubernetes`).
    pub credential: Credential,
}

/// The token a caller presented and its claims. Empty unless the
/// [`Authenticator`] was told to keep them; never printed.
#[derive(Clone, Default)]
pub struct Credential(Option<Arc<Presented>>);

/// What [`Credential`] holds.
pub struct Presented {
    /// The raw token.
    pub token: String,
    /// Its verified claims.
    pub claims: Map<String, Value>,
}

impl Credential {
    /// A credential holding `token` and its `claims`.
    pub fn new(token: String, claims: Map<String, Value>) -> Credential {
        Credential(Some(Arc::new(Presented { token, claims })))
    }

    /// The token and claims, when kept.
    pub fn presented(&self) -> Option<&Presented> {
        self.0.as_deref()
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token: Debug output ends up in logs.
        match self.0 {
            Some(_) => f.write_str("Credential(kept)"),
            None => f.write_str("Credential(none)"),
        }
    }
}

impl PartialEq for Credential {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => a.token == b.token,
            _ => false,
        }
    }
}

impl Eq for Credential {}

impl Identity {
    /// Whether the caller may act on `namespace`.
    pub fn may_access(&self, namespace: &str) -> bool {
        self.admin || self.namespaces.contains(namespace)
    }
}

/// How calls are authenticated.
#[derive(Clone)]
pub enum AuthMode {
    /// Verify each token.
    Verify(Arc<Authenticator>),
    /// Skip verification and treat every caller as this identity. Only for
    /// benchmarks that measure the cost of token checks; never reachable
    /// from the command line.
    Fixed(Arc<Identity>),
}

/// Why a token was refused. Each is answered with UNAUTHENTICATED and this
/// message, which says what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` metadata.
    #[error(
        "no token: send your OIDC ID token in the 'authorization' metadata (e.g. 'Bearer <token>')"
    )]
    Missing,
    /// Over [`MAX_TOKEN_BYTES`].
    #[error("the token is {0} bytes; kiss accepts at most {MAX_TOKEN_BYTES}")]
    TooLarge(usize),
    /// Not three base64url parts with a JSON header.
    #[error(
        "the token is malformed ({0}); send the ID token itself, not the access or refresh token"
    )]
    Malformed(String),
    /// `alg` not in the allow-list (`none`, HS*, ...).
    #[error("the token's algorithm '{alg}' is not accepted; kiss accepts {allowed}")]
    Algorithm {
        /// The token's `alg`.
        alg: String,
        /// The accepted ones.
        allowed: String,
    },
    /// No key with that `kid`, even after a refetch.
    #[error(
        "the token was signed with a key the identity provider does not publish (kid {0}); log in again"
    )]
    UnknownKey(String),
    /// The key named by `kid` is for another algorithm than the token's.
    #[error("the token's algorithm does not match the key it names (kid {0}); log in again")]
    KeyMismatch(String),
    /// The keys are not loaded yet.
    #[error("kiss-server has not loaded the identity provider's keys yet; try again in a moment")]
    NoKeys,
    /// The signature does not verify (or the payload was altered).
    #[error("the token's signature is invalid; log in again to get a fresh token")]
    BadSignature,
    /// `exp` is past.
    #[error("the token has expired; log in again (e.g. run any kubectl command to refresh it)")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet (nbf is in the future); check your clock")]
    NotYetValid,
    /// `iat` is in the future by more than the leeway.
    #[error(
        "the token claims to be issued in the future (iat); check the clocks of this machine and the identity provider, then log in again"
    )]
    IssuedInFuture,
    /// The header lists critical extensions (`crit`); kiss understands
    /// none, so RFC 7515 §4.1.11 requires refusing the token.
    #[error(
        "the token's header marks extensions as critical ({0}) that kiss does not support; send a plain ID token from the identity provider"
    )]
    Critical(String),
    /// The identifier is `email` and the token does not say it is verified.
    #[error(
        "the token's e-mail address is not verified (email_verified is not true), so kiss cannot use it to identify you; verify your e-mail address with the identity provider and log in again"
    )]
    EmailNotVerified,
    /// `iss` is not the configured issuer.
    #[error("the token was issued by another identity provider than the one kiss-server trusts")]
    Issuer,
    /// `aud` is not an accepted audience.
    #[error(
        "the token was issued for another application (audience); use the token of the cluster's OIDC client"
    )]
    Audience,
    /// A registered claim kiss needs is missing.
    #[error("the token has no '{0}' claim")]
    MissingClaim(String),
    /// A claim has the wrong format.
    #[error("the token's '{0}' claim has the wrong format")]
    ClaimFormat(String),
    /// A `--required-claim` is missing or different.
    #[error("the token's '{key}' claim must be '{expected}'")]
    RequiredClaim {
        /// The claim.
        key: String,
        /// Its required value.
        expected: String,
    },
    /// The identifier claim is missing or not a string.
    #[error("the token has no usable '{0}' claim to identify you")]
    Identifier(String),
    /// The namespace claim is missing or of the wrong type.
    #[error("{0}")]
    Namespaces(#[from] ClaimError),
}

impl AuthError {
    /// A short, stable reason for metrics and audit records.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::TooLarge(_) => "too_large",
            AuthError::Malformed(_) => "malformed",
            AuthError::Algorithm { .. } => "algorithm",
            AuthError::UnknownKey(_) => "unknown_key",
            AuthError::KeyMismatch(_) => "key_mismatch",
            AuthError::NoKeys => "no_keys",
            AuthError::BadSignature => "signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::IssuedInFuture => "issued_in_future",
            AuthError::Critical(_) => "critical_header",
            AuthError::EmailNotVerified => "email_not_verified",
            AuthError::Issuer => "issuer",
            AuthError::Audience => "audience",
            AuthError::MissingClaim(_) | AuthError::ClaimFormat(_) => "claims",
            AuthError::RequiredClaim { .. } => "required_claim",
            AuthError::Identifier(_) => "identifier",
            AuthError::Namespaces(_) => "namespaces",
        }
    }
}

/// The token rules, from the server's flags.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Accepted signature algorithms (asymmetric only).
    pub algorithms: Vec<Algorithm>,
    /// Required `iss`, if any.
    pub issuer: Option<String>,
    /// Accepted `aud` values; empty: not checked.
    pub audiences: Vec<String>,
    /// Claims that must have these exact values.
    pub required_claims: Vec<(String, String)>,
    /// Tolerated clock skew, seconds.
    pub leeway: u64,
    /// The identifier claim.
    pub identifier_key: String,
    /// With identifier claim `email`: whether tokens must also carry
    /// `email_verified` true (a user may otherwise set her e-mail to
    /// someone else's). `--allow-unverified-email` turns it off.
    pub require_verified_email: bool,
    /// How namespaces are read.
    pub namespaces: NamespaceRule,
    /// The namespace that grants every namespace.
    pub admin_namespace: Option<String>,
}

/// Parses an algorithm list, refusing symmetric ones and `none`.
pub fn parse_algorithms(names: &[String]) -> Result<Vec<Algorithm>, String> {
    names
        .iter()
        .map(|n| {
            let alg = Algorithm::from_str(n.trim()).map_err(|_| {
                format!("unknown algorithm '{n}'; use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA")
            })?;
            if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                return Err(format!(
                    "'{n}' is a shared-secret algorithm; kiss accepts only asymmetric ones, whose public keys come from the JWKS"
                ));
            }
            Ok(alg)
        })
        .collect()
}

/// The JOSE header fields kiss looks at before verifying: decoded here, as
/// jsonwebtoken's own header parsing does not refuse `crit`.
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
    /// `crit`, when present (whatever its value).
    crit: Option<Value>,
}

/// Verifies tokens against the JWKS and the settings.
pub struct Authenticator {
    settings: AuthSettings,
    validation: Validation,
    jwks: Arc<Jwks>,
    allowed_names: String,
    verified: cache::VerifiedCache,
    keep_credentials: bool,
}

impl Authenticator {
    /// Builds an authenticator.
    pub fn new(settings: AuthSettings, jwks: Arc<Jwks>) -> Authenticator {
        // The algorithm is checked against the allow-list before this is
        // used; jsonwebtoken then requires it to match the key.
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = settings.algorithms.clone();
        validation.leeway = settings.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required: HashSet<String> = HashSet::from(["exp".to_owned()]);
        if let Some(iss) = &settings.issuer {
            validation.set_issuer(&[iss]);
            required.insert("iss".into());
        }
        if settings.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&settings.audiences);
            required.insert("aud".into());
        }
        validation.required_spec_claims = required;
        let allowed_names = settings
            .algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        Authenticator {
            settings,
            validation,
            jwks,
            allowed_names,
            verified: cache::VerifiedCache::default(),
            keep_credentials: false,
        }
    }

    /// Keeps each token and its claims in the [`Identity`] (as its
    /// [`Credential`]), for an authorizer that needs them.
    pub fn keeping_credentials(mut self) -> Authenticator {
        self.keep_credentials = true;
        self
    }

    /// The key cache.
    pub fn jwks(&self) -> &Arc<Jwks> {
        &self.jwks
    }

    /// Verifies the `authorization` value (raw token or `Bearer <token>`).
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Identity, AuthError> {
        let raw = authorization.map(str::trim).unwrap_or_default();
        let token = match raw.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("bearer ") => raw[7..].trim(),
            _ => raw,
        };
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge(token.len()));
        }
        let digest = cache::digest(token);
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let generation = self.jwks.generation();
        if let Some(identity) = self.verified.get(&digest, now, generation) {
            return Ok(identity);
        }
        let identity = self.verify(token).await?;
        if let Some(exp) = identity.expires_at {
            let leeway = i64::try_from(self.settings.leeway).unwrap_or(0);
            self.verified.insert(
                digest,
                identity.clone(),
                exp.saturating_add(leeway),
                generation,
            );
        }
        Ok(identity)
    }

    /// The full check: header, key, signature, registered and required claims.
    async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let header = raw_header(token)?;
        if let Some(crit) = &header.crit {
            return Err(AuthError::Critical(describe_crit(crit)));
        }
        let alg_name: String = header.alg.unwrap_or_default().chars().take(20).collect();
        let alg = Algorithm::from_str(&alg_name)
            .ok()
            .filter(|a| self.settings.algorithms.contains(a))
            .ok_or_else(|| AuthError::Algorithm {
                alg: alg_name.clone(),
                allowed: self.allowed_names.clone(),
            })?;
        let key = match self.jwks.key(header.kid.as_deref(), alg).await {
            Some(k) => k,
            None if !*self.jwks.ready().borrow() => return Err(AuthError::NoKeys),
            None if header.kid.as_deref().is_some_and(|k| self.jwks.knows(k)) => {
                let kid = header.kid.unwrap_or_default().chars().take(64).collect();
                return Err(AuthError::KeyMismatch(kid));
            }
            None => {
                let kid = header
                    .kid
                    .map_or_else(|| "absent".into(), |k| k.chars().take(64).collect());
                return Err(AuthError::UnknownKey(kid));
            }
        };
        // jsonwebtoken wants every listed algorithm to fit the key's family,
        // so validate against the one algorithm already checked above.
        let mut validation = self.validation.clone();
        validation.algorithms = vec![alg];
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| map_jwt_error(e.into_kind()))?;
        let now = jsonwebtoken::get_current_timestamp();
        check_issued_at(&data.claims, now, self.settings.leeway)?;
        let mut identity = self.identity(&data.claims)?;
        if self.keep_credentials {
            identity.credential = Credential::new(token.to_owned(), data.claims);
        }
        Ok(identity)
    }

    fn identity(&self, claims: &Map<String, Value>) -> Result<Identity, AuthError> {
        for (key, expected) in &self.settings.required_claims {
            let matches = match claims.get(key) {
                Some(Value::String(s)) => s == expected,
                Some(Value::Bool(b)) => b.to_string() == *expected,
                Some(Value::Number(n)) => n.to_string() == *expected,
                _ => false,
            };
            if !matches {
                return Err(AuthError::RequiredClaim {
                    key: key.clone(),
                    expected: expected.clone(),
                });
            }
        }
        let id_key = &self.settings.identifier_key;
        let user = claims
            .get(id_key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AuthError::Identifier(id_key.clone()))?
            .to_owned();
        if id_key == "email" && self.settings.require_verified_email {
            // Cognito emits the string "true"; other IdPs a boolean.
            let verified = match claims.get("email_verified") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s == "true",
                _ => false,
            };
            if !verified {
                return Err(AuthError::EmailNotVerified);
            }
        }
        let namespaces = self.settings.namespaces.extract(claims)?;
        let admin = self
            .settings
            .admin_namespace
            .as_ref()
            .is_some_and(|a| namespaces.contains(a));
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Identity {
            user,
            subject: text("sub"),
            namespaces,
            admin,
            expires_at: claims.get("exp").and_then(Value::as_i64),
            issuer: text("iss"),
            credential: Credential::default(),
        })
    }
}

fn raw_header(token: &str) -> Result<RawHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed(
            "a JWT has three dot-separated parts".into(),
        ));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .map_err(|_| AuthError::Malformed("the header is not base64url".into()))?;
    let mut fields: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed("the header is not a JSON object".into()))?;
    let mut text = |name: &str| match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AuthError::Malformed(format!(
            "the header's '{name}' is not a string"
        ))),
    };
    let alg = text("alg")?;
    let kid = text("kid")?;
    Ok(RawHeader {
        alg,
        kid,
        crit: fields.remove("crit"),
    })
}

/// The `crit` names for a message: the first few, short and printable.
fn describe_crit(crit: &Value) -> String {
    let names: Vec<String> = match crit {
        Value::Array(items) => items
            .iter()
            .take(3)
            .map(|v| {
                let name = v.as_str().unwrap_or("?");
                let short: String = name.chars().filter(|c| !c.is_control()).take(32).collect();
                format!("'{short}'")
            })
            .collect(),
        _ => Vec::new(),
    };
    if names.is_empty() {
        "crit".into()
    } else {
        format!("crit: {}", names.join(", "))
    }
}

/// Refuses an `iat` later than `now` plus the leeway; a token without one
/// passes (OIDC requires it, but the registered claims checks decide that).
fn check_issued_at(claims: &Map<String, Value>, now: u64, leeway: u64) -> Result<(), AuthError> {
    let iat = match claims.get("iat") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Number(n)) => n.as_f64(),
        Some(_) => None,
    }
    .ok_or_else(|| AuthError::ClaimFormat("iat".into()))?;
    // f64 holds every timestamp of the next few hundred million years exactly enough.
    if iat > now.saturating_add(leeway) as f64 {
        return Err(AuthError::IssuedInFuture);
    }
    Ok(())
}

fn map_jwt_error(kind: ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::Issuer,
        ErrorKind::InvalidAudience => AuthError::Audience,
        ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c),
        ErrorKind::InvalidClaimFormat(c) => AuthError::ClaimFormat(c),
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::Provider(_) => AuthError::BadSignature,
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            AuthError::Malformed("a part is not valid base64url".into())
        }
        ErrorKind::Json(_) => AuthError::Malformed("the payload is not a JSON object".into()),
        other => AuthError::Malformed(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::{self, DevKey};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    /// Claims dev mode would issue for alice, which tests then bend.
    fn claims() -> Value {
        json!({
            "iss": dev::ISSUER, "aud": dev::AUDIENCE, "sub": "alice-sub",
            "email": "alice@example.com", "email_verified": true, "token_use": "id",
            dev::GROUPS_CLAIM: ["team-a"], "iat": now(), "exp": now() + 600,
        })
    }

    fn bent(f: impl FnOnce(&mut Map<String, Value>)) -> Value {
        let mut c = claims();
        f(c.as_object_mut().unwrap());
        c
    }

    struct Fixture {
        key: DevKey,
        auth: Authenticator,
    }

    fn fixture(edit: impl FnOnce(&mut AuthSettings)) -> Fixture {
        let key = DevKey::generate().unwrap();
        let mut settings = dev::dev_auth_settings();
        edit(&mut settings);
        let auth = Authenticator::new(settings, Jwks::fixed(key.key_set()));
        Fixture { key, auth }
    }

    impl Fixture {
        async fn check(&self, claims: &Value) -> Result<Identity, AuthError> {
            self.check_with(claims, |_| {}).await
        }

        async fn check_with(
            &self,
            claims: &Value,
            header: impl FnOnce(&mut jsonwebtoken::Header),
        ) -> Result<Identity, AuthError> {
            let token = self.key.sign(claims, header);
            self.auth
                .authenticate(Some(&format!("Bearer {token}")))
                .await
        }
    }

    #[tokio::test]
    async fn the_unbent_claims_pass() {
        let f = fixture(|_| {});
        let id = f.check(&claims()).await.unwrap();
        assert_eq!(id.user, "alice@example.com");
        assert_eq!(id.subject, "alice-sub");
    }

    #[tokio::test]
    async fn a_validly_signed_token_with_crit_is_refused() {
        let f = fixture(|_| {});
        for crit in [vec!["exp-ext".to_owned()], vec![], vec!["b64".to_owned()]] {
            let err = f
                .check_with(&claims(), |h| h.crit = Some(crit.clone()))
                .await
                .unwrap_err();
            assert!(matches!(err, AuthError::Critical(_)), "{crit:?}: {err:?}");
            assert!(err.to_string().contains("critical"), "{err}");
        }
        let err = f
            .check_with(&claims(), |h| h.crit = Some(vec!["exp-ext".into()]))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the token's header marks extensions as critical (crit: 'exp-ext') that kiss does not support; send a plain ID token from the identity provider"
        );
        assert_eq!(err.reason(), "critical_header");
    }

    #[test]
    fn odd_headers_are_refused_without_panicking() {
        let seg = |v: Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap());
        let token = |h: Value| format!("{}.e30.sig", seg(h));
        let crit = |v: Value| {
            raw_header(&token(json!({"alg": "RS256", "crit": v}))).map(|h| h.crit.is_some())
        };
        for v in [
            json!(null),
            json!("x"),
            json!([1, 2]),
            json!({}),
            Value::Array(vec![json!("\u{1b}[31m"); 50]),
        ] {
            assert_eq!(crit(v.clone()), Ok(true), "{v}");
            describe_crit(&v);
        }
        assert_eq!(describe_crit(&json!([1])), "crit: '?'");
        assert_eq!(describe_crit(&json!("x")), "crit");
        assert!(describe_crit(&Value::Array(vec![json!("y".repeat(1000)); 10])).len() < 150);
        for bad in [
            "",
            ".",
            "..",
            "!!!.e30.x",
            "bnVsbA.e30.x", // null
            "WzFd.e30.x",   // [1]
        ] {
            assert!(
                matches!(raw_header(bad), Err(AuthError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            raw_header(&token(json!({"alg": 5}))),
            Err(AuthError::Malformed(_))
        ));
        let h = raw_header(&token(json!({"alg": "RS256", "kid": null}))).unwrap();
        assert_eq!(
            (h.alg.as_deref(), h.kid, h.crit),
            (Some("RS256"), None, None)
        );
    }

    #[tokio::test]
    async fn iat_in_the_future_beyond_the_leeway_is_refused() {
        let f = fixture(|s| s.leeway = 60);
        let at = |iat: Value| {
            bent(|m| {
                m.insert("iat".into(), iat);
            })
        };
        assert_eq!(
            f.check(&at(json!(now() + 3600))).await,
            Err(AuthError::IssuedInFuture)
        );
        assert_eq!(
            f.check(&at(json!(now() + 3600)))
                .await
                .unwrap_err()
                .reason(),
            "issued_in_future"
        );
        f.check(&at(json!(now() + 30)))
            .await
            .expect("within the leeway");
        f.check(&at(json!(now() - 30))).await.expect("in the past");
        f.check(&bent(|m| {
            m.remove("iat");
        }))
        .await
        .expect("no iat: not this check's business");
        assert_eq!(
            f.check(&at(json!("soon"))).await,
            Err(AuthError::ClaimFormat("iat".into()))
        );
        assert_eq!(
            f.check(&at(json!(1e300))).await,
            Err(AuthError::IssuedInFuture)
        );
    }

    #[tokio::test]
    async fn a_namespaces_list_with_non_strings_is_unauthenticated() {
        let f = fixture(|_| {});
        let err = f
            .check(&bent(|m| {
                m.insert(dev::GROUPS_CLAIM.into(), json!(["team-a", 7]));
            }))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            AuthError::Namespaces(ClaimError::WrongType(dev::GROUPS_CLAIM.into()))
        );
        assert!(err.to_string().contains("list of strings"), "{err}");
    }

    #[tokio::test]
    async fn an_email_identifier_must_be_verified() {
        let f = fixture(|_| {});
        let verified = |v: Option<Value>| {
            bent(|m| match v {
                Some(v) => {
                    m.insert("email_verified".into(), v);
                }
                None => {
                    m.remove("email_verified");
                }
            })
        };
        for ok in [json!(true), json!("true")] {
            f.check(&verified(Some(ok.clone())))
                .await
                .unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for refused in [
            None,
            Some(json!(false)),
            Some(json!("false")),
            Some(json!("True")),
            Some(json!(1)),
            Some(json!(null)),
            Some(json!(["true"])),
        ] {
            let err = f.check(&verified(refused.clone())).await.unwrap_err();
            assert_eq!(err, AuthError::EmailNotVerified, "{refused:?}");
            assert!(err.to_string().contains("not verified"), "{err}");
        }

        let opted_out = fixture(|s| s.require_verified_email = false);
        opted_out
            .check(&verified(Some(json!(false))))
            .await
            .expect("--allow-unverified-email accepts it");

        // Another identifier claim is not an e-mail: nothing to verify.
        let by_sub = fixture(|s| s.identifier_key = "sub".into());
        let id = by_sub.check(&verified(None)).await.unwrap();
        assert_eq!(id.user, "alice-sub");
    }
}
