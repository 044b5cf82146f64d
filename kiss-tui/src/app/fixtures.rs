//! Sample data and a driver that walks the app through its flows without a
//! server: for the snapshot tests, the screenshots and the benchmarks.
//! Not part of the app itself.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{
    Action, Call, CallError, Details, Effect, ErrorKind, Identity, Reply, RequestId, SecretRow,
    Sensitive, TokenScan, VersionRow,
};
use super::{App, AppConfig};
use crate::tokens::{TokenFile, TokenInfo, TokenStatus};

/// The fixed "now" of every fixture: 2026-03-02 09:30 UTC.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_772_443_800)
}

fn at(offset_secs: i64) -> SystemTime {
    if offset_secs >= 0 {
        now() + Duration::from_secs(offset_secs as u64)
    } else {
        now() - Duration::from_secs(offset_secs.unsigned_abs())
    }
}

/// A usable token file.
pub fn token(identifier: &str, groups: &[&str], expires_in_secs: i64) -> TokenFile {
    let file = identifier.replace(['@', '.'], "-");
    TokenFile {
        path: PathBuf::from(format!("/home/ann/.kube/cache/oidc-login/{file}-token")),
        status: TokenStatus::Usable(TokenInfo {
            token: format!("token-of-{identifier}"),
            identifier: Some(identifier.into()),
            subject: None,
            issuer: Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Demo".into()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            expires_at: Some(at(expires_in_secs)),
        }),
    }
}

/// A file that is not a token.
pub fn unusable(file: &str, reason: &str) -> TokenFile {
    TokenFile {
        path: PathBuf::from(format!("/home/ann/.kube/cache/oidc-login/{file}")),
        status: TokenStatus::Unusable {
            reason: reason.into(),
        },
    }
}

/// The usual picker: one good token, one expired, one broken file.
pub fn usual_tokens() -> Vec<TokenFile> {
    vec![
        token("ann@example.com", &["team-a", "team-b", "sandbox"], 42 * 60),
        token("ann.old@example.com", &["team-a"], -3 * 3600),
        unusable("oidc-login.lock", "not a token: empty file (a lock file?)"),
    ]
}

/// A finished scan of the usual token directory.
pub fn scan(tokens: Vec<TokenFile>) -> Action {
    Action::TokensScanned(TokenScan {
        dir: Some("/home/ann/.kube/cache/oidc-login".into()),
        explicit: false,
        tokens,
        refresh_hint: "run `kubectl get ns` to log in again".into(),
        problem: None,
    })
}

/// WhoAmI's answer.
pub fn identity(namespaces: &[&str], admin: bool) -> Identity {
    Identity {
        identifier: if admin {
            "admin@example.com".into()
        } else {
            "ann@example.com".into()
        },
        namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
        admin,
        expires_at: Some(at(42 * 60)),
        issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Demo".into(),
        recovery_days: Some(7),
    }
}

/// A handful of realistic secrets.
pub fn sample_rows() -> Vec<SecretRow> {
    [
        ("database-url", 3 * 3600, 40 * 86_400),
        ("api-key", 2 * 86_400, 90 * 86_400),
        ("stripe-webhook", 15 * 60, 12 * 86_400),
        ("tls-bundle", 30 * 86_400, 200 * 86_400),
        ("redis-password", 5 * 86_400, 60 * 86_400),
        ("sentry-dsn", 7 * 3600, 7 * 3600),
    ]
    .iter()
    .map(|(name, changed, created)| SecretRow {
        name: (*name).into(),
        created: Some(at(-(*created as i64))),
        last_changed: Some(at(-(*changed as i64))),
    })
    .collect()
}

/// `n` secrets named like a busy namespace's.
pub fn many_rows(n: usize) -> Vec<SecretRow> {
    const KINDS: [&str; 8] = [
        "db", "api-key", "token", "webhook", "tls", "password", "dsn", "config",
    ];
    (0..n)
        .map(|i| SecretRow {
            name: format!("svc-{:05}-{}", i, KINDS[i % KINDS.len()]),
            created: Some(at(-((i as i64 % 400) * 86_400 + 3600))),
            last_changed: Some(at(-((i as i64 % 97) * 3600 + 60))),
        })
        .collect()
}

/// Details of a secret in `namespace`.
pub fn details(namespace: &str, name: &str, policy: bool, bound: &[&str]) -> Details {
    let aws = format!("k8s-secret-{namespace}-{name}");
    Details {
        name: name.into(),
        arn: format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{aws}-AbCdEf"),
        aws_name: aws,
        created: Some(at(-40 * 86_400)),
        last_changed: Some(at(-3 * 3600)),
        last_accessed: Some(at(-86_400)),
        version_id: "7f9c2ba4-e88f-4a1e-9d1b-2f6e1c3a5b70".into(),
        has_read_policy: policy,
        bound_service_accounts: bound.iter().map(|s| s.to_string()).collect(),
        value: None,
    }
}

/// Three versions of a secret, newest (current) first: the version ids are
/// `v3…`, `v2…`, `v1…` (UUID-shaped), written by three people (the oldest by
/// nobody kiss knows).
pub fn versions() -> Vec<VersionRow> {
    let row = |n: u8, age: i64, author: &str, labels: &[&str]| VersionRow {
        version_id: format!("{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-00000000000{n}"),
        created: Some(at(age)),
        author: author.into(),
        labels: labels.iter().map(|l| l.to_string()).collect(),
    };
    vec![
        row(3, -600, "ann@example.com", &["AWSCURRENT"]),
        row(2, -2 * 86_400, "bob@example.com", &["AWSPREVIOUS"]),
        row(1, -30 * 86_400, "", &[]),
    ]
}

