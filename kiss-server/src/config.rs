//! Command-line flags of `kiss-server`, each also settable as `KISS_*`.
//!
//! The Go server's flags keep working in their Go form (`-jwks-url=URL`,
//! `-port 10000`): [`normalize_go_flags`] rewrites single-dash long flags to
//! the double-dash form before clap sees them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::store::Naming;

/// Which storage backend serves the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// AWS Secrets Manager and IAM (needs AWS credentials).
    Aws,
    /// A file under --data-dir; for development, demos and tests.
    Local,
}

/// Who decides which calls a caller may make (`--authorization`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Authorization {
    /// The namespaces the token's claims grant (--namespaces-key,
    /// --namespaces-regex, --admin-namespace).
    Claims,
    /// The cluster's RBAC: TokenReview + SubjectAccessReview on the virtual
    /// resource secrets.<--kube-api-group>.
    Kubernetes,
    /// The Go kiss 0.1 rule: the RoleBinding <--rolebinding-prefix><namespace>
    /// must name one of the token's namespaces.
    Rolebinding,
}

impl Authorization {
    /// The mode's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Authorization::Claims => "claims",
            Authorization::Kubernetes => "kubernetes",
            Authorization::Rolebinding => "rolebinding",
        }
    }
}

/// Where `--authorization kubernetes` learns who the caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KubeIdentitySource {
    /// A TokenReview of the caller's token: the API server's own OIDC settings apply.
    TokenReview,
    /// The token's claims, mapped with the --kube-username-* and --kube-groups-* flags.
    Claims,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// kiss-server: manage namespaced AWS Secrets Manager secrets with OIDC tokens.
///
/// Every flag can also be given as an environment variable (shown in
/// brackets) and, for flags the Go server had, in its Go form (-port 10000).
#[derive(Debug, Clone, Parser)]
#[command(name = "kiss-server", version, about, long_about = None)]
pub struct Config {
    /// URL of the identity provider's JWKS (its public signing keys).
    /// Required unless --dev.
    #[arg(long, env = "KISS_JWKS_URL", required_unless_present = "dev")]
    pub jwks_url: Option<String>,

    /// Token claim that holds the caller's namespaces (a list of strings or one string).
    #[arg(long, env = "KISS_NAMESPACES_KEY", default_value = "cognito:groups")]
    pub namespaces_key: String,

    /// Regex with exactly one capture group that extracts a namespace from each
    /// claim value, anchored to the whole value (e.g. 'kaluza:([0-9a-z-]{1,63})').
    /// Values that don't match are skipped. Default: values are used as they are.
    #[arg(long, env = "KISS_NAMESPACES_REGEX")]
    pub namespaces_regex: Option<String>,

    /// Token claim that identifies the caller in messages and audit records.
    #[arg(long, env = "KISS_IDENTIFIER_KEY", default_value = "email")]
    pub identifier_key: String,

    /// Accept tokens whose `email_verified` is not true while --identifier-key
    /// is `email`. By default they are refused: where users may edit their
    /// own e-mail (Cognito's UpdateUserAttributes), an unverified address
    /// could name someone else in messages and audit records.
    #[arg(long, env = "KISS_ALLOW_UNVERIFIED_EMAIL")]
    pub allow_unverified_email: bool,

    /// A namespace whose holders may act on every namespace.
    #[arg(long, env = "KISS_ADMIN_NAMESPACE")]
    pub admin_namespace: Option<String>,

    /// Required `iss` of tokens (e.g. https://cognito-idp.<region>.amazonaws.com/<pool-id>).
    #[arg(long, env = "KISS_ISSUER")]
    pub issuer: Option<String>,

    /// Accepted `aud` of tokens (the Cognito app client id); repeatable.
    /// Default: the audience is not checked.
    #[arg(long = "audience", env = "KISS_AUDIENCE", value_delimiter = ',')]
    pub audiences: Vec<String>,

    /// A claim every token must carry with this exact value, as KEY=VALUE;
    /// repeatable (Cognito ID tokens: token_use=id).
    #[arg(long = "required-claim", env = "KISS_REQUIRED_CLAIMS", value_delimiter = ',', value_parser = parse_key_value)]
    pub required_claims: Vec<(String, String)>,

