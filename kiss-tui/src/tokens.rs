//! Finding and decoding token files: kubelogin's cache
//! (`~/.kube/cache/oidc-login`, JSON with an `id_token`) or a file holding a
//! raw JWT.
//!
//! Payloads are decoded without checking the signature: the server verifies
//! tokens, the client only needs the claims to label and choose them. Nothing
//! here panics on any file, and nothing here logs or prints a token.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::duration::expiry;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD_INDIFFERENT;
use serde_json::Value;

/// How to refresh a kubelogin token, for messages about expired tokens.
pub const REFRESH_HINT: &str = "run `kubectl get ns` (or `kubectl oidc-login get-token ...`) to log in again, which refreshes the token in ~/.kube/cache/oidc-login";

/// Token files larger than this are refused unread: an ID token is a few KiB.
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// kubelogin's cache directory, `~/.kube/cache/oidc-login`; `None` when the
/// home directory is unknown.
pub fn default_token_dir() -> Option<PathBuf> {
    dirs::home_dir().map(|home| home.join(".kube").join("cache").join("oidc-login"))
}

/// One file that may hold a token, and what was found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Whether it holds a usable token, and if not, why.
    pub status: TokenStatus,
}

impl TokenFile {
    /// The decoded token, when the file holds one.
    pub fn info(&self) -> Option<&TokenInfo> {
        match &self.status {
            TokenStatus::Usable(info) => Some(info),
            TokenStatus::Unusable { .. } => None,
        }
    }

    /// The file's name, for lists.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// What a token file holds.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenStatus {
    /// A decodable JWT (possibly expired: see [`TokenInfo::is_expired`]).
    Usable(TokenInfo),
    /// Not a token: a lock file, broken JSON, an unreadable file, ...
    Unusable {
        /// Why, as a phrase such as "not valid JSON: ...".
        reason: String,
    },
}

// Hand-written so that a token never reaches a log through `{:?}`.
impl fmt::Debug for TokenStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenStatus::Usable(info) => f.debug_tuple("Usable").field(info).finish(),
            TokenStatus::Unusable { reason } => {
                f.debug_struct("Unusable").field("reason", reason).finish()
            }
        }
    }
}

/// The claims of a token that a user needs to tell tokens apart.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The raw JWT, sent to the server. Never print it.
    pub token: String,
    /// `email`, else `preferred_username`, else `sub`.
    pub identifier: Option<String>,
    /// The `sub` claim.
    pub subject: Option<String>,
    /// The `iss` claim.
    pub issuer: Option<String>,
    /// `cognito:groups`, else `groups`; a list or a single string.
    pub groups: Vec<String>,
    /// The `exp` claim.
    pub expires_at: Option<SystemTime>,
}

// Hand-written so that the token itself is never printed.
impl fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenInfo")
            .field("token", &format_args!("<{} bytes>", self.token.len()))
            .field("identifier", &self.identifier)
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("groups", &self.groups)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl TokenInfo {
    /// Decodes a JWT's payload (without verifying it) into its claims.
    ///
    /// The error is a phrase saying why the text is not a usable JWT.
    pub fn from_jwt(token: &str) -> Result<TokenInfo, String> {
        let token = token.trim();
        if token.is_empty() {
            return Err("the token is empty".into());
        }
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(format!(
                "not a JWT (expected 3 dot-separated parts, found {})",
                parts.len()
            ));
        }
        if token
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=')))
        {
            return Err("not a JWT (characters outside base64url)".into());
        }
        let payload = URL_SAFE_NO_PAD_INDIFFERENT
            .decode(parts[1])
            .map_err(|e| format!("not a JWT (payload is not base64url: {e})"))?;
        let claims: Value = serde_json::from_slice(&payload)
            .map_err(|e| format!("not a JWT (payload is not JSON: {e})"))?;
        let Value::Object(claims) = claims else {
            return Err("not a JWT (payload is not a JSON object)".into());
        };
        let string = |key: &str| {
            claims
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let subject = string("sub");
        let identifier = string("email")
            .or_else(|| string("preferred_username"))
            .or_else(|| subject.clone());
        let groups = ["cognito:groups", "groups"]
            .iter()
            .find_map(|key| claims.get(*key).map(strings))
            .unwrap_or_default();
        let expires_at = claims.get("exp").and_then(epoch_seconds);
        Ok(TokenInfo {
            token: token.to_owned(),
            identifier,
            subject,
            issuer: string("iss"),
            groups,
            expires_at,
        })
    }

    /// Whether the token has expired at `now`. A token without `exp` never
    /// expires here (the server may still refuse it).
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|exp| exp <= now)
    }

    /// A one-line label: identifier, issuer host and expiry. Holds no token.
    pub fn label(&self, now: SystemTime) -> String {
        let who = self.identifier.as_deref().unwrap_or("(no identifier)");
        match &self.issuer {
            Some(iss) => format!("{who} from {iss}, {}", expiry(self.expires_at, now)),
            None => format!("{who}, {}", expiry(self.expires_at, now)),
        }
    }
}

