//! The command line: common flags, an optional verb, and the app-only flags.
//!
//! Scripts written for the Go `kiss` client pass flags the Go way (`-name foo`,
//! `-name=foo`, `-secure=false`); [`normalize`] rewrites them into the GNU form
//! clap parses, so both spellings work everywhere.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Flags that take a value. The normalizer needs them to keep a value that
/// starts with `-` (e.g. `-value -----BEGIN`) from being read as a flag,
/// as Go's flag package does.
const VALUE_FLAGS: &[&str] = &[
    "namespace",
    "server-addr",
    "timeout",
    "refresh",
    "token-path",
    "token-dir",
    "config",
    "ca-file",
    "name",
    "value",
    "service-account",
    "output",
    "version",
    "from",
    "to",
    "expected-version",
    "key",
    "file",
    "format",
    "namespace-of-secret",
    "context",
];

/// Boolean flags. Go's flag package only takes their value after `=`, so
/// `-secure false` is a mistake worth naming rather than a strange verb.
const BOOL_FLAGS: &[&str] = &[
    "secure",
    "interactive",
    "debug",
    "demo",
    "deleted",
    "show-value",
    "policy",
    "unbind",
    "show-values",
    "split",
    "all-namespaces",
];

/// The help heading of the flags every verb accepts.
const COMMON: &str = "Common options (before or after the verb)";

/// kiss: manage your namespace's AWS Secrets Manager secrets with your kubectl login.
#[derive(Debug, Parser)]
#[command(
    name = "kiss-tui",
    version,
    about = "kiss: manage your namespace's AWS Secrets Manager secrets with your kubectl login.",
    long_about = "kiss: manage your namespace's AWS Secrets Manager secrets with your kubectl login.\n\n\
        With no verb, kiss-tui opens the full-screen app. With a verb it runs that one command \
        and exits, like the Go `kiss` client: flags are accepted as -name foo, -name=foo and \
        --name foo, before or after the verb.",
    after_help = "Examples:\n  kiss-tui --demo                                  try the app against a built-in demo server\n  \
        kiss-tui -namespace team-a list\n  \
        printf 'line1\\nline2\\n' | kiss-tui create -namespace team-a -name db-password\n  \
        kiss-tui get -namespace team-a -name db-password -show-value\n  \
        kiss-tui -context prod list                      the kiss server, namespace and token of kubeconfig context prod\n  \
        kiss-tui -context prod list -all-namespaces      every secret of every namespace your token grants\n\n\
        Settings are read from ~/.config/kiss/config.toml (or $KISS_CONFIG); flags override it. \
        A context's kiss server is set there: [contexts.prod] server_addr = \"kiss.prod.example.com:443\"."
)]
pub struct Options {
    /// Flags shared by the app and every verb.
    #[command(
        flatten,
        next_help_heading = COMMON
    )]
    pub common: CommonFlags,

    /// Open the app against a built-in demo server with sample secrets (no AWS, no login).
    #[arg(long, help_heading = "App options (without a verb)", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub demo: bool,

    /// Reload the secrets list by itself this often (Go syntax: 30s, 2m); off unless given [config: refresh_seconds].
    #[arg(long, help_heading = "App options (without a verb)", value_parser = parse_go_duration, value_name = "DURATION")]
    pub refresh: Option<Duration>,

    /// The verb to run; none opens the app.
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

/// Flags accepted by the app and by every verb, before or after the verb.
#[derive(Debug, Default, Clone, Args)]
pub struct CommonFlags {
    /// The Kubernetes namespace to act on (required by verbs, unless the config file sets one).
    #[arg(long, global = true, help_heading = COMMON, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// host:port of kiss-server [default: localhost:10000, or server_addr from the config file].
    #[arg(long, global = true, help_heading = COMMON, value_name = "HOST:PORT")]
    pub server_addr: Option<String>,

    /// Use TLS with the system's roots; -secure=false for a plaintext server [default: true].
    #[arg(long, global = true, help_heading = COMMON, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", hide_possible_values = true)]
    pub secure: Option<bool>,

