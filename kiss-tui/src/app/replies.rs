//! What each finished call does to the state. Failures keep whatever the
//! user typed and say what to do next.

use kiss_proto::reasons;

use super::App;
use super::action::{Call, CallError, Details, Effect, ErrorKind, Reply, SecretRow};
use super::advice;
use super::conflict::Conflict;
use super::editor::text_area_with;
use super::format;
use super::state::{Dialog, EditorMode, Purpose, Screen};
use crate::workflows::bind;
use crate::workflows::delete::{self, PolicyOutcome};

impl App {
    pub(super) fn on_reply(
        &mut self,
        purpose: Purpose,
        result: Result<Reply, CallError>,
    ) -> Vec<Effect> {
        match result {
            Ok(reply) => self.on_success(purpose, reply),
            Err(e) => self.on_failure(purpose, e),
        }
    }

    fn on_success(&mut self, purpose: Purpose, reply: Reply) -> Vec<Effect> {
        if purpose.is_history() {
            return self.on_history_reply(purpose, Ok(reply));
        }
        match (purpose, reply) {
            (Purpose::Connect, Reply::Connected) => vec![self.call(Purpose::WhoAmI, Call::WhoAmI)],
            (Purpose::Reconnect, Reply::Connected) => {
                let when = self
                    .state
                    .session
                    .as_ref()
                    .map(|s| format::expiry(s.expires_at, self.state.now))
                    .unwrap_or_default();
                let from = match &self.state.context {
                    Some(c) => format!("a fresh token from the plugin of context '{c}'"),
                    None => "the token kubelogin refreshed in its file".to_owned(),
                };
                self.info(format!("Took up {from} ({when})."));
                Vec::new()
            }
            (Purpose::WhoAmI, Reply::WhoAmI(identity)) => {
                let Some(session) = &mut self.state.session else {
                    return Vec::new();
                };
                // The new token works: the picker is left for good.
                self.state.tokens.back_to = None;
                if identity.expires_at.is_some() {
                    session.expires_at = identity.expires_at;
                }
                let admin = identity.admin;
                let granted = identity.namespaces.clone();
                session.identity = Some(identity);
                if self.state.screen == Screen::Namespaces {
                    // A reload of the picker.
                    self.refit();
                    return Vec::new();
                }
                // Coming back from picking another token mid-session: carry
                // on where the user was, dialog and typed text included.
                if let Some(ns) = self.state.namespace.clone() {
                    if admin || granted.contains(&ns) {
                        self.state.screen = Screen::Secrets;
                        self.info(format!("Using the new token in '{ns}'."));
                        return vec![self.list_call()];
                    }
                    let who = self.state.identifier().unwrap_or("this token").to_owned();
                    // Leaving the namespace would drop the editor: stay on
                    // the picker, with the way back, until a token fits.
                    if self.state.unsaved_text() {
                        self.state.screen = Screen::Tokens;
                        self.state.tokens.back_to = Some(Screen::Secrets);
                        self.error(format!(
                            "'{who}' may not use '{ns}'. Your unsaved text is kept: pick a token that grants '{ns}'."
                        ));
                        return Vec::new();
                    }
                    self.leave_namespace();
                    self.error(format!("'{who}' may not use '{ns}'; pick a namespace."));
                    return Vec::new();
                }
                if let Some(ns) = self.state.fixed_namespace.take() {
                    return self.enter_namespace(ns);
                }
                self.state.screen = Screen::Namespaces;
                self.state.namespaces.filter.clear();
                self.state.namespaces.nav = Default::default();
                self.refit();
                Vec::new()
            }
            (Purpose::List, Reply::Secrets(rows)) => self.set_rows(rows),
            (Purpose::SearchList(ns), Reply::Secrets(rows)) => self.search_listed(ns, Ok(rows)),
            (Purpose::Details(name), Reply::Details(d)) => {
                self.cache_details(*d);
                self.fit_bind_list(&name);
                Vec::new()
            }
            (Purpose::Reveal(name), Reply::Details(mut d)) => {
                let value = d.value.take().unwrap_or_default();
                self.cache_details(*d);
                if self.state.secrets.selected_name() == Some(name.as_str()) {
                    self.state.secrets.revealed = Some((name, value));
                    self.state.secrets.revealed_until = self.reveal_deadline();
                }
                Vec::new()
            }
            (Purpose::Copy(_, item), Reply::Details(d)) => {
                let effects = self.copy_loaded(item, &d);
                let mut d = *d;
                d.value = None;
                self.cache_details(d);
                effects
            }
            (Purpose::EditLoad(name), Reply::Details(mut d)) => {
                let value = d.value.take().unwrap_or_default();
                let version = d.version_id.clone();
                self.cache_details(*d);
                if let Some(ed) = self.editor()
                    && let EditorMode::Update {
                        name: n,
                        base_version,
                        ..
                    } = &mut ed.mode
                    && *n == name
                {
                    *base_version = version;
                    ed.value = text_area_with(value.expose());
                    ed.original = value.0;
                    ed.loading = false;
                    super::editor::restyle(ed);
                    if ed.external_pending {
                        return self.edit_externally();
                    }
                }
                Vec::new()
            }
            (Purpose::Create { name, with_policy }, Reply::Created { .. }) => {
                self.state.dialog = None;
                let shown = self.add_row(&name);
                self.info(if shown {
                    format!("Created '{name}'.")
                } else {
                    format!("Created '{name}'; the filter hid it, so it is cleared.")
                });
                let mut effects = vec![self.list_call()];
                if with_policy {
                    let namespace = self.ns();
                    effects.push(self.call(
                        Purpose::CreatePolicy {
                            name: name.clone(),
                            then_bind: None,
                            after_create: true,
                        },
                        Call::CreatePolicy { namespace, name },
                    ));
                }
                effects
            }
            (
                Purpose::CreatePolicy {
                    name,
                    then_bind,
                    after_create,
                },
                Reply::PolicyCreated,
            ) => {
                if let Some(d) = self.state.secrets.details.get_mut(&name) {
                    d.has_read_policy = true;
                }
                match then_bind {
                    Some(sa) => vec![self.bind_step(name, sa, bind::after_policy_created())],
                    None => {
                        self.info(if after_create {
                            format!("Created '{name}' and its read policy. Bind a service account with b.")
                        } else {
                            format!("Created the read policy of '{name}'. Bind a service account with b.")
                        });
                        vec![self.details_call(name)]
                    }
                }
            }
            (Purpose::KeyUpdate { name, what, value }, Reply::Updated { version_id }) => {
                self.key_update_saved(&name, &what, value, &version_id)
            }
            (Purpose::Update(name), Reply::Updated { version_id }) => {
                self.state.dialog = None;
                let short: String = version_id.chars().take(8).collect();
                self.info(format!(
                    "Saved the new value of '{name}' (version {short})."
                ));
                self.state.secrets.details.remove(&name);
                self.state.secrets.hide(&name);
                vec![self.list_call()]
            }
            (Purpose::ConflictCheck(name), Reply::Details(mut d)) => {
                let theirs = d.value.take();
                let version = d.version_id.clone();
                self.cache_details(*d);
                if let Some(ed) = self.editor()
                    && matches!(&ed.mode, EditorMode::Update { name: n, .. } if *n == name)
                    && let Some(conflict) = ed.conflict.as_mut()
                {
                    conflict.version = version;
                    conflict.theirs = theirs;
                    if conflict.theirs.is_none() {
                        conflict.error = Some("The server sent no value.".into());
                    }
                    let (base, mine) = (ed.original.clone(), ed.value_text());
                    if let Some(c) = ed.conflict.as_mut() {
                        c.refresh(&base, &mine);
                    }
                }
                Vec::new()
            }
            (Purpose::DeletePolicy(name), Reply::PolicyDeleted { .. }) => {
                match delete::after_policy(PolicyOutcome::Deleted) {
                    Some(step) => vec![self.delete_step(name, step)],
                    None => Vec::new(),
                }
            }
            (Purpose::Delete(name), Reply::Deleted { deletion_date }) => {
                if matches!(&self.state.dialog, Some(Dialog::Delete(d)) if d.name == name) {
                    self.state.dialog = None;
                }
                // The server sets a deletion date exactly when the secret
                // can still be restored.
                self.info(match deletion_date {
                    Some(t) => format!(
                        "Deleted '{name}'. Restore it from recently deleted (D) until {} UTC.",
                        format::date_time(t)
                    ),
                    None => format!("Deleted '{name}' for good: it cannot be restored."),
                });
                self.remove_row(&name);
                self.state.deleted.loaded = false;
                vec![self.list_call()]
            }
            (Purpose::ListDeleted, Reply::DeletedSecrets(mut rows)) => {
                rows.sort_by(|a, b| b.deleted.cmp(&a.deleted).then_with(|| a.name.cmp(&b.name)));
                let d = &mut self.state.deleted;
                d.rows = rows;
                d.loaded = true;
                d.load_error = None;
                self.refit();
                Vec::new()
            }
            (Purpose::Restore(name), Reply::Restored) => {
                self.state.deleted.rows.retain(|r| r.name != name);
                self.refit();
                self.info(format!("Restored '{name}'."));
                self.add_row(&name);
                vec![self.list_call()]
            }
            (Purpose::Bind(name, sa), Reply::Bound) => {
                if let Some(Dialog::Bind(b)) = &mut self.state.dialog
                    && b.name == name
                {
                    b.busy = false;
                    b.input.clear();
                    b.input_error = None;
                }
                self.info(format!("Bound '{name}' to service account '{sa}'."));
                vec![self.details_call(name)]
            }
            (Purpose::Unbind(name, sa), Reply::Unbound) => {
                if let Some(Dialog::Bind(b)) = &mut self.state.dialog
                    && b.name == name
                {
                    b.busy = false;
                }
                if let Some(d) = self.state.secrets.details.get_mut(&name) {
                    d.bound_service_accounts.retain(|s| *s != sa);
                }
                self.fit_bind_list(&name);
                self.info(format!("Unbound '{name}' from service account '{sa}'."));
                vec![self.details_call(name)]
            }
            (purpose, reply) => {
                // A server answering with the wrong message is a bug there;
                // say so rather than guess.
                self.error(format!(
                    "Unexpected answer while {}: {reply:?}. Please report this.",
                    purpose.label()
                ));
                Vec::new()
            }
        }
    }