/// A claim holding a list of strings or one string; anything else is ignored.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A NumericDate claim (seconds since the epoch, possibly fractional).
fn epoch_seconds(value: &Value) -> Option<SystemTime> {
    let secs = value.as_f64()?;
    if !secs.is_finite() {
        return None;
    }
    if secs >= 0.0 {
        SystemTime::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(Duration::try_from_secs_f64(-secs).ok()?)
    }
}

/// Every regular file in `dir` (symlinks followed), sorted by file name,
/// each read and decoded. An unreadable or missing directory gives an empty list.
pub fn scan_dir(dir: &Path) -> Vec<TokenFile> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| fs::metadata(path).is_ok_and(|m| m.is_file()))
        .collect();
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    paths.iter().map(|p| read_token_file(p)).collect()
}

/// The token files the flags point at: the one `--token-path` names, else
/// every file in `--token-dir` (kubelogin's cache by default). Both the app's
/// picker and the verbs start from this, so they see the same files.
pub fn discover(token_path: Option<&Path>, token_dir: Option<&Path>) -> TokenScan {
    if let Some(path) = token_path {
        return TokenScan {
            dir: path.parent().map(Path::to_path_buf),
            explicit: true,
            tokens: vec![read_token_file(path)],
            refresh_hint: REFRESH_HINT.to_owned(),
            problem: None,
        };
    }
    let Some(dir) = token_dir.map(Path::to_path_buf).or_else(default_token_dir) else {
        return TokenScan {
            refresh_hint: REFRESH_HINT.to_owned(),
            problem: Some(TokenDirProblem::NoHome),
            ..Default::default()
        };
    };
    let problem = match fs::metadata(&dir) {
        Ok(m) if m.is_dir() => None,
        Ok(_) => Some(TokenDirProblem::NotADirectory),
        Err(e) => Some(TokenDirProblem::Unreadable(e.to_string())),
    };
    TokenScan {
        tokens: scan_dir(&dir),
        refresh_hint: login_hint(&dir),
        dir: Some(dir),
        explicit: false,
        problem,
    }
}

/// How to get a token into `dir`, said once. kubelogin fills its default
/// cache by itself; another directory only when it is told to use it.
pub fn login_hint(dir: &Path) -> String {
    if default_token_dir().as_deref() == Some(dir) {
        REFRESH_HINT.to_owned()
    } else {
        format!(
            "run `kubectl get ns` (or `kubectl oidc-login get-token ...`) to log in again, with kubelogin's --token-cache-dir set to {}",
            dir.display()
        )
    }
}

/// What [`discover`] found.
#[derive(Debug, Clone, Default)]
pub struct TokenScan {
    /// The directory that was listed (or holds `--token-path`), if any.
    pub dir: Option<PathBuf>,
    /// Whether the file came from an explicit `--token-path`.
    pub explicit: bool,
    /// One entry per file, usable or not, sorted by file name.
    pub tokens: Vec<TokenFile>,
    /// How to get a fresh token into `dir`.
    pub refresh_hint: String,
    /// Why the directory could not be listed, if that happened.
    pub problem: Option<TokenDirProblem>,
}