    /// Deadline of each call, in Go's syntax: 10s, 1m30s, 500ms [default: 10s].
    #[arg(long, global = true, help_heading = COMMON, value_parser = parse_go_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,

    /// The token file to use: kubelogin's JSON or a raw JWT [default: the first usable file in ~/.kube/cache/oidc-login].
    #[arg(long, global = true, help_heading = COMMON, value_name = "FILE")]
    pub token_path: Option<PathBuf>,

    /// Choose the token from a numbered list of the files in the token directory.
    #[arg(long, global = true, help_heading = COMMON, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", hide_possible_values = true)]
    pub interactive: Option<bool>,

    /// Print what is being done (server, TLS, token file, calls) on stderr. Never a token or a value.
    #[arg(long, global = true, help_heading = COMMON, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", hide_possible_values = true)]
    pub debug: Option<bool>,

    /// Where token files are looked for [default: ~/.kube/cache/oidc-login].
    #[arg(long, global = true, help_heading = COMMON, value_name = "DIR")]
    pub token_dir: Option<PathBuf>,

    /// A PEM CA bundle to trust instead of the system's roots.
    #[arg(long, global = true, help_heading = COMMON, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// The config file [default: $KISS_CONFIG, else ~/.config/kiss/config.toml].
    #[arg(long, global = true, help_heading = COMMON, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Act in this kubeconfig context: its kiss server and namespace from [contexts.NAME] (or [issuers."URL"]) in the config file, its token from the context user's exec plugin (kubectl oidc-login get-token ...), run once before the app or the verb starts. Without it, the token directory is used as the Go client did.
    #[arg(long, global = true, help_heading = COMMON, value_name = "NAME")]
    pub context: Option<String>,
}

