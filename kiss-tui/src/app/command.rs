//! The `:` command line, as in k9s and vim: `:ns team-a` jumps to a
//! namespace, `:token` to the token picker, `:deleted`, `:help`, `:q`.
//! Tab completes the command, and after `ns ` the namespace: the ones used
//! last on this server first (remembered in the state directory), then the
//! ones the token grants.

use crossterm::event::{KeyCode, KeyEvent};

use super::keymap::{Binding, bind, key, text};
use super::line::{self, LineInput};
use super::state::{Dialog, Screen};
use super::{App, Effect};

/// The commands, as completed and listed in errors.
pub const COMMANDS: &[&str] = &["ns", "ctx", "token", "search", "deleted", "help", "q"];

/// The command line while it is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// What is typed after the `:`.
    pub input: LineInput,
    /// What Tab found when it could not decide, shown under the line.
    pub choices: Vec<String>,
}

/// What a key does on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandCmd {
    /// Run it.
    Run,
    /// Complete the word at the end.
    Complete,
    /// Close it.
    Cancel,
}

/// The command line's keys.
pub fn keys() -> Vec<Binding<CommandCmd>> {
    let mut rows = vec![
        text(
            "type",
            "ns NAME, ctx NAME, token, search NAME, deleted, help, q",
            true,
        ),
        bind(
            "Enter",
            "run",
            true,
            &[key(KeyCode::Enter)],
            CommandCmd::Run,
        ),
        bind(
            "Tab",
            "complete",
            true,
            &[key(KeyCode::Tab)],
            CommandCmd::Complete,
        ),
        bind(
            "Esc",
            "cancel",
            true,
            &[key(KeyCode::Esc)],
            CommandCmd::Cancel,
        )
        .pinned(),
    ];
    rows.extend(line::keys());
    rows
}

/// The longest start all of `words` share.
fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    first[..end].to_owned()
}

impl App {
    /// Opens the command line.
    pub(super) fn open_command(&mut self) {
        self.state.command = Some(CommandLine::default());
    }

    /// Where `ns` completes from: recent on this server first, then granted.
    fn namespace_candidates(&self) -> Vec<String> {
        let mut all = self.state.recent_namespaces.clone();
        if let Some(identity) = self
            .state
            .session
            .as_ref()
            .and_then(|s| s.identity.as_ref())
        {
            for ns in &identity.namespaces {
                if !all.contains(ns) {
                    all.push(ns.clone());
                }
            }
        }
        all
    }

    pub(super) fn command_text(&mut self, event: KeyEvent) {
        if let Some(c) = &mut self.state.command
            && c.input.input(event)
        {
            c.choices.clear();
        }
    }

    pub(super) fn on_command(&mut self, cmd: CommandCmd) -> Vec<Effect> {
        match cmd {
            CommandCmd::Cancel => {
                self.state.command = None;
                Vec::new()
            }
            CommandCmd::Complete => {
                self.complete();
                Vec::new()
            }
            CommandCmd::Run => {
                let typed = self
                    .state
                    .command
                    .take()
                    .map(|c| c.input.to_string())
                    .unwrap_or_default();
                self.run_command(typed.trim())
            }
        }
    }

    fn complete(&mut self) {
        let candidates = self.namespace_candidates();
        let contexts = self.state.contexts.clone();
        let Some(c) = &mut self.state.command else {
            return;
        };
        let typed = c.input.to_string();
        let (head, word, pool): (String, &str, Vec<String>) = match typed.split_once(' ') {
            Some((verb, rest)) if matches!(verb, "ns" | "namespace") => {
                (format!("{verb} "), rest.trim_start(), candidates)
            }
            Some((verb, rest)) if matches!(verb, "ctx" | "context") => {
                (format!("{verb} "), rest.trim_start(), contexts)
            }
            Some(_) => return,
            None => (
                String::new(),
                typed.as_str(),
                COMMANDS.iter().map(|s| (*s).to_owned()).collect(),
            ),
        };
        let matches: Vec<String> = pool.into_iter().filter(|w| w.starts_with(word)).collect();
        match matches.len() {
            0 => c.choices.clear(),
            1 => {
                // A whole command gets its space, ready for its argument.
                let space = if head.is_empty() && matches!(matches[0].as_str(), "ns" | "ctx") {
                    " "
                } else {
                    ""
                };
                c.input.set(&format!("{head}{}{space}", matches[0]));
                c.choices.clear();
            }
            _ => {
                c.input.set(&format!("{head}{}", common_prefix(&matches)));
                c.choices = matches;
            }
        }
    }

    fn run_command(&mut self, typed: &str) -> Vec<Effect> {
        let (verb, arg) = typed
            .split_once(char::is_whitespace)
            .map_or((typed, ""), |(v, a)| (v, a.trim()));
        match verb {
            "" => Vec::new(),
            "q" | "quit" | "q!" => {
                if verb == "q!" {
                    self.state.quit_confirm = true;
                }
                self.quit()
            }
            "token" | "tokens" | "t" => self.open_token_picker(),
            "ctx" | "context" if arg.is_empty() => {
                self.error(format!(
                    "Name the context: :ctx NAME (Tab completes){}.",
                    if self.state.contexts.is_empty() {
                        String::new()
                    } else {
                        format!("; the contexts are {}", self.state.contexts.join(", "))
                    }
                ));
                Vec::new()
            }
            "ctx" | "context" => self.switch_context(arg),
            "search" | "find" if self.state.unsaved_text() => {
                self.error(
                    "The form holds unsaved text: save it (Ctrl-S) or discard it (Esc) first.",
                );
                Vec::new()
            }
            "search" | "find" => {
                let effects = self.open_search();
                if !arg.is_empty()
                    && let Some(Dialog::Search(d)) = &mut self.state.dialog
                {
                    d.query.set(arg);
                }
                effects
            }
            "help" | "h" => {
                self.state.flash = None;
                self.state.help = Some(0);
                Vec::new()
            }
            "ns" | "namespace" if self.state.unsaved_text() => {
                self.error(
                    "The form holds unsaved text: save it (Ctrl-S) or discard it (Esc) before you change namespace.",
                );
                Vec::new()
            }
            "ns" | "namespace" if arg.is_empty() => {
                if self.state.session.is_none() {
                    self.error("Pick a token first: namespaces come from it.");
                    return Vec::new();
                }
                self.leave_namespace();
                Vec::new()
            }
            "ns" | "namespace" => {
                if self.state.session.is_none() {
                    self.error("Pick a token first: namespaces come from it.");
                    return Vec::new();
                }
                if let Err(e) = kiss_proto::names::validate_namespace(arg) {
                    self.error(format!("{e}."));
                    return Vec::new();
                }
                self.enter_namespace(arg.to_owned())
            }
            "deleted" if self.state.namespace.is_some() => {
                if self.state.screen != Screen::Secrets {
                    self.state.screen = Screen::Secrets;
                }
                self.on_secrets(super::secrets::SecretsCmd::Deleted)
            }
            "deleted" => {
                self.error("Open a namespace first (:ns NAME): recently deleted is per namespace.");
                Vec::new()
            }
            other => {
                self.error(format!(
                    "Unknown command ':{other}'. The commands are :ns NAME, :ctx NAME, :token, :search NAME, :deleted, :help and :q."
                ));
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn the_common_start_of_words() {
        let w = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(common_prefix(&w(&["team-a", "team-b"])), "team-");
        assert_eq!(common_prefix(&w(&["team-a"])), "team-a");
        assert_eq!(common_prefix(&w(&["a", "b"])), "");
        assert_eq!(common_prefix(&w(&["prod", "prod-eu"])), "prod");
    }
}
