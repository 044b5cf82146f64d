//! The RBAC manifests shipped in kiss-server/deploy's authorization
//! components are the ones docs/authorization.md shows, word for word, and
//! the user roles grant what the `kubernetes` mode asks for.

use std::path::{Path, PathBuf};

use kiss_proto::Rpc;
use kiss_server::cluster::review::attributes;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The YAML documents of `text`, full-line comments dropped, each trimmed.
fn documents(text: &str) -> Vec<String> {
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    kept.join("\n")
        .split("\n---")
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// Every YAML document in the ```yaml blocks of a Markdown file.
fn doc_documents(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + "```yaml\n".len()..];
        let end = body.find("```").expect("an unclosed ```yaml block");
        out.extend(documents(&body[..end]));
        rest = &body[end + 3..];
    }
    out
}

const RBAC_FILES: [&str; 3] = [
    "kiss-server/deploy/kubernetes-authz/server-rbac.yaml",
    "kiss-server/deploy/kubernetes-authz/user-roles.yaml",
    "kiss-server/deploy/rolebinding-authz/server-rbac.yaml",
];

fn is_cluster_rbac(doc: &str) -> bool {
    doc.lines()
        .any(|l| l == "kind: ClusterRole" || l == "kind: ClusterRoleBinding")
}

#[test]
fn the_docs_show_the_components_rbac_manifests_exactly() {
    let docs = doc_documents(&read("docs/authorization.md"));
    let mut shipped = Vec::new();
    for file in RBAC_FILES {
        for doc in documents(&read(file)) {
            assert!(
                docs.contains(&doc),
                "{file}: this document is not in docs/authorization.md as it is in the file \
                 (copy it there, without the comments):\n{doc}"
            );
            shipped.push(doc);
        }
    }
    for doc in docs.iter().filter(|d| is_cluster_rbac(d)) {
        assert!(
            shipped.contains(doc),
            "docs/authorization.md shows a ClusterRole(Binding) that no file in \
             kiss-server/deploy ships (or ships differently):\n{doc}"
        );
    }
    // The component kustomizations list the files, so they are applied.
    for (component, files) in [
        (
            "kubernetes-authz",
            &["server-rbac.yaml", "user-roles.yaml"][..],
        ),
        ("rolebinding-authz", &["server-rbac.yaml"][..]),
    ] {
        let k = read(&format!(
            "kiss-server/deploy/{component}/kustomization.yaml"
        ));
        for f in files {
            assert!(
                k.contains(&format!("  - {f}\n")),
                "{component}/kustomization.yaml does not list {f}"
            );
        }
    }
}