    fn on_failure(&mut self, purpose: Purpose, e: CallError) -> Vec<Effect> {
        let refused = e.kind == ErrorKind::Unauthenticated;
        // In a context, a refused token is first renewed by its plugin
        // (once; a fresh token refused too is told as usual).
        let mut renew = Vec::new();
        if refused && self.state.context.is_some() && !self.state.context_renewing {
            renew = self.renew_context_token();
        }
        if !renew.is_empty() {
            let mut effects = self.on_failure_told(purpose, e);
            effects.extend(renew);
            return effects;
        }
        self.on_failure_told(purpose, e)
    }

    fn on_failure_told(&mut self, purpose: Purpose, e: CallError) -> Vec<Effect> {
        let refused = e.kind == ErrorKind::Unauthenticated;
        if refused && self.state.screen != Screen::Tokens {
            self.state.auth_problem = Some(e.message.clone());
        }
        let msg = advice::advised(&purpose, &e);
        if purpose.is_history() {
            return self.on_history_reply(purpose, Err(e));
        }
        match purpose {
            Purpose::SearchList(ns) => return self.search_listed(ns, Err(msg)),
            Purpose::Connect | Purpose::WhoAmI | Purpose::Reconnect => {
                if refused {
                    let hint = self.state.tokens.refresh_hint.clone();
                    self.error(format!("{msg} {}", format::sentence(&hint)));
                } else {
                    self.error(msg);
                }
            }
            Purpose::List => {
                self.details_not_loaded(None, &msg, e.kind);
                self.state.secrets.load_error = Some(msg.clone());
                if !refused {
                    self.error(format!("{msg} {}", advice::next_step(e.kind)));
                }
            }
            Purpose::Details(name) if e.kind == ErrorKind::NotFound => {
                self.state.secrets.details.remove(&name);
                self.error(format!(
                    "'{name}' no longer exists (deleted meanwhile?); the list is reloaded."
                ));
                return vec![self.list_call()];
            }
            Purpose::Details(name) => {
                self.details_not_loaded(Some(name), &msg, e.kind);
                if !refused {
                    self.error(msg);
                }
            }
            Purpose::Reveal(name) | Purpose::Copy(name, _) => {
                self.details_not_loaded(Some(name), &msg, e.kind);
                if !refused {
                    self.error(msg);
                }
            }
            Purpose::ConflictCheck(name) => {
                if let Some(ed) = self.editor()
                    && let Some(c) = ed.conflict.as_mut()
                {
                    c.error = Some(if e.kind == ErrorKind::NotFound {
                        format!(
                            "'{name}' no longer exists (deleted meanwhile?). Copy your text out before you close the editor."
                        )
                    } else {
                        format!("Could not read the version saved meanwhile: {msg}")
                    });
                }
            }
            Purpose::EditLoad(name) => {
                // Nothing was typed yet: close the editor and say why.
                if matches!(&self.state.dialog, Some(Dialog::Editor(ed)) if ed.loading) {
                    self.state.dialog = None;
                }
                if !refused {
                    self.error(format!("Could not open '{name}' for editing: {msg}"));
                }
            }
            Purpose::Create { .. } => {
                if let Some(ed) = self.editor() {
                    ed.saving = false;
                    ed.error = Some(format!("Not saved: {msg} Your text is still here."));
                } else {
                    self.error(msg);
                }
            }
            Purpose::KeyUpdate { name, .. } => {
                let conflict = e.kind == ErrorKind::Conflict || e.is(reasons::VERSION_CONFLICT);
                return self.key_update_failed(name, conflict, &msg);
            }
            Purpose::Update(name) => {
                let conflict = e.kind == ErrorKind::Conflict || e.is(reasons::VERSION_CONFLICT);
                let mut effects = Vec::new();
                if let Some(ed) = self.editor() {
                    ed.saving = false;
                    ed.error = Some(if conflict {
                        format!(
                            "Someone else changed '{name}' since you opened it. Your text is still here."
                        )
                    } else if e.kind == ErrorKind::NotFound {
                        format!(
                            "'{name}' no longer exists (deleted meanwhile?). Your text is still here; copy it out before you close the editor."
                        )
                    } else {
                        format!("Not saved: {msg} Your text is still here.")
                    });
                    if conflict {
                        ed.conflict = Some(Conflict::pending());
                        let namespace = self.ns();
                        effects.push(self.call(
                            Purpose::ConflictCheck(name.clone()),
                            Call::GetSecret {
                                namespace,
                                name,
                                include_value: true,
                            },
                        ));
                    }
                } else {
                    self.error(msg);
                }
                // The list shows what changed meanwhile (or that it is gone).
                if conflict || e.kind == ErrorKind::NotFound {
                    effects.push(self.list_call());
                }
                return effects;
            }
            Purpose::CreatePolicy {
                name, then_bind, ..
            } => {
                let text = format!("Could not create the read policy of '{name}': {msg}");
                match &mut self.state.dialog {
                    Some(Dialog::Bind(b)) if b.name == name && then_bind.is_some() => {
                        b.busy = false;
                        b.error = Some(text);
                    }
                    _ if !refused => self.error(format!("{text} Press p to try again.")),
                    _ => {}
                }
            }
            // The workflow carries on with the secret when there was no
            // policy to remove; any other refusal stops it, shown below.
            Purpose::DeletePolicy(name) if advice::no_policy(&e) => {
                return delete::after_policy(PolicyOutcome::Missing)
                    .map(|step| self.delete_step(name, step))
                    .into_iter()
                    .collect();
            }
            // Someone else deleted it first: what the user wanted is done,
            // and the list must stop showing it.
            Purpose::Delete(name) if e.kind == ErrorKind::NotFound => {
                if matches!(&self.state.dialog, Some(Dialog::Delete(d)) if d.name == name) {
                    self.state.dialog = None;
                }
                self.info(format!(
                    "'{name}' was already deleted, by someone else or another session."
                ));
                self.remove_row(&name);
                self.state.deleted.loaded = false;
                return vec![self.list_call()];
            }
            Purpose::DeletePolicy(name) | Purpose::Delete(name) => match &mut self.state.dialog {
                Some(Dialog::Delete(d)) if d.name == name => {
                    d.busy = false;
                    d.error = Some(format!("Not deleted: {msg}"));
                }
                _ if !refused => self.error(msg),
                _ => {}
            },
            Purpose::ListDeleted => {
                self.state.deleted.load_error = Some(msg.clone());
                if !refused {
                    self.error(format!("{msg} {}", advice::next_step(e.kind)));
                }
            }
            Purpose::Restore(name) => {
                if !refused {
                    self.error(format!("Could not restore '{name}': {msg}"));
                }
            }
            // Answered by `on_history_reply` above.
            Purpose::Versions(_) | Purpose::VersionValue(..) | Purpose::Rollback(_) => {}
            Purpose::Bind(name, _) | Purpose::Unbind(name, _) => match &mut self.state.dialog {
                Some(Dialog::Bind(b)) if b.name == name => {
                    b.busy = false;
                    b.error = Some(msg);
                }
                _ if !refused => self.error(msg),
                _ => {}
            },
        }
        Vec::new()
    }