/// The scripting verbs.
#[derive(Debug, Clone, Subcommand)]
pub enum Verb {
    /// Check that the server is reachable and accepts your token for the namespace.
    Ping,
    /// List the namespace's secrets, one name per line.
    List(ListArgs),
    /// Get one secret's details; -show-value prints its value instead.
    Get(GetArgs),
    /// Create a secret; its value comes from -value, else from stdin.
    Create(CreateArgs),
    /// Create a secret whose value is the contents of a file, byte for byte.
    CreateFrom(CreateFromArgs),
    /// Store a new value in a secret; from -value, else from stdin.
    Update(UpdateArgs),
    /// Delete a secret (recoverable with `restore` during the server's recovery window).
    Delete(DeleteArgs),
    /// Restore a deleted secret during its recovery window.
    Restore(NameArgs),
    /// Let a ServiceAccount read the secret (attach its read policy to the account's role).
    Bind(BindArgs),
    /// Stop a ServiceAccount reading the secret.
    Unbind(BindArgs),
    /// Create the read policy of an existing secret, so it can be bound to ServiceAccounts.
    CreatePolicy(NameArgs),
    /// Delete a secret's read policy (refused while bound, unless -unbind); the secret stays.
    DeletePolicy(DeletePolicyArgs),
    /// List a secret's versions, newest first: when, who wrote it, labels.
    History(HistoryArgs),
    /// Show what changed between two versions (masked unless -show-values).
    Diff(DiffArgs),
    /// Make an earlier version's value current again, as a new version.
    Rollback(RollbackArgs),
    /// Set one key of a secret that holds a JSON object, keeping the other keys.
    #[command(
        long_about = "Set one key of a secret whose value is a JSON object ({\"user\": \"app\", \"password\": \"...\"}), \
            keeping every other key, its place and its exact text. A new key goes last; the new value is stored as a JSON string.\n\n\
            The secret is read and written back with its version: if someone changes it in between, kiss-tui reads it again \
            and retries once; a second conflict writes nothing and exits with status 3. A value that is not a JSON object \
            is refused (replace it whole with `update`).",
        after_help = "Examples:\n  kiss-tui set-key -namespace team-a -name db -key password -value 's3cret'\n  \
            printf %s \"$PASSWORD\" | kiss-tui set-key -namespace team-a -name db -key password"
    )]
    SetKey(SetKeyArgs),
    /// Remove one key from a secret that holds a JSON object, keeping the other keys.
    #[command(
        long_about = "Remove one key from a secret whose value is a JSON object, keeping every other key as it was. \
            A key that is not there is an error and nothing is written. Conflicting changes are handled as by set-key \
            (one retry, then exit status 3)."
    )]
    UnsetKey(KeyArgs),
    /// Create secrets from a .env file, a JSON object or a Kubernetes Secret manifest.
    #[command(
        long_about = "Create a secret holding a JSON object from a file: a .env file (KEY=VALUE lines, quotes and comments \
            as dotenv reads them), a JSON object, or a Kubernetes Secret manifest such as `kubectl get secret NAME -o yaml` \
            prints (data is base64-decoded, stringData taken as it is; stringData wins for a key in both).\n\n\
            With -split, one plain secret per key instead, named NAME-KEY with the key lowercased and '_' and '.' turned \
            into '-'. Every name is checked before anything is written. Secrets that already exist are skipped and \
            reported (their values are not compared or changed), so after a refusal the same command can be run again: \
            it stops at the first refusal and says what it had created.",
        after_help = "Examples:\n  kiss-tui import -namespace team-a -name app -file .env\n  \
            kubectl get secret app -n team-a -o yaml > app.yaml && kiss-tui import -namespace team-a -name app -file app.yaml\n  \
            kiss-tui import -namespace team-a -name app -file .env -split"
    )]
    Import(ImportArgs),
    /// Print a secret's keys as a .env file, a JSON object or a Kubernetes Secret manifest.
    #[command(
        long_about = "Print the keys of a secret whose value is a JSON object as a .env file (-format env), a JSON object \
            (-format json, one key per line) or a Kubernetes Secret manifest (-format k8s-secret: apiVersion v1, type \
            Opaque, the keys base64-encoded under data, in -namespace-of-secret or else the -namespace). \
            This reads the value: the server records it as a read in its audit log.",
        after_help = "Examples:\n  kiss-tui export -namespace team-a -name app -format env > .env\n  \
            kiss-tui export -namespace team-a -name app -format k8s-secret | kubectl apply -f -"
    )]
    Export(ExportArgs),
    /// Show who the server says your token belongs to and the namespaces it grants.
    Whoami(OutputArgs),
    /// Print a shell completion script: bash, zsh or fish.
    Completions(CompletionsArgs),
}

impl Verb {
    /// The verb as typed on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Ping => "ping",
            Verb::List(_) => "list",
            Verb::Get(_) => "get",
            Verb::Create(_) => "create",
            Verb::CreateFrom(_) => "create-from",
            Verb::Update(_) => "update",
            Verb::Delete(_) => "delete",
            Verb::Restore(_) => "restore",
            Verb::Bind(_) => "bind",
            Verb::Unbind(_) => "unbind",
            Verb::CreatePolicy(_) => "create-policy",
            Verb::DeletePolicy(_) => "delete-policy",
            Verb::History(_) => "history",
            Verb::Diff(_) => "diff",
            Verb::Rollback(_) => "rollback",
            Verb::SetKey(_) => "set-key",
            Verb::UnsetKey(_) => "unset-key",
            Verb::Import(_) => "import",
            Verb::Export(_) => "export",
            Verb::Whoami(_) => "whoami",
            Verb::Completions(_) => "completions",
        }
    }

    /// Whether the verb acts on a namespace (and so needs `-namespace`).
    pub fn needs_namespace(&self) -> bool {
        !matches!(self, Verb::Whoami(_) | Verb::Completions(_))
            && !matches!(self, Verb::List(a) if a.all_namespaces)
    }

    /// Whether the verb talks to the server.
    pub fn needs_server(&self) -> bool {
        !matches!(self, Verb::Completions(_))
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people: one item per line, or labelled fields.
    #[default]
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// `-output`.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text, value_name = "FORMAT")]
    pub output: Output,
}