    /// Signature algorithms accepted, comma-separated; asymmetric only.
    #[arg(
        long,
        env = "KISS_ALGORITHMS",
        value_delimiter = ',',
        default_value = "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,EdDSA"
    )]
    pub algorithms: Vec<String>,

    /// Clock skew tolerated on exp and nbf, in seconds.
    #[arg(long, env = "KISS_LEEWAY", default_value_t = 60)]
    pub leeway: u64,

    /// Address to listen on.
    #[arg(long, env = "KISS_HOST", default_value = "0.0.0.0")]
    pub host: IpAddr,

    /// Port to listen on.
    #[arg(long, env = "KISS_PORT", default_value_t = 10000)]
    pub port: u16,

    /// PEM certificate chain for TLS; with --tls-key. Default: plaintext
    /// (e.g. behind a TLS-terminating load balancer or service mesh).
    #[arg(long, env = "KISS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for TLS; with --tls-cert.
    #[arg(long, env = "KISS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Storage backend.
    #[arg(long, env = "KISS_BACKEND", value_enum, default_value_t = default_backend())]
    pub backend: Backend,

    /// Directory of the local backend's store (a snapshot and a journal of
    /// the changes since; back up both).
    #[arg(long, env = "KISS_DATA_DIR", default_value = "./kiss-data")]
    pub data_dir: PathBuf,

    /// Days a deleted secret can still be restored; 0 deletes at once (the Go behaviour).
    /// AWS accepts 7 to 30.
    #[arg(long, env = "KISS_DELETION_RECOVERY_DAYS", default_value_t = 7, value_parser = parse_recovery_days)]
    pub deletion_recovery_days: u32,

    /// Prefix of AWS secret and policy names; empty for none.
    #[arg(long, env = "KISS_SECRET_PREFIX", default_value = "k8s-secret")]
    pub secret_prefix: String,

    /// Prefix of the IAM role names of ServiceAccounts; empty for none.
    #[arg(
        long,
        env = "KISS_SERVICE_ACCOUNT_ROLE_PREFIX",
        default_value = "k8s-sa"
    )]
    pub service_account_role_prefix: String,

    /// Separator between prefix, namespace and name in AWS secret names: '-'
    /// (what the Go kiss created; ambiguous: team + x-db = team-x + db) or '_'
    /// (unambiguous; recommended for new installations).
    #[arg(long, env = "KISS_SECRET_NAME_SEPARATOR", default_value = "-", value_parser = parse_separator)]
    pub secret_name_separator: char,

    /// AWS region.
    #[arg(long, env = "KISS_REGION", default_value = "eu-west-1")]
    pub region: String,

    /// Web identity token file for AWS; empty: the SDK's default credential
    /// chain (which also picks up IRSA's environment variables).
    #[arg(long, env = "KISS_TOKEN_PATH", default_value = "")]
    pub token_path: String,

    /// IAM role to assume with --token-path.
    #[arg(long, env = "KISS_ROLE_ARN", default_value = "")]
    pub role_arn: String,

    /// Make every AWS call as this IAM role, assumed for each caller with
    /// STS SourceIdentity (and the session name) set to the caller's
    /// identifier, so CloudTrail names the person behind each call rather
    /// than the server. Credentials are kept per caller until 5 minutes
    /// before they expire: one AssumeRole per caller per session. The role
    /// needs the permissions the server's role would need, and its trust
    /// policy must allow the server's own role sts:AssumeRole and
    /// sts:SetSourceIdentity (docs/aws.md); the server assumes it once at
    /// start to check. Default: off, calls are made as the server's role.
    #[arg(long, env = "KISS_SOURCE_IDENTITY_ROLE_ARN", value_name = "ARN", value_parser = parse_role_arn)]
    pub source_identity_role_arn: Option<String>,

    /// With --source-identity-role-arn: seconds each caller's credentials
    /// last (900 to 43200, within the role's maximum session duration; at
    /// most 3600 when the server itself runs as an assumed role, as with
    /// IRSA, since AWS limits chained roles to an hour).
    #[arg(
        long,
        env = "KISS_SOURCE_IDENTITY_SESSION_SECONDS",
        value_name = "SECONDS",
        default_value_t = 3600,
        value_parser = parse_session_seconds
    )]
    pub source_identity_session_seconds: u32,

    /// Write audit records to this file (JSON lines) instead of the log.
    /// A request whose audit record cannot be written fails.
    #[arg(long, env = "KISS_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,

    /// Proxy addresses whose X-Forwarded-For header is trusted for the
    /// client address in audit records; comma-separated or repeated.
    #[arg(
        long = "trusted-proxy",
        env = "KISS_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpAddr>,

    /// Log format. The KISS_LOG environment variable sets the level filter
    /// (default info; e.g. KISS_LOG=debug).
    #[arg(long, env = "KISS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Export a trace span per call over OTLP/gRPC to this collector
    /// (e.g. http://otel-collector.monitoring:4317). Default: no export.
    #[arg(long, env = "KISS_OTLP_ENDPOINT", value_name = "URL", value_parser = crate::telemetry::parse_endpoint)]
    pub otlp_endpoint: Option<String>,

    /// The service.name the exported spans carry.
    #[arg(
        long,
        env = "KISS_OTLP_SERVICE_NAME",
        value_name = "NAME",
        default_value = "kiss-server"
    )]
    pub otlp_service_name: String,

    /// Serve Prometheus metrics on this address (e.g. 0.0.0.0:9090), at /metrics.
    /// Default: no metrics endpoint.
    #[arg(long, env = "KISS_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Sustained requests per second allowed per identity (token bucket);
    /// protects the account-wide Secrets Manager quotas. 0 disables the limit.
    #[arg(long, env = "KISS_RATE_LIMIT_RPS", default_value_t = 10.0, value_parser = parse_rate)]
    pub rate_limit_rps: f64,

    /// Requests one identity may make in a burst above the sustained rate.
    #[arg(long, env = "KISS_RATE_LIMIT_BURST", default_value_t = 50)]
    pub rate_limit_burst: u32,

    /// Requests handled at once; more are refused with RESOURCE_EXHAUSTED
    /// rather than queued.
    #[arg(long, env = "KISS_MAX_CONCURRENT_REQUESTS", default_value_t = 512)]
    pub max_concurrent_requests: usize,

    /// Calls one identity may have in progress at once; more are refused
    /// with RESOURCE_EXHAUSTED, so that one token cannot hold every slot.
    #[arg(long, env = "KISS_MAX_REQUESTS_PER_IDENTITY", default_value_t = 32)]
    pub max_requests_per_identity: usize,

    /// Connections open at once; more are closed as soon as accepted.
    #[arg(long, env = "KISS_MAX_CONNECTIONS", default_value_t = crate::listener::MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Connections one client address may have open at once (IPv6: one
    /// /64); more are closed as soon as accepted. --trusted-proxy addresses
    /// are exempt. 0: no per-address cap.
    #[arg(
        long,
        env = "KISS_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = crate::listener::MAX_CONNECTIONS_PER_ADDRESS
    )]
    pub max_connections_per_address: usize,

    /// Seconds a connection may stay open with no call in progress before
    /// the server closes it (clients reconnect when they next call). 0: never.
    #[arg(long, env = "KISS_IDLE_TIMEOUT", default_value_t = crate::listener::IDLE_TIMEOUT.as_secs())]
    pub idle_timeout: u64,

    /// Seconds in-flight calls get to finish after SIGTERM/SIGINT.
    #[arg(long, env = "KISS_SHUTDOWN_GRACE", default_value_t = 20)]
    pub shutdown_grace: u64,

    /// Development mode: local backend, a self-issued signing key and token
    /// files for a demo user and an admin; loopback only; no AWS, no IdP.
    #[arg(long, env = "KISS_DEV")]
    pub dev: bool,

    /// With --dev: where to write the token files. Default:
    /// <tmp>/kiss-dev-<user>/<port>/tokens, with the store (and the dev
    /// signing key, so restarts keep the tokens valid) in .../data unless
    /// --data-dir is given.
    #[arg(long, env = "KISS_DEV_TOKEN_DIR")]
    pub dev_token_dir: Option<PathBuf>,

    /// Who decides what a caller may do: 'claims' (the token's namespaces),
    /// 'kubernetes' (the cluster's RBAC, see docs/authorization.md) or
    /// 'rolebinding' (the Go kiss 0.1 rule). Default: claims, or rolebinding
    /// when --rolebinding-prefix is given.
    #[arg(long, env = "KISS_AUTHORIZATION", value_enum)]
    pub authorization: Option<Authorization>,

    /// With --authorization rolebinding: the RoleBinding looked for in
    /// namespace N is named <prefix>N, and the prefix is stripped from its
    /// subjects' names. Given alone, it selects rolebinding mode (as the Go
    /// server's -rolebinding-prefix did).
    #[arg(long, env = "KISS_ROLEBINDING_PREFIX", value_name = "PREFIX")]
    pub rolebinding_prefix: Option<String>,

    /// Kubeconfig file for the kubernetes and rolebinding modes (Go:
    /// -kubeconfig-path). Default: KUBECONFIG if set, else the pod's
    /// service account.
    #[arg(
        long,
        alias = "kubeconfig-path",
        env = "KISS_KUBECONFIG",
        value_name = "PATH"
    )]
    pub kubeconfig: Option<PathBuf>,

    /// With --authorization kubernetes: where the caller's Kubernetes user
    /// comes from: 'token-review' (the API server reviews the token) or
    /// 'claims' (mapped here with --kube-username-claim and friends, for
    /// clusters that should not see user tokens).
    #[arg(long, env = "KISS_KUBE_IDENTITY", value_enum, default_value_t = KubeIdentitySource::TokenReview)]
    pub kube_identity: KubeIdentitySource,

    /// With --kube-identity claims: the claim that holds the username (the
    /// API server's --oidc-username-claim).
    #[arg(long, env = "KISS_KUBE_USERNAME_CLAIM", default_value = "sub")]
    pub kube_username_claim: String,

    /// With --kube-identity claims: prepended to the username (the API
    /// server's --oidc-username-prefix).
    #[arg(long, env = "KISS_KUBE_USERNAME_PREFIX", default_value = "")]
    pub kube_username_prefix: String,

    /// With --kube-identity claims: the claim that holds the groups (the API
    /// server's --oidc-groups-claim). Default: --namespaces-key.
    #[arg(long, env = "KISS_KUBE_GROUPS_CLAIM")]
    pub kube_groups_claim: Option<String>,

    /// With --kube-identity claims: prepended to each group (the API
    /// server's --oidc-groups-prefix).
    #[arg(long, env = "KISS_KUBE_GROUPS_PREFIX", default_value = "")]
    pub kube_groups_prefix: String,

    /// With --authorization kubernetes: the API group of the virtual
    /// resource 'secrets' that RBAC rules name.
    #[arg(long, env = "KISS_KUBE_API_GROUP", default_value = "kiss.kaluza.com")]
    pub kube_api_group: String,

    /// Seconds an allowing SubjectAccessReview is remembered.
    #[arg(long, env = "KISS_KUBE_ALLOWED_TTL", default_value_t = 30)]
    pub kube_allowed_ttl: u64,

    /// Seconds a denying SubjectAccessReview is remembered (shorter, so a
    /// new RoleBinding takes effect soon).
    #[arg(long, env = "KISS_KUBE_DENIED_TTL", default_value_t = 5)]
    pub kube_denied_ttl: u64,

    /// Seconds each Kubernetes API call may take before the call it serves
    /// is answered UNAVAILABLE.
    #[arg(long, env = "KISS_KUBE_TIMEOUT", default_value_t = 5)]
    pub kube_timeout: u64,

    /// Accepted for the Go server's manifests (-enable-tracing). Datadog
    /// tracing is not built in: spans go out over OTLP with --otlp-endpoint,
    /// which the Datadog Agent accepts.
    #[arg(
        long,
        env = "KISS_ENABLE_TRACING",
        num_args = 0..=1,
        default_missing_value = "true",
        value_name = "BOOL",
        value_parser = parse_go_bool
    )]
    pub enable_tracing: Option<bool>,

    /// Validate every flag (and the regex, and the mode's Kubernetes
    /// configuration) and exit without serving.
    #[arg(long)]
    pub check_config: bool,
}

