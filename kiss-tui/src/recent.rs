//! The namespaces used last, per server, kept in the user's state
//! directory (`$XDG_STATE_HOME/kiss/recent-namespaces.json`, else
//! `~/.local/state/kiss/…`), so `:ns` offers them first next time. Nothing
//! secret is kept: server addresses and namespace names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// How many namespaces are kept per server, and how many servers.
pub const PER_SERVER: usize = 10;
const SERVERS: usize = 50;

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// Server address → namespaces, the most recent first.
    servers: BTreeMap<String, Vec<String>>,
}

/// Where the file lives, if the platform has a state directory.
pub fn default_path() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("kiss").join("recent-namespaces.json"))
}

/// The namespaces used last on `server`, the most recent first; nothing if
/// the file is missing or unreadable (it is a convenience, never an error).
pub fn load(path: &Path, server: &str) -> Vec<String> {
    read(path).servers.remove(server).unwrap_or_default()
}

fn read(path: &Path) -> File {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Records `namespaces` (the most recent first) for `server`, keeping the
/// other servers' lists; written whole through a temporary file.
pub fn save(path: &Path, server: &str, namespaces: &[String]) -> std::io::Result<()> {
    let mut file = read(path);
    file.servers.insert(
        server.to_owned(),
        namespaces.iter().take(PER_SERVER).cloned().collect(),
    );
    while file.servers.len() > SERVERS {
        let Some(first) = file.servers.keys().next().cloned() else {
            break;
        };
        if first == server {
            break;
        }
        file.servers.remove(&first);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(&tmp, path)
}

/// `namespace` moved to the front of `recent`, which keeps [`PER_SERVER`].
pub fn used(recent: &mut Vec<String>, namespace: &str) {
    recent.retain(|n| n != namespace);
    recent.insert(0, namespace.to_owned());
    recent.truncate(PER_SERVER);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_server_keeps_its_own_recent_namespaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/kiss/recent-namespaces.json");
        assert!(load(&path, "a:443").is_empty());
        let mut recent = Vec::new();
        for ns in ["team-a", "team-b", "team-a"] {
            used(&mut recent, ns);
        }
        assert_eq!(recent, ["team-a", "team-b"]);
        save(&path, "a:443", &recent).unwrap();
        save(&path, "b:443", &["prod".to_owned()]).unwrap();
        assert_eq!(load(&path, "a:443"), ["team-a", "team-b"]);
        assert_eq!(load(&path, "b:443"), ["prod"]);
        for i in 0..20 {
            used(&mut recent, &format!("ns-{i}"));
        }
        assert_eq!(recent.len(), PER_SERVER);
        assert_eq!(recent[0], "ns-19");
        // A damaged file is no error: it is started again.
        std::fs::write(&path, b"{not json").unwrap();
        assert!(load(&path, "a:443").is_empty());
        save(&path, "a:443", &recent).unwrap();
        assert_eq!(load(&path, "a:443").len(), PER_SERVER);
    }
}