/// `list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// List the secrets scheduled for deletion (restorable) instead.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub deleted: bool,
    /// List the secrets of every namespace the token grants (as whoami shows them), a few namespaces at a time: one "NAMESPACE<tab>NAME<tab>LAST CHANGED" line per secret. A namespace that refuses is reported on stderr, the others are still listed, and the exit status is 1.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true, conflicts_with = "deleted")]
    pub all_namespaces: bool,
    /// Output format: text (one name per line) or json (names with dates).
    #[arg(long, value_enum, default_value_t = Output::Text, value_name = "FORMAT")]
    pub output: Output,
}

/// `get`.
#[derive(Debug, Clone, Args)]
pub struct GetArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// Print the value (exactly, with no added newline) instead of the details; with -output json, add a "value" field.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub show_value: bool,
    /// An earlier version instead of the current one (ids from `history`).
    #[arg(long, value_name = "VERSION_ID")]
    pub version: Option<String>,
    /// One key of a secret holding a JSON object: with -show-value, print that key's value alone (exactly, no newline added); without it, the details as plain `get` prints them (the value is not read).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text, value_name = "FORMAT")]
    pub output: Output,
}

/// `set-key`.
#[derive(Debug, Clone, Args)]
pub struct SetKeyArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The key to set (added last if the object does not have it).
    #[arg(long, required = true, value_name = "KEY")]
    pub key: String,
    /// The key's new value [default: read from stdin: all of it when piped, typed until Ctrl-D on a terminal; newlines kept].
    #[arg(long, value_name = "VALUE")]
    pub value: Option<String>,
}

/// `unset-key`.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The key to remove.
    #[arg(long, required = true, value_name = "KEY")]
    pub key: String,
}

/// What a file given to `import` holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Decide from the contents: a JSON object, a manifest (kind: Secret), else a .env file.
    #[default]
    Auto,
    /// KEY=VALUE lines.
    Env,
    /// One JSON object.
    Json,
    /// A Kubernetes Secret manifest, YAML or JSON.
    K8sSecret,
}

/// `import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The secret to create (with -split, the prefix of the secrets' names).
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The file to read: .env, JSON object, or Kubernetes Secret manifest (YAML or JSON).
    #[arg(long, required = true, value_name = "PATH")]
    pub file: PathBuf,
    /// What the file holds.
    #[arg(long, value_enum, default_value_t = ImportFormat::Auto, value_name = "FORMAT")]
    pub format: ImportFormat,
    /// One plain secret per key, named NAME-KEY (key lowercased, '_' and '.' as '-'), instead of one JSON secret.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub split: bool,
}

/// What `export` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// KEY=VALUE lines, quoted where needed, that dotenv reads back exactly.
    Env,
    /// The JSON object, one key per line.
    Json,
    /// A Kubernetes Secret manifest (YAML), keys base64-encoded under data.
    K8sSecret,
}

/// `export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// What to print.
    #[arg(long, required = true, value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,
    /// With -format k8s-secret: the manifest's metadata.namespace [default: the -namespace].
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace_of_secret: Option<String>,
}

/// `history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// Output format: text (a table) or json.
    #[arg(long, value_enum, default_value_t = Output::Text, value_name = "FORMAT")]
    pub output: Output,
}

/// `diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The older side [default: the version before the current one (AWSPREVIOUS)].
    #[arg(long, value_name = "VERSION_ID")]
    pub from: Option<String>,
    /// The newer side [default: the current version].
    #[arg(long, value_name = "VERSION_ID")]
    pub to: Option<String>,
    /// Print the lines themselves; without it every line shows as the same mask, so only the shape of the change is seen. Either way both values are read (and audited as read).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub show_values: bool,
}

/// `rollback`.
#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The version whose value becomes current again (ids from `history`).
    #[arg(long, required = true, value_name = "VERSION_ID")]
    pub version: String,
    /// Refuse if the current version is no longer this one (someone changed the secret since you looked).
    #[arg(long, value_name = "VERSION_ID")]
    pub expected_version: Option<String>,
}

