//! The KISS methods by name: the one list that servers and clients use for
//! labels, spans, audit records and authorization. A test checks it against
//! the service in `kiss.proto`, so the two cannot drift apart.

/// One method of the `kiss.resources.KISS` service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rpc {
    /// Checks the token and namespace.
    Ping,
    /// Creates a secret.
    CreateSecret,
    /// Lists a namespace's secrets.
    ListSecrets,
    /// Deletes (schedules the deletion of) a secret.
    DeleteSecret,
    /// Stores a new value.
    UpdateSecret,
    /// Attaches the read policy to a ServiceAccount's role.
    BindSecret,
    /// Creates the read policy.
    CreateSecretIamPolicy,
    /// Deletes the read policy.
    DeleteSecretIamPolicy,
    /// Describes the caller.
    WhoAmI,
    /// Describes a secret, its value when asked.
    GetSecret,
    /// Lists secrets scheduled for deletion.
    ListDeletedSecrets,
    /// Detaches the read policy from a ServiceAccount's role.
    UnbindSecret,
    /// Cancels a scheduled deletion.
    RestoreSecret,
    /// Lists a secret's versions.
    ListSecretVersions,
    /// Makes an earlier version's value current again.
    RollbackSecret,
}

impl Rpc {
    /// Every method, in the order of the proto.
    pub const ALL: [Rpc; 15] = [
        Rpc::Ping,
        Rpc::CreateSecret,
        Rpc::ListSecrets,
        Rpc::DeleteSecret,
        Rpc::UpdateSecret,
        Rpc::BindSecret,
        Rpc::CreateSecretIamPolicy,
        Rpc::DeleteSecretIamPolicy,
        Rpc::WhoAmI,
        Rpc::GetSecret,
        Rpc::ListDeletedSecrets,
        Rpc::UnbindSecret,
        Rpc::RestoreSecret,
        Rpc::ListSecretVersions,
        Rpc::RollbackSecret,
    ];

    /// The method's name in the proto, e.g. `CreateSecretIAMPolicy`.
    pub const fn name(self) -> &'static str {
        match self {
            Rpc::Ping => "Ping",
            Rpc::CreateSecret => "CreateSecret",
            Rpc::ListSecrets => "ListSecrets",
            Rpc::DeleteSecret => "DeleteSecret",
            Rpc::UpdateSecret => "UpdateSecret",
            Rpc::BindSecret => "BindSecret",
            Rpc::CreateSecretIamPolicy => "CreateSecretIAMPolicy",
            Rpc::DeleteSecretIamPolicy => "DeleteSecretIAMPolicy",
            Rpc::WhoAmI => "WhoAmI",
            Rpc::GetSecret => "GetSecret",
            Rpc::ListDeletedSecrets => "ListDeletedSecrets",
            Rpc::UnbindSecret => "UnbindSecret",
            Rpc::RestoreSecret => "RestoreSecret",
            Rpc::ListSecretVersions => "ListSecretVersions",
            Rpc::RollbackSecret => "RollbackSecret",
        }
    }

    /// The HTTP/2 path the method is called at, `/kiss.resources.KISS/<name>`.
    pub fn path(self) -> String {
        format!("/{}/{}", crate::SERVICE_NAME, self.name())
    }

    /// The method called at `path`, if it is one of ours. Callers choose the
    /// path, so anything else never reaches a log line or a metric label.
    pub fn from_path(path: &str) -> Option<Rpc> {
        let method = path
            .strip_prefix('/')?
            .strip_prefix(crate::SERVICE_NAME)?
            .strip_prefix('/')?;
        Rpc::ALL.into_iter().find(|r| r.name() == method)
    }

    /// Whether the method may change AWS: such a call, once started, runs to
    /// its end whatever the client does, so its outcome is always recorded.
    pub const fn changes_state(self) -> bool {
        matches!(
            self,
            Rpc::CreateSecret
                | Rpc::DeleteSecret
                | Rpc::UpdateSecret
                | Rpc::BindSecret
                | Rpc::CreateSecretIamPolicy
                | Rpc::DeleteSecretIamPolicy
                | Rpc::UnbindSecret
                | Rpc::RestoreSecret
                | Rpc::RollbackSecret
        )
    }
}

impl std::fmt::Display for Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn the_list_is_the_service_in_the_proto() {
        let set = prost_types::FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).unwrap();
        let file = set
            .file
            .iter()
            .find(|f| f.package() == "kiss.resources")
            .unwrap();
        let service = file.service.iter().find(|s| s.name() == "KISS").unwrap();
        let in_proto: Vec<&str> = service.method.iter().map(|m| m.name()).collect();
        let ours: Vec<&str> = Rpc::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(ours, in_proto);
        assert_eq!(crate::SERVICE_NAME, format!("{}.KISS", file.package()));
    }

    #[test]
    fn only_our_paths_name_a_method() {
        assert_eq!(Rpc::from_path("/kiss.resources.KISS/Ping"), Some(Rpc::Ping));
        assert_eq!(
            Rpc::from_path(&Rpc::CreateSecretIamPolicy.path()),
            Some(Rpc::CreateSecretIamPolicy)
        );
        assert_eq!(Rpc::from_path("/kiss.resources.KISS/junk-0-aaaa"), None);
        assert_eq!(Rpc::from_path("/other.Service/Ping"), None);
        assert_eq!(Rpc::from_path("/kiss.resources.KISSPing"), None);
        assert_eq!(Rpc::from_path(""), None);
    }
}
