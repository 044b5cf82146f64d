//! The copy menu: the value, the AWS name, or a manifest that consumes the
//! secret, to the clipboard.

use crossterm::event::KeyCode;

use super::App;
use super::action::{Call, Details, Effect, Sensitive};
use super::keymap::{Binding, bind, ch, key};
use super::nav::{ListNav, Move, moves};
use super::state::{Dialog, Purpose};
use crate::manifests;

/// Something that can be copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyItem {
    /// The secret's value.
    Value,
    /// Its AWS name.
    AwsName,
    /// An `external-secrets.io/v1` ExternalSecret.
    ExternalSecret,
    /// A `kubernetes-client.io/v1` ExternalSecret (legacy operator).
    ExternalSecretLegacy,
    /// A Secrets Store CSI SecretProviderClass.
    SecretProviderClass,
    /// An ExternalSecret with one entry per key of a JSON secret.
    ExternalSecretKeys,
    /// An ExternalSecret taking every key of a JSON secret (`dataFrom`).
    ExternalSecretExtract,
    /// A SecretProviderClass with one file per key (`jmesPath`).
    SecretProviderClassKeys,
}

impl CopyItem {
    /// Every item, in menu order, with its key.
    pub const MENU: [(char, CopyItem); 8] = [
        ('v', CopyItem::Value),
        ('a', CopyItem::AwsName),
        ('e', CopyItem::ExternalSecret),
        ('p', CopyItem::ExternalSecretKeys),
        ('x', CopyItem::ExternalSecretExtract),
        ('l', CopyItem::ExternalSecretLegacy),
        ('c', CopyItem::SecretProviderClass),
        ('f', CopyItem::SecretProviderClassKeys),
    ];

    /// Whether making it needs the value (the keys of a JSON secret).
    pub fn needs_value(self) -> bool {
        matches!(
            self,
            CopyItem::Value | CopyItem::ExternalSecretKeys | CopyItem::SecretProviderClassKeys
        )
    }

    /// What the key tables call it, a few words.
    pub fn short(self) -> &'static str {
        match self {
            CopyItem::Value => "value",
            CopyItem::AwsName => "AWS name",
            CopyItem::ExternalSecret => "ExternalSecret (external-secrets.io)",
            CopyItem::ExternalSecretLegacy => "ExternalSecret (legacy kubernetes-client.io)",
            CopyItem::SecretProviderClass => "SecretProviderClass (CSI)",
            CopyItem::ExternalSecretKeys => "ExternalSecret, one entry per JSON key",
            CopyItem::ExternalSecretExtract => "ExternalSecret, every JSON key (dataFrom)",
            CopyItem::SecretProviderClassKeys => "SecretProviderClass, one file per JSON key",
        }
    }

    /// What the menu and the message call it.
    pub fn label(self) -> &'static str {
        match self {
            CopyItem::Value => "value",
            CopyItem::AwsName => "AWS secret name",
            CopyItem::ExternalSecret => "ExternalSecret (external-secrets.io/v1)",
            CopyItem::ExternalSecretLegacy => "ExternalSecret (kubernetes-client.io/v1, legacy)",
            CopyItem::SecretProviderClass => "SecretProviderClass (Secrets Store CSI, AWS)",
            CopyItem::ExternalSecretKeys => "ExternalSecret, one entry per key (property)",
            CopyItem::ExternalSecretExtract => "ExternalSecret, every key (dataFrom.extract)",
            CopyItem::SecretProviderClassKeys => "SecretProviderClass, a file per key (jmesPath)",
        }
    }
}

/// The copy menu.
#[derive(Debug, Clone)]
pub struct CopyMenu {
    /// The secret.
    pub name: String,
    /// The highlighted item.
    pub nav: ListNav,
}

/// What a key does in the copy menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyCmd {
    /// Move the highlight.
    Move(Move),
    /// Copy the highlighted item.
    CopyHighlighted,
    /// Copy this item.
    Copy(CopyItem),
    /// Close the menu.
    Close,
}

/// The copy menu's keys: one letter per item of [`CopyItem::MENU`], which
/// the menu draws too.
pub fn keys() -> Vec<Binding<CopyCmd>> {
    let mut rows: Vec<Binding<CopyCmd>> = CopyItem::MENU
        .iter()
        .map(|(c, item)| {
            bind(
                &c.to_string(),
                item.short(),
                true,
                &[ch(*c)],
                CopyCmd::Copy(*item),
            )
        })
        .collect();
    rows.extend(moves(false, false, CopyCmd::Move));
    rows.extend([
        Binding {
            label: "j/k".into(),
            what: "move",
            footer: false,
            short: None,
            brief: None,
            pinned: false,
            keys: vec![
                (ch('j'), CopyCmd::Move(Move::Down)),
                (ch('k'), CopyCmd::Move(Move::Up)),
            ],
        },
        bind(
            "Enter",
            "copy the highlighted item",
            false,
            &[key(KeyCode::Enter)],
            CopyCmd::CopyHighlighted,
        ),
        bind(
            "q/Esc",
            "close",
            true,
            &[ch('q'), key(KeyCode::Esc)],
            CopyCmd::Close,
        )
        .short("Esc")
        .pinned(),
    ]);
    rows
}