/// `create`.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The secret's name: lowercase letters, digits and '-', at most 63.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The value [default: read from stdin: all of it when piped, typed until Ctrl-D on a terminal; newlines kept].
    #[arg(long, value_name = "VALUE")]
    pub value: Option<String>,
    /// Also create the IAM read policy, so the secret can be bound to ServiceAccounts.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub policy: bool,
}

/// `create-from`.
#[derive(Debug, Clone, Args)]
pub struct CreateFromArgs {
    /// The secret's name: lowercase letters, digits and '-', at most 63.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The file whose contents become the value, byte for byte (must be UTF-8 text).
    #[arg(long, required = true, value_name = "PATH")]
    pub value: PathBuf,
    /// Also create the IAM read policy, so the secret can be bound to ServiceAccounts.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub policy: bool,
}

/// `update`.
#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The new value [default: read from stdin: all of it when piped, typed until Ctrl-D on a terminal; newlines kept].
    #[arg(long, value_name = "VALUE")]
    pub value: Option<String>,
    /// Refuse, writing nothing, if the current version is no longer this one (someone changed the secret since you read it; `get` and `history` print version ids).
    #[arg(long, value_name = "VERSION_ID")]
    pub expected_version: Option<String>,
}

/// `delete`.
#[derive(Debug, Clone, Args)]
pub struct DeleteArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// Remove the secret's IAM read policy first (refused while ServiceAccounts are still bound).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub policy: bool,
}

/// `delete-policy`.
#[derive(Debug, Clone, Args)]
pub struct DeletePolicyArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// Detach the policy from every ServiceAccount still bound to it first.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, value_name = "BOOL", default_value = "false", hide_default_value = true, hide_possible_values = true)]
    pub unbind: bool,
}

/// Verbs that take only a secret name.
#[derive(Debug, Clone, Args)]
pub struct NameArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
}

/// `bind` and `unbind`.
#[derive(Debug, Clone, Args)]
pub struct BindArgs {
    /// The secret's name.
    #[arg(long, required = true, value_name = "NAME")]
    pub name: String,
    /// The ServiceAccount in the namespace.
    #[arg(long, required = true, value_name = "NAME")]
    pub service_account: String,
}

/// `completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to print the completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Parses a boolean as Go's `strconv.ParseBool` does.
pub fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("'{s}' is not a boolean; use true or false")),
    }
}

fn parse_go_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse_go(s).map_err(|e| e.to_string())
}

/// Rewrites Go-style flags into the form clap parses: `-name` becomes
/// `--name`, and a value flag followed by its value becomes `--name=value`
/// (so a value starting with `-` stays a value). `-h`, `-V` and everything
/// after `--` are left alone.
pub fn normalize<I, T>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut input = args.into_iter().map(Into::into);
    let mut out: Vec<OsString> = input.next().into_iter().collect();
    while let Some(arg) = input.next() {
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            out.push(arg);
            out.extend(input.by_ref());
            break;
        }
        let long = if let Some(rest) = text.strip_prefix("--") {
            rest
        } else if let Some(rest) = text.strip_prefix('-') {
            // A single letter is a real short flag (-h); a dash and a digit or
            // nothing is a value, not a flag.
            if rest.chars().count() < 2 || !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
                out.push(arg);
                continue;
            }
            rest
        } else {
            out.push(arg);
            continue;
        };
        if long.contains('=') || !VALUE_FLAGS.contains(&long) {
            out.push(format!("--{long}").into());
            continue;
        }
        match input.next() {
            Some(value) => {
                let mut joined = OsString::from(format!("--{long}="));
                joined.push(value);
                out.push(joined);
            }
            None => out.push(format!("--{long}").into()),
        }
    }
    out
}