fn default_backend() -> Backend {
    if cfg!(feature = "aws") {
        Backend::Aws
    } else {
        Backend::Local
    }
}

/// A Go `flag` boolean: 1, t, T, TRUE, true, True and their false forms.
fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("expected true or false, got '{s}'")),
    }
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE (e.g. token_use=id), got '{s}'")),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r == 0.0 || (0.001..=1_000_000.0).contains(&r) => Ok(r),
        _ => Err(format!(
            "expected requests per second between 0.001 and 1000000, or 0 to disable; got '{s}'"
        )),
    }
}

fn parse_separator(s: &str) -> Result<char, String> {
    match s {
        "-" => Ok('-'),
        "_" => Ok('_'),
        _ => Err(format!("the separator must be '-' or '_', got '{s}'")),
    }
}

fn parse_role_arn(s: &str) -> Result<String, String> {
    // arn:<partition>:iam::<account>:role/<path/><name>
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if !partition.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource
                    .strip_prefix("role/")
                    .is_some_and(|r| !r.is_empty()) =>
        {
            Ok(s.to_owned())
        }
        _ => Err(format!(
            "expected an IAM role ARN (arn:aws:iam::123456789012:role/kiss-callers), got '{s}'"
        )),
    }
}

fn parse_session_seconds(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if (900..=43200).contains(&n) => Ok(n),
        _ => Err(format!(
            "AWS STS sessions last 900 to 43200 seconds (at most 3600 for a role assumed by another role, as with IRSA); got '{s}'"
        )),
    }
}