impl TokenScan {
    /// The first token that has not expired at `now`.
    pub fn first_fresh(&self, now: SystemTime) -> Option<(&TokenFile, &TokenInfo)> {
        self.tokens
            .iter()
            .filter_map(|f| f.info().map(|i| (f, i)))
            .find(|(_, info)| !info.is_expired(now))
    }
}

/// Why the token directory could not be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenDirProblem {
    /// The home directory is unknown, so there is no default directory.
    NoHome,
    /// The path is a file.
    NotADirectory,
    /// Reading it failed; the I/O error.
    Unreadable(String),
}

/// Reads one file: kubelogin's JSON (`{"id_token": "..."}`) or a raw JWT.
pub fn read_token_file(path: &Path) -> TokenFile {
    let status = match read_capped(path) {
        Ok(bytes) => decode_file(path, &bytes),
        Err(reason) => TokenStatus::Unusable { reason },
    };
    TokenFile {
        path: path.to_owned(),
        status,
    }
}

fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    let file = fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "is larger than {} KiB, too large for a token",
            MAX_FILE_BYTES / 1024
        ));
    }
    Ok(bytes)
}

/// What a token file holds, from its path (a `.lock` file is never a token)
/// and its content; [`read_token_file`] without the reading, for the fuzz
/// targets.
#[doc(hidden)]
pub fn decode_file(path: &Path, bytes: &[u8]) -> TokenStatus {
    let unusable = |reason: String| TokenStatus::Unusable { reason };
    let is_lock = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("lock"));
    if is_lock {
        return unusable("a lock file, not a token".into());
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return unusable("not text (not UTF-8)".into());
    };
    let text = text.trim();
    if text.is_empty() {
        return unusable("empty file".into());
    }
    let token = if text.starts_with('{') {
        let json: Value = match serde_json::from_str(text) {
            Ok(json) => json,
            Err(e) => return unusable(format!("not valid JSON: {e}")),
        };
        match json.get("id_token") {
            Some(Value::String(t)) => t.clone(),
            Some(_) => return unusable("its id_token is not a string".into()),
            None => return unusable("JSON without an id_token".into()),
        }
    } else {
        text.to_owned()
    };
    match TokenInfo::from_jwt(&token) {
        Ok(info) => TokenStatus::Usable(info),
        Err(reason) => unusable(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn jwt(claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{payload}.c2lnbmF0dXJl")
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn decodes_claims_with_fallbacks() {
        let info = TokenInfo::from_jwt(&jwt(&serde_json::json!({
            "sub": "abc", "email": "a@b.c", "iss": "https://idp",
            "cognito:groups": ["kaluza:team-a", "other"], "exp": 1000
        })))
        .unwrap();
        assert_eq!(info.identifier.as_deref(), Some("a@b.c"));
        assert_eq!(info.subject.as_deref(), Some("abc"));
        assert_eq!(info.issuer.as_deref(), Some("https://idp"));
        assert_eq!(info.groups, vec!["kaluza:team-a", "other"]);
        assert_eq!(info.expires_at, Some(at(1000)));

        let info = TokenInfo::from_jwt(&jwt(&serde_json::json!({
            "sub": "abc", "preferred_username": "alice", "groups": "one"
        })))
        .unwrap();
        assert_eq!(info.identifier.as_deref(), Some("alice"));
        assert_eq!(info.groups, vec!["one"]);
        assert_eq!(info.expires_at, None);

        let info =
            TokenInfo::from_jwt(&jwt(&serde_json::json!({"sub": "abc", "groups": 7}))).unwrap();
        assert_eq!(info.identifier.as_deref(), Some("abc"));
        assert!(info.groups.is_empty());
    }

    #[test]
    fn refuses_what_is_not_a_jwt() {
        for bad in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "a.!!!.c",
            "a.bm90IGpzb24.c",
            "a.WzFd.c",
            "héllo.wörld.x",
        ] {
            assert!(TokenInfo::from_jwt(bad).is_err(), "{bad:?}");
        }
        let huge_exp = jwt(&serde_json::json!({"exp": 1e300}));
        assert_eq!(TokenInfo::from_jwt(&huge_exp).unwrap().expires_at, None);
        let negative = jwt(&serde_json::json!({"exp": -5}));
        assert!(TokenInfo::from_jwt(&negative).unwrap().is_expired(at(0)));
    }

    #[test]
    fn labels_say_who_and_when_it_expires() {
        let info = |exp: Option<u64>| TokenInfo {
            token: String::new(),
            identifier: Some("ann".into()),
            subject: None,
            issuer: None,
            groups: vec![],
            expires_at: exp.map(at),
        };
        let now = at(100_000);
        assert_eq!(
            info(Some(100_000 + 42 * 60)).label(now),
            "ann, expires in 42m 00s"
        );
        assert!(info(Some(100_000)).is_expired(now));
        assert!(!info(Some(100_001)).is_expired(now));
        assert!(!info(None).is_expired(now));
    }

    #[test]
    fn scans_a_directory_of_good_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let good = jwt(&serde_json::json!({"email": "a@b.c", "exp": 4_000_000_000u64}));
        let write = |name: &str, body: &[u8]| fs::write(dir.path().join(name), body).unwrap();
        write(
            "b-kubelogin",
            format!(r#"{{"id_token":"{good}","refresh_token":"r"}}"#).as_bytes(),
        );
        write("a-raw", format!("{good}\n").as_bytes());
        write("c.lock", b"");
        write("d-broken", b"{\"id_token\": ");
        write("e-empty", b"");
        write("f-binary", &[0xff, 0xfe, 0x00]);
        write("g-no-id-token", b"{\"access_token\": \"x\"}");
        write("h-number", b"{\"id_token\": 5}");
        write("i-text", b"hello world");
        write("j-huge", &vec![b'a'; (MAX_FILE_BYTES + 1) as usize]);
        fs::create_dir(dir.path().join("k-subdir")).unwrap();

        let files = scan_dir(dir.path());
        let names: Vec<String> = files.iter().map(TokenFile::file_name).collect();
        assert_eq!(
            names,
            [
                "a-raw",
                "b-kubelogin",
                "c.lock",
                "d-broken",
                "e-empty",
                "f-binary",
                "g-no-id-token",
                "h-number",
                "i-text",
                "j-huge"
            ]
        );
        assert_eq!(files[0].info().unwrap().token, good);
        assert_eq!(files[1].info().unwrap().token, good);
        for f in &files[2..] {
            let TokenStatus::Unusable { reason } = &f.status else {
                panic!("{} should be unusable", f.file_name());
            };
            assert!(!reason.is_empty());
        }
        let scan = discover(None, Some(dir.path()));
        let (first, _) = scan.first_fresh(SystemTime::now()).unwrap();
        assert_eq!(first.file_name(), "a-raw");
        assert_eq!(scan.problem, None);
        let explicit = discover(Some(&dir.path().join("b-kubelogin")), None);
        assert!(explicit.explicit);
        assert_eq!(explicit.tokens.len(), 1);
        let missing = discover(None, Some(&dir.path().join("missing")));
        assert!(matches!(
            missing.problem,
            Some(TokenDirProblem::Unreadable(_))
        ));
        assert!(scan_dir(&dir.path().join("missing")).is_empty());
        let missing = read_token_file(&dir.path().join("missing"));
        assert!(matches!(missing.status, TokenStatus::Unusable { .. }));
    }

    #[test]
    fn debug_output_never_holds_the_token() {
        let token = jwt(&serde_json::json!({"email": "a@b.c"}));
        let info = TokenInfo::from_jwt(&token).unwrap();
        let shown = format!("{:?}", TokenStatus::Usable(info));
        assert!(!shown.contains(&token));
        assert!(shown.contains("a@b.c"));
    }
}