/// The (resource, verb) pairs a ClusterRole in user-roles.yaml grants, from
/// its flow-style `resources: [...]` / `verbs: [...]` lines.
fn grants(role: &str) -> Vec<(String, String)> {
    let text = read("kiss-server/deploy/kubernetes-authz/user-roles.yaml");
    let doc = documents(&text)
        .into_iter()
        .find(|d| d.contains(&format!("\n  name: {role}\n")))
        .unwrap_or_else(|| panic!("user-roles.yaml has no ClusterRole {role}"));
    let list = |line: &str| -> Vec<String> {
        let inner = line.split_once('[').unwrap().1.rsplit_once(']').unwrap().0;
        inner
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .collect()
    };
    let mut out = Vec::new();
    let mut resources = Vec::new();
    for line in doc.lines().map(str::trim) {
        if let Some(groups) = line.strip_prefix("- apiGroups:") {
            assert_eq!(groups.trim(), r#"["kiss.kaluza.com"]"#, "{role}: {line}");
        } else if line.starts_with("resources:") {
            resources = list(line);
        } else if line.starts_with("verbs:") {
            for r in &resources {
                for v in list(line) {
                    out.push((r.clone(), v));
                }
            }
        } else if line.starts_with("resourceNames:") {
            panic!("{role}: a shipped role names no single secrets");
        }
    }
    out
}

fn needed(rpc: Rpc, reads_value: bool) -> Option<(String, String)> {
    attributes(rpc, reads_value).map(|(verb, sub)| {
        let resource = match sub {
            Some(s) => format!("secrets/{s}"),
            None => "secrets".to_string(),
        };
        (resource, verb.to_string())
    })
}

#[test]
fn kiss_secrets_edit_allows_every_rpc_and_view_only_lists_and_details() {
    let edit = grants("kiss-secrets-edit");
    let view = grants("kiss-secrets-view");
    for rpc in Rpc::ALL {
        for reads_value in [false, true] {
            let Some(need) = needed(rpc, reads_value) else {
                continue;
            };
            assert!(
                edit.contains(&need),
                "kiss-secrets-edit lacks {need:?} for {rpc:?}"
            );
            let read_only = need.0 == "secrets" && (need.1 == "get" || need.1 == "list");
            assert_eq!(
                view.contains(&need),
                read_only,
                "kiss-secrets-view and {need:?} ({rpc:?}, value: {reads_value})"
            );
        }
    }
    // kiss-secrets-view grants nothing else (kiss-secrets-edit is meant to
    // grant everything on the resource, including verbs no RPC needs yet).
    let mut view_sorted = view.clone();
    view_sorted.sort();
    let s = |r: &str, v: &str| (r.to_string(), v.to_string());
    assert_eq!(view_sorted, [s("secrets", "get"), s("secrets", "list")]);
    let labels = read("kiss-server/deploy/kubernetes-authz/user-roles.yaml");
    assert!(
        !labels.contains("aggregate-to-view"),
        "nothing aggregates into view"
    );
    let edit_doc = documents(&labels)
        .into_iter()
        .find(|d| d.contains("name: kiss-secrets-edit"))
        .unwrap();
    for label in ["aggregate-to-edit", "aggregate-to-admin"] {
        assert!(
            edit_doc.contains(&format!("rbac.authorization.k8s.io/{label}: \"true\"")),
            "kiss-secrets-edit is not labelled {label}"
        );
    }
}

/// The AWS actions the server's code calls (each wrapped in `AwsFailure::new`).
fn actions_called() -> Vec<String> {
    let mut files = vec![repo().join("kiss-server/src/store/aws.rs")];
    let dir = repo().join("kiss-server/src/store/aws");
    for entry in std::fs::read_dir(&dir).unwrap() {
        files.push(entry.unwrap().path());
    }
    let mut actions = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("AwsFailure::new(") {
            let rest = text[at + "AwsFailure::new(".len()..].trim_start();
            if let Some(quoted) = rest.strip_prefix('"')
                && let Some(end) = quoted.find('"')
            {
                actions.push(quoted[..end].to_owned());
            }
        }
    }
    actions.sort();
    actions.dedup();
    actions
}

#[test]
fn the_documented_server_policy_allows_every_aws_action_the_server_calls() {
    let doc = read("docs/aws.md");
    let start = doc
        .find("## The server's IAM policy")
        .expect("docs/aws.md has the server's policy");
    let block = &doc[start..];
    let policy = &block[..block[3..].find("\n```\n").unwrap_or(block.len() - 3) + 3];
    // What only --source-identity-role-arn calls is granted in its section.
    let per_caller = doc
        .find("\"Sid\": \"KissActsAsItsCallers\"")
        .map(|at| &doc[at..at + doc[at..].find('}').unwrap_or(0)])
        .unwrap_or_default();
    assert!(
        per_caller.contains("\"sts:SetSourceIdentity\""),
        "{per_caller}"
    );
    let actions = actions_called();
    assert!(actions.len() > 15, "{actions:?}");
    let missing: Vec<&String> = actions
        .iter()
        .map(|a| (a, format!("\"{a}\"")))
        .filter(|(_, quoted)| !policy.contains(quoted) && !per_caller.contains(quoted))
        .map(|(a, _)| a)
        .collect();
    assert!(
        missing.is_empty(),
        "docs/aws.md's server policy does not allow {missing:?}"
    );
}