impl App {
    pub(super) fn on_copy(&mut self, cmd: CopyCmd) -> Vec<Effect> {
        let Some(Dialog::Copy(menu)) = &mut self.state.dialog else {
            return Vec::new();
        };
        let len = CopyItem::MENU.len();
        let item = match cmd {
            CopyCmd::Move(m) => {
                menu.nav.apply(m, len, len);
                return Vec::new();
            }
            CopyCmd::Close => {
                self.state.dialog = None;
                return Vec::new();
            }
            CopyCmd::CopyHighlighted => CopyItem::MENU[menu.nav.selected.min(len - 1)].1,
            CopyCmd::Copy(item) => item,
        };
        let name = menu.name.clone();
        self.state.dialog = None;
        self.copy(name, item)
    }

    /// Copies an item, first loading what it needs when it is not known.
    fn copy(&mut self, name: String, item: CopyItem) -> Vec<Effect> {
        if item == CopyItem::Value {
            if let Some((n, v)) = &self.state.secrets.revealed
                && *n == name
            {
                let v = v.clone();
                self.copying_value(&v);
                return vec![copy_effect(&name, item, v)];
            }
        } else if let Some(d) = self.state.secrets.details.get(&name) {
            // The keys come from the value, if it is shown already.
            let mut d = d.clone();
            if let Some((n, v)) = &self.state.secrets.revealed
                && *n == name
            {
                d.value = Some(v.clone());
            }
            if !item.needs_value() || d.value.is_some() {
                return self.copy_made(item, &d);
            }
        }
        let namespace = self.ns();
        vec![self.call(
            Purpose::Copy(name.clone(), item),
            Call::GetSecret {
                namespace,
                name,
                include_value: item.needs_value(),
            },
        )]
    }

    /// Finishes a copy once the details (and value) arrived.
    pub(super) fn copy_loaded(&mut self, item: CopyItem, d: &Details) -> Vec<Effect> {
        self.copy_made(item, d)
    }

    fn copy_made(&mut self, item: CopyItem, d: &Details) -> Vec<Effect> {
        match self.copy_text(item, d) {
            Ok(text) => {
                if item == CopyItem::Value {
                    self.copying_value(&text);
                }
                vec![copy_effect(&d.name, item, text)]
            }
            Err(why) => {
                self.error(why);
                Vec::new()
            }
        }
    }

    fn copy_text(&self, item: CopyItem, d: &Details) -> Result<Sensitive, String> {
        let ns = self.ns();
        let keys = || -> Result<Vec<String>, String> {
            let value = d.value.as_ref().map(|v| v.expose()).unwrap_or_default();
            let object = crate::keyvalue::KeyValues::from_json(value).map_err(|_| {
                format!(
                    "'{}' is not a JSON object, so it has no keys: copy the ExternalSecret (e) or the SecretProviderClass (c) instead.",
                    d.name
                )
            })?;
            Ok(object.keys().map(str::to_owned).collect())
        };
        Ok(Sensitive(match item {
            CopyItem::ExternalSecretKeys => {
                let keys = keys()?;
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                manifests::external_secret_keys(&ns, &d.name, &d.aws_name, &keys)
            }
            CopyItem::ExternalSecretExtract => {
                // Where the value is known, say so if it has no keys.
                if d.value.is_some() {
                    keys()?;
                }
                manifests::external_secret_extract(&ns, &d.name, &d.aws_name)
            }
            CopyItem::SecretProviderClassKeys => {
                let keys = keys()?;
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                manifests::secret_provider_class_keys(&ns, &d.name, &d.aws_name, &keys)
            }
            CopyItem::Value => d.value.as_ref().map(|v| v.0.clone()).unwrap_or_default(),
            CopyItem::AwsName => d.aws_name.clone(),
            CopyItem::ExternalSecret => manifests::external_secret(&ns, &d.name, &d.aws_name),
            CopyItem::ExternalSecretLegacy => {
                manifests::external_secret_legacy(&ns, &d.name, &d.aws_name)
            }
            CopyItem::SecretProviderClass => {
                manifests::secret_provider_class(&ns, &d.name, &d.aws_name)
            }
        }))
    }
}

fn copy_effect(name: &str, item: CopyItem, text: Sensitive) -> Effect {
    let what = match item {
        CopyItem::Value => format!("the value of '{name}'"),
        CopyItem::AwsName => format!("the AWS name of '{name}'"),
        other => {
            let label = other.label();
            let article = if label.starts_with(['A', 'E', 'I', 'O', 'U']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {label} for '{name}'")
        }
    };
    Effect::Copy { what, text }
}