/// The value of each of [`versions`], by version id.
pub fn version_value(version_id: &str) -> &'static str {
    match version_id.chars().next() {
        Some('3') => "host=db\nport=6432\nuser=app\n",
        Some('2') => "host=db\nport=5432\nuser=app\n",
        _ => "host=db\nport=5432\n",
    }
}

/// Walks an [`App`] through its flows, answering its calls as a server would.
pub struct Driver {
    /// The app.
    pub app: App,
    /// Calls asked for and not answered yet, oldest first.
    pub calls: Vec<(RequestId, Call)>,
    /// Other effects, most recent last.
    pub effects: Vec<Effect>,
}

impl Driver {
    /// A fresh app at this terminal size.
    pub fn new(size: (u16, u16), namespace: Option<&str>) -> Driver {
        let (app, effects) = App::new(AppConfig {
            server: "kiss.example.com:443".into(),
            namespace: namespace.map(str::to_owned),
            now: now(),
            size,
            confirm_save: true,
            reveal_for: Some(Duration::from_secs(60)),
            clear_clipboard_after: Some(Duration::from_secs(30)),
            refresh: None,
            recent_namespaces: Vec::new(),
            context: None,
            contexts: Vec::new(),
        });
        let mut d = Driver {
            app,
            calls: Vec::new(),
            effects: Vec::new(),
        };
        d.take(effects);
        d
    }

    fn take(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Call { id, call } => self.calls.push((id, call)),
                other => self.effects.push(other),
            }
        }
    }

    /// Applies an action.
    pub fn act(&mut self, a: Action) -> &mut Self {
        let effects = self.app.update(a);
        self.take(effects);
        self
    }

    /// Presses a key.
    /// Makes the server say it keeps deleted secrets for `days`.
    pub fn recovery_days(&mut self, days: Option<u32>) -> &mut Self {
        if let Some(identity) = self
            .app
            .state
            .session
            .as_mut()
            .and_then(|s| s.identity.as_mut())
        {
            identity.recovery_days = days;
        }
        self
    }

    pub fn key(&mut self, code: KeyCode) -> &mut Self {
        self.act(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// Presses Ctrl and a letter.
    pub fn ctrl(&mut self, c: char) -> &mut Self {
        self.act(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )))
    }

    /// Types text; `\n` presses Enter.
    pub fn type_str(&mut self, s: &str) -> &mut Self {
        for c in s.chars() {
            if c == '\n' {
                self.key(KeyCode::Enter);
            } else {
                self.key(KeyCode::Char(c));
            }
        }
        self
    }

    /// Answers the oldest call that `pick` accepts.
    pub fn answer(
        &mut self,
        pick: impl Fn(&Call) -> bool,
        result: Result<Reply, CallError>,
    ) -> &mut Self {
        let Some(pos) = self.calls.iter().position(|(_, c)| pick(c)) else {
            panic!("no such call among {:?}", self.calls);
        };
        let (id, _) = self.calls.remove(pos);
        self.act(Action::Reply { id, result })
    }

    /// Answers a call with success.
    pub fn ok(&mut self, pick: impl Fn(&Call) -> bool, reply: Reply) -> &mut Self {
        self.answer(pick, Ok(reply))
    }

    /// Answers every GetVersion asked for with [`version_value`].
    pub fn answer_versions(&mut self) -> &mut Self {
        while let Some(pos) = self
            .calls
            .iter()
            .position(|(_, c)| matches!(c, Call::GetVersion { .. }))
        {
            let (id, call) = self.calls.remove(pos);
            if let Call::GetVersion {
                name, version_id, ..
            } = call
            {
                let mut d = details("team-a", &name, false, &[]);
                d.value = Some(Sensitive(version_value(&version_id).into()));
                d.version_id = version_id;
                self.act(Action::Reply {
                    id,
                    result: Ok(Reply::Details(Box::new(d))),
                });
            }
        }
        self
    }

    /// Answers a call with a failure.
    pub fn fail(&mut self, pick: impl Fn(&Call) -> bool, kind: ErrorKind, msg: &str) -> &mut Self {
        self.answer(pick, Err(CallError::new(kind, msg)))
    }

    /// Lets the oldest connect asked for succeed.
    pub fn connected(&mut self) -> &mut Self {
        let Some(pos) = self
            .effects
            .iter()
            .position(|e| matches!(e, Effect::Connect { .. }))
        else {
            panic!("no connect among {:?}", self.effects);
        };
        let Effect::Connect { id, .. } = self.effects.remove(pos) else {
            unreachable!("the position found a connect");
        };
        self.act(Action::Reply {
            id,
            result: Ok(Reply::Connected),
        })
    }

    /// Scans the usual tokens and picks the first.
    pub fn pick_token(&mut self, identity: Identity) -> &mut Self {
        self.act(scan(usual_tokens()))
            .connected()
            .ok(|c| matches!(c, Call::WhoAmI), Reply::WhoAmI(identity))
    }

    /// Logs in as a user of team-a, team-b and sandbox and opens team-a with
    /// these secrets, the first one's details loaded.
    pub fn in_namespace(size: (u16, u16), rows: Vec<SecretRow>) -> Driver {
        let mut d = Driver::new(size, Some("team-a"));
        d.pick_token(identity(&["sandbox", "team-a", "team-b"], false));
        d.ok(
            |c| matches!(c, Call::ListSecrets { .. }),
            Reply::Secrets(rows),
        );
        if let Some(name) = d.app.state.secrets.selected_name().map(str::to_owned) {
            d.ok(
                |c| matches!(c, Call::GetSecret { .. }),
                Reply::Details(Box::new(details("team-a", &name, true, &["payments"]))),
            );
        }
        d
    }
}