    /// Records that the details of `name` (the selected secret if `None`)
    /// are not coming, unless they are already known, with the key that
    /// helps: `r` does not where the namespace or the token is refused.
    fn details_not_loaded(&mut self, name: Option<String>, why: &str, kind: ErrorKind) {
        let next = advice::next_step(kind);
        let s = &mut self.state.secrets;
        let Some(name) = name.or_else(|| s.selected_name().map(str::to_owned)) else {
            return;
        };
        if !s.details.contains_key(&name) {
            s.details_error = Some((name, format!("{why} {next}")));
        }
    }

    fn cache_details(&mut self, mut d: Details) {
        d.value = None;
        let s = &mut self.state.secrets;
        if s.details_error.as_ref().is_some_and(|(n, _)| *n == d.name) {
            s.details_error = None;
        }
        self.state.secrets.details.insert(d.name.clone(), d);
    }

    fn fit_bind_list(&mut self, name: &str) {
        let len = self
            .state
            .secrets
            .details
            .get(name)
            .map_or(0, |d| d.bound_service_accounts.len());
        let page = super::layout::bind_list_rows(self.state.size);
        if let Some(Dialog::Bind(b)) = &mut self.state.dialog
            && b.name == name
        {
            b.nav.fit(len, page);
        }
    }

    /// Shows a just-created or restored secret at once, before the list
    /// reload confirms it.
    /// Adds a secret the user just made and selects it, clearing a filter
    /// that would hide it; false if it had to.
    fn add_row(&mut self, name: &str) -> bool {
        let s = &mut self.state.secrets;
        if !s.rows.iter().any(|r| r.name == name) {
            s.rows.push(SecretRow {
                name: name.to_owned(),
                created: Some(self.state.now),
                last_changed: Some(self.state.now),
            });
            super::secrets::sort_rows(s);
            super::filter::apply_filter(s);
        }
        let shown = s.visible.iter().any(|&i| s.rows[i].name == name);
        if !shown {
            s.filter.clear();
            s.filtering = false;
            super::filter::apply_filter(s);
        }
        self.select_name(name);
        shown
    }

    fn remove_row(&mut self, name: &str) {
        let s = &mut self.state.secrets;
        s.rows.retain(|r| r.name != name);
        s.details.remove(name);
        s.hide(name);
        super::filter::apply_filter(s);
        let page = self.page();
        let len = self.state.secrets.visible.len();
        self.state.secrets.nav.fit(len, page);
    }
}