fn parse_recovery_days(s: &str) -> Result<u32, String> {
    let days: u32 = s
        .parse()
        .map_err(|_| format!("expected a number of days, got '{s}'"))?;
    if days != 0 && !(7..=30).contains(&days) {
        return Err(format!(
            "AWS keeps deleted secrets for 7 to 30 days; use one of those, or 0 to delete at once (got {days})"
        ));
    }
    Ok(days)
}

/// Flags the Go server had; also accepted with a single dash.
const GO_FLAGS: &[&str] = &[
    "jwks-url",
    "namespaces-key",
    "namespaces-regex",
    "identifier-key",
    "admin-namespace",
    "host",
    "port",
    "region",
    "token-path",
    "role-arn",
    "secret-prefix",
    "service-account-role-prefix",
    "rolebinding-prefix",
    "kubeconfig-path",
    "enable-tracing",
];

/// Rewrites Go-style `-flag` / `-flag=value` to `--flag` for every long flag
/// name in `known`, leaving everything else (values, `--flags`, `-h`) alone.
pub fn normalize_go_flags<I, S>(args: I, known: &[&str]) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut out = Vec::new();
    let mut rest_are_values = false;
    for arg in args.into_iter().map(Into::into) {
        if rest_are_values || arg == "--" {
            rest_are_values = true;
            out.push(arg);
            continue;
        }
        if let Some(body) = arg.strip_prefix('-').filter(|b| !b.starts_with('-')) {
            let name = body.split_once('=').map_or(body, |(n, _)| n);
            if name.len() > 1 && known.contains(&name) {
                out.push(format!("-{arg}"));
                continue;
            }
        }
        out.push(arg);
    }
    out
}