/// Finds a boolean flag followed by its value as a separate argument
/// (`-secure false`), in [`normalize`]d arguments, and says how to write it.
pub fn split_bool_value(args: &[OsString]) -> Option<String> {
    let args: Vec<&str> = args
        .iter()
        .skip(1)
        .map(|a| a.to_str().unwrap_or(""))
        .take_while(|a| *a != "--")
        .collect();
    args.windows(2).find_map(|pair| {
        let flag = pair[0].strip_prefix("--")?;
        let value = parse_go_bool(pair[1]).ok()?;
        BOOL_FLAGS.contains(&flag).then(|| {
            format!(
                "-{flag} takes its value after '=': write -{flag}={value} (a separate '{}' would be read as a verb)",
                pair[1]
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize(std::iter::once("kiss-tui").chain(args.iter().copied()))
            .into_iter()
            .skip(1)
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(normalize(
            std::iter::once("kiss-tui").chain(args.iter().copied()),
        ))
    }

    #[test]
    fn go_flags_become_gnu_flags() {
        assert_eq!(norm(&["-name", "foo"]), ["--name=foo"]);
        assert_eq!(norm(&["-name=foo"]), ["--name=foo"]);
        assert_eq!(norm(&["--name", "foo"]), ["--name=foo"]);
        assert_eq!(norm(&["-secure=false"]), ["--secure=false"]);
        assert_eq!(norm(&["-policy", "list"]), ["--policy", "list"]);
        assert_eq!(norm(&["-value", "-----BEGIN"]), ["--value=-----BEGIN"]);
        assert_eq!(norm(&["-value", "--name"]), ["--value=--name"]);
        assert_eq!(norm(&["-h", "-V"]), ["-h", "-V"]);
        assert_eq!(norm(&["-5", "-"]), ["-5", "-"]);
        assert_eq!(norm(&["--", "-name", "x"]), ["--", "-name", "x"]);
        assert_eq!(norm(&["-name"]), ["--name"]);
        assert_eq!(norm(&["create", "-value="]), ["create", "--value="]);
        assert_eq!(norm(&["-help"]), ["--help"]);
    }

    #[test]
    fn flags_work_before_and_after_the_verb() {
        let o = parse(&["-namespace", "a", "create", "-name=x", "-value", "v"]).unwrap();
        assert_eq!(o.common.namespace.as_deref(), Some("a"));
        let o2 = parse(&["create", "-name=x", "-value", "v", "-namespace", "a"]).unwrap();
        assert_eq!(o2.common.namespace.as_deref(), Some("a"));
        let Some(Verb::Create(c)) = o2.verb else {
            panic!("not create")
        };
        assert_eq!((c.name.as_str(), c.value.as_deref()), ("x", Some("v")));
        assert!(!c.policy);
    }

    #[test]
    fn go_bool_flags() {
        let o = parse(&["-secure=false", "ping"]).unwrap();
        assert_eq!(o.common.secure, Some(false));
        let o = parse(&["ping", "-secure"]).unwrap();
        assert_eq!(o.common.secure, Some(true));
        let o = parse(&["ping"]).unwrap();
        assert_eq!(o.common.secure, None);
        let o = parse(&["create", "-name", "x", "-policy"]).unwrap();
        assert!(matches!(
            o.verb,
            Some(Verb::Create(CreateArgs { policy: true, .. }))
        ));
        let o = parse(&["delete", "-name", "x", "-policy=1"]).unwrap();
        assert!(matches!(
            o.verb,
            Some(Verb::Delete(DeleteArgs { policy: true, .. }))
        ));
        assert!(parse(&["ping", "-secure=maybe"]).is_err());
        let o = parse(&["-demo"]).unwrap();
        assert!(o.demo && o.verb.is_none());
        assert!(parse(&["list", "-demo"]).is_err());
    }

    #[test]
    fn a_bool_flag_with_a_separate_value_is_named() {
        let split = |args: &[&str]| {
            split_bool_value(&normalize(
                std::iter::once("kiss-tui").chain(args.iter().copied()),
            ))
        };
        let msg = split(&["-secure", "false", "list"]).unwrap();
        assert!(msg.contains("-secure=false"), "{msg}");
        let msg = split(&["list", "-deleted", "true"]).unwrap();
        assert!(msg.contains("-deleted=true"), "{msg}");
        assert_eq!(split(&["-secure=false", "list"]), None);
        assert_eq!(split(&["-secure", "list"]), None);
        assert_eq!(split(&["create", "-value", "-policy", "true"]), None);
        assert_eq!(split(&["create", "--", "-policy", "true"]), None);
    }

    #[test]
    fn demo_is_not_listed_among_the_flags_every_verb_accepts() {
        use clap::CommandFactory;
        let help = Options::command().render_help().to_string();
        let common = help.split(COMMON).nth(1).unwrap();
        let common = common.split("\n\n").next().unwrap_or(common);
        assert!(!common.contains("--demo"), "{help}");
        assert!(help.contains("--demo"), "{help}");
    }

    #[test]
    fn context_and_all_namespaces_take_go_spellings() {
        let o = parse(&["-context", "prod", "list", "-all-namespaces"]).unwrap();
        assert_eq!(o.common.context.as_deref(), Some("prod"));
        let Some(Verb::List(l)) = &o.verb else {
            panic!("not list")
        };
        assert!(l.all_namespaces && !l.deleted);
        assert!(!o.verb.as_ref().is_some_and(Verb::needs_namespace));
        let o = parse(&["list", "-context=arn:aws:eks:x:1:cluster/a"]).unwrap();
        assert_eq!(
            o.common.context.as_deref(),
            Some("arn:aws:eks:x:1:cluster/a")
        );
        assert!(parse(&["list", "-all-namespaces", "-deleted"]).is_err());
        let split = split_bool_value(&normalize(["kiss-tui", "list", "-all-namespaces", "true"]));
        assert!(split.is_some_and(|m| m.contains("-all-namespaces=true")));
    }

    #[test]
    fn timeouts_in_go_syntax() {
        let o = parse(&["-timeout", "1m30s", "ping"]).unwrap();
        assert_eq!(o.common.timeout, Some(Duration::from_secs(90)));
        let err = parse(&["-timeout", "10", "ping"]).unwrap_err().to_string();
        assert!(err.contains("e.g. 10s"), "{err}");
    }

    #[test]
    fn missing_flags_are_usage_errors_that_name_the_flag() {
        let err = parse(&["create", "-namespace", "a"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--name"), "{err}");
        let err = parse(&["bind", "-name", "a"]).unwrap_err();
        assert!(err.to_string().contains("--service-account"), "{err}");
        let err = parse(&["create-from", "-name", "a"]).unwrap_err();
        assert!(err.to_string().contains("--value"), "{err}");
    }

    #[test]
    fn every_verb_parses() {
        for args in [
            &["ping"][..],
            &["list", "-deleted", "-output", "json"],
            &[
                "list",
                "-all-namespaces",
                "-output",
                "json",
                "-context",
                "prod",
            ],
            &["get", "-name", "a", "-show-value"],
            &["create-from", "-name", "a", "-value", "/tmp/x"],
            &["update", "-name", "a"],
            &["restore", "-name", "a"],
            &["unbind", "-name", "a", "-service-account", "sa"],
            &["create-policy", "-name", "a"],
            &["delete-policy", "-name", "a", "-unbind"],
            &["whoami", "-output=json"],
            &["get", "-name", "a", "-key", "K", "-show-value"],
            &["set-key", "-name", "a", "-key", "K", "-value", "-v-"],
            &["unset-key", "-name", "a", "-key", "K"],
            &["import", "-name", "a", "-file", "x.env", "-split"],
            &[
                "import",
                "-name",
                "a",
                "-file",
                "x",
                "-format",
                "k8s-secret",
            ],
            &["export", "-name", "a", "-format", "env"],
            &[
                "export",
                "-name",
                "a",
                "-format=k8s-secret",
                "-namespace-of-secret",
                "b",
            ],
            &["completions", "zsh"],
        ] {
            assert!(parse(args).is_ok(), "{args:?}");
        }
        use clap::CommandFactory;
        Options::command().debug_assert();
    }
}