/// The first argument left in single-dash form that is not one of our
/// short flags (`-h`, `-V`): after [`normalize_go_flags`], a flag of no name
/// kiss-server knows. Values are skipped: only arguments after `--` or in a
/// value's place could be misread, and clap refuses those too.
fn unknown_single_dash_flag(args: &[String]) -> Option<&str> {
    args.iter()
        .skip(1)
        .take_while(|a| a.as_str() != "--")
        .map(String::as_str)
        .find(|a| {
            a.strip_prefix('-').is_some_and(|body| {
                let name = body.split('=').next().unwrap_or_default();
                name.len() > 1
                    && !body.starts_with('-')
                    && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            })
        })
}

impl Config {
    /// Parses the process's arguments, Go forms included; exits with usage on error.
    pub fn from_env_args() -> Config {
        Config::try_parse_args(std::env::args()).unwrap_or_else(|e| e.exit())
    }

    /// Parses `args` (program name first), Go forms included.
    pub fn try_parse_args<I, S>(args: I) -> Result<Config, clap::Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args = Self::normalize(args);
        if let Some(unknown) = unknown_single_dash_flag(&args) {
            // clap would read '-rolebinding-prefix' as the short flag '-r'
            // and name that: name the whole flag instead.
            let mut cmd = <Config as clap::CommandFactory>::command();
            return Err(cmd.error(
                clap::error::ErrorKind::UnknownArgument,
                format!(
                    "unexpected argument '{unknown}' found: kiss-server has no flag '--{}' \
                     (see kiss-server --help)",
                    unknown
                        .trim_start_matches('-')
                        .split('=')
                        .next()
                        .unwrap_or_default()
                ),
            ));
        }
        let mut config = Config::try_parse_from(args)?;
        config.resolve();
        Ok(config)
    }

    /// Settles what depends on several flags: a rolebinding prefix without
    /// --authorization selects rolebinding mode, as in the Go server.
    fn resolve(&mut self) {
        if self.authorization.is_none() && self.rolebinding_prefix.is_some() {
            self.authorization = Some(Authorization::Rolebinding);
        }
    }

    /// The authorization mode.
    pub fn authorization(&self) -> Authorization {
        self.authorization.unwrap_or(Authorization::Claims)
    }

    fn normalize<I, S>(args: I) -> Vec<String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        // Every long flag of ours works in Go form, not only the Go server's.
        let cmd = <Config as clap::CommandFactory>::command();
        let ours: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(str::to_owned))
            .collect();
        let mut known: Vec<&str> = ours.iter().map(String::as_str).collect();
        known.extend_from_slice(GO_FLAGS);
        normalize_go_flags(args, &known)
    }

    /// The naming scheme the flags describe.
    pub fn naming(&self) -> Naming {
        Naming {
            secret_prefix: self.secret_prefix.clone(),
            role_prefix: self.service_account_role_prefix.clone(),
            separator: self.secret_name_separator,
        }
    }

    /// What start-up should warn the operator about: settings that work but
    /// leave a door open. Each is a sentence saying what it allows and how
    /// to close it.
    pub fn startup_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.secret_name_separator == '-' {
            let p = if self.secret_prefix.is_empty() {
                String::new()
            } else {
                format!("{}-", self.secret_prefix)
            };
            out.push(format!(
                "--secret-name-separator is '-' (the Go kiss's names), which makes AWS names ambiguous: \
                 holders of namespace 'a' can take the names namespace 'a-b' would use \
                 (a + b-new and a-b + new are both '{p}a-b-new') and learn from ALREADY_EXISTS \
                 which names 'a-b' has; choose '_' with --secret-name-separator _ \
                 (KISS_SECRET_NAME_SEPARATOR=_), after migrating existing secrets and policies as \
                 docs/aws.md describes"
            ));
        }
        out
    }

    /// The listen address.
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// The checks between flags that clap cannot express; start-up and
    /// `--check-config` both run them, so a configuration that passes the
    /// check does not fail at start.
    pub fn validate(&self) -> Result<(), String> {
        if !self.token_path.is_empty() && self.role_arn.is_empty() {
            return Err(
                "--token-path needs --role-arn: the IAM role to assume with the web identity token"
                    .into(),
            );
        }
        if self.token_path.is_empty() && !self.role_arn.is_empty() {
            return Err("--role-arn needs --token-path: the web identity token to assume it with (or drop both for the SDK's default chain, IRSA included)".into());
        }
        if self.source_identity_role_arn.is_some() && (self.dev || self.backend != Backend::Aws) {
            return Err(
                "--source-identity-role-arn acts on AWS as each caller, so it needs --backend aws \
                 (and not --dev); drop it (KISS_SOURCE_IDENTITY_ROLE_ARN) for the local backend"
                    .into(),
            );
        }
        if self.max_concurrent_requests == 0 || self.max_requests_per_identity == 0 {
            return Err(
                "--max-concurrent-requests and --max-requests-per-identity must be at least 1"
                    .into(),
            );
        }
        let mode = self.authorization();
        if mode == Authorization::Kubernetes && self.admin_namespace.is_some() {
            return Err(
                "--admin-namespace has no meaning with --authorization kubernetes: the \
                        cluster's RBAC decides, and a ClusterRoleBinding to kiss-secrets-edit is \
                        how someone gets every namespace; drop --admin-namespace \
                        (KISS_ADMIN_NAMESPACE)"
                    .into(),
            );
        }
        if mode != Authorization::Claims && !cfg!(feature = "kubernetes") {
            return Err(format!(
                "--authorization {}: this build of kiss-server has no Kubernetes support \
                 (the 'kubernetes' cargo feature); use --authorization claims",
                mode.name()
            ));
        }
        if self.kube_timeout == 0 {
            return Err("--kube-timeout must be at least 1 second".into());
        }
        if let Some(path) = &self.audit_log {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if dir.is_some_and(|d| !d.is_dir()) {
                return Err(format!(
                    "--audit-log {}: the directory does not exist; create it or choose another path",
                    path.display()
                ));
            }
        }
        Ok(())
    }

    /// The admission bounds the flags describe.
    pub fn limits(&self) -> crate::pipeline::Limits {
        crate::pipeline::Limits {
            rate_per_second: self.rate_limit_rps,
            burst: self.rate_limit_burst,
            max_in_flight: self.max_concurrent_requests,
            max_in_flight_per_identity: self.max_requests_per_identity,
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
            idle_timeout: Duration::from_secs(self.idle_timeout),
            read_deadline: crate::pipeline::admission::READ_DEADLINE,
            ..Default::default()
        }
    }

    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        let mut all = vec!["kiss-server"];
        all.extend_from_slice(args);
        Config::try_parse_args(all)
    }

    #[test]
    fn go_style_flags_are_accepted() {
        let c = parse(&[
            "-jwks-url=https://idp/jwks.json",
            "-port",
            "10001",
            "-namespaces-regex",
            "kaluza:([0-9a-z-]{1,63})",
            "-secret-prefix=",
        ])
        .unwrap();
        assert_eq!(c.jwks_url.as_deref(), Some("https://idp/jwks.json"));
        assert_eq!(c.port, 10001);
        assert_eq!(
            c.namespaces_regex.as_deref(),
            Some("kaluza:([0-9a-z-]{1,63})")
        );
        assert_eq!(c.secret_prefix, "");
    }

    #[test]
    fn defaults_match_the_go_server() {
        let c = parse(&["--jwks-url", "x"]).unwrap();
        assert_eq!(c.listen_addr(), "0.0.0.0:10000".parse().unwrap());
        assert_eq!(c.namespaces_key, "cognito:groups");
        assert_eq!(c.identifier_key, "email");
        assert!(
            !c.allow_unverified_email,
            "e-mail identifiers must be verified"
        );
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.deletion_recovery_days, 7);
        assert_eq!(c.leeway, 60);
        assert_eq!(c.naming(), Naming::default());
        assert_eq!(c.source_identity_role_arn, None, "off by default");
        assert_eq!(c.source_identity_session_seconds, 3600);
    }

    #[test]
    fn the_source_identity_role_and_session_are_checked() {
        let role = "arn:aws:iam::123456789012:role/kiss-callers";
        let c = parse(&[
            "--jwks-url=x",
            "--backend=aws",
            "--source-identity-role-arn",
            role,
            "--source-identity-session-seconds=900",
        ])
        .unwrap();
        assert_eq!(c.source_identity_role_arn.as_deref(), Some(role));
        assert_eq!(c.source_identity_session_seconds, 900);
        assert!(c.validate().is_ok());
        let path = "arn:aws-cn:iam::123456789012:role/team/kiss-callers";
        assert!(parse(&["--jwks-url=x", "--source-identity-role-arn", path]).is_ok());
        for bad in [
            "kiss-callers",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::1234:role/kiss-callers",
            "arn:aws:sts::123456789012:assumed-role/kiss-callers/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            let err = parse(&["--jwks-url=x", "--source-identity-role-arn", bad]).unwrap_err();
            assert!(err.to_string().contains("IAM role ARN"), "{bad}: {err}");
        }
        for bad in ["899", "43201", "1h"] {
            let err =
                parse(&["--jwks-url=x", "--source-identity-session-seconds", bad]).unwrap_err();
            assert!(err.to_string().contains("900 to 43200"), "{bad}: {err}");
        }
    }

    #[test]
    fn values_that_look_like_flags_are_left_alone() {
        let args = normalize_go_flags(["x", "-port", "-1", "--", "-host"], &["port", "host"]);
        assert_eq!(args, ["x", "--port", "-1", "--", "-host"]);
        let args = normalize_go_flags(["x", "-h", "-unknown"], &["port"]);
        assert_eq!(args, ["x", "-h", "-unknown"]);
    }

    #[test]
    fn repeatable_and_checked_flags() {
        let c = parse(&[
            "--jwks-url=x",
            "--audience",
            "a",
            "--audience=b",
            "--required-claim",
            "token_use=id",
        ])
        .unwrap();
        assert_eq!(c.audiences, ["a", "b"]);
        assert_eq!(c.required_claims, [("token_use".into(), "id".into())]);
        assert!(
            parse(&["--jwks-url=x", "--allow-unverified-email"])
                .unwrap()
                .allow_unverified_email
        );
        assert!(parse(&["--jwks-url=x", "--required-claim", "novalue"]).is_err());
        assert!(parse(&["--jwks-url=x", "--secret-name-separator", "."]).is_err());
        assert!(parse(&["--jwks-url=x", "--deletion-recovery-days", "3"]).is_err());
        assert!(parse(&["--jwks-url=x", "--deletion-recovery-days", "0"]).is_ok());
        assert!(parse(&[]).is_err(), "jwks-url is required");
        assert!(parse(&["--dev"]).is_ok(), "but not in dev mode");
    }

    #[test]
    fn the_ambiguous_separator_is_warned_about() {
        let warnings = parse(&["--jwks-url=x"]).unwrap().startup_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("'k8s-secret-a-b-new'"),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[0].contains("--secret-name-separator _"),
            "{}",
            warnings[0]
        );
        let c = parse(&[
            "--jwks-url=x",
            "--secret-name-separator=-",
            "--secret-prefix=",
        ])
        .unwrap();
        assert!(c.startup_warnings()[0].contains("both 'a-b-new'"));
        let c = parse(&["--jwks-url=x", "--secret-name-separator=_"]).unwrap();
        assert!(c.startup_warnings().is_empty());
    }

    #[test]
    fn flags_that_need_each_other_are_checked_before_start() {
        let c = parse(&["--jwks-url=x", "--token-path", "/var/run/token"]).unwrap();
        assert!(c.validate().unwrap_err().contains("--role-arn"));
        let c = parse(&["--jwks-url=x", "--role-arn", "arn:aws:iam::1:role/r"]).unwrap();
        assert!(c.validate().unwrap_err().contains("--token-path"));
        let c = parse(&[
            "--jwks-url=x",
            "--backend=local",
            "--source-identity-role-arn=arn:aws:iam::123456789012:role/kiss-callers",
        ])
        .unwrap();
        assert!(c.validate().unwrap_err().contains("--backend aws"));
        let c = parse(&["--jwks-url=x", "--audit-log", "/no/such/dir/audit.log"]).unwrap();
        assert!(c.validate().unwrap_err().contains("does not exist"));
        assert!(parse(&["--jwks-url=x"]).unwrap().validate().is_ok());
    }
}
