//! The verb table of `--authorization kubernetes`, as kiss.proto's "RBAC:"
//! comments and docs/authorization.md give it, is the server's mapping
//! ([`attributes`]) for every RPC.

use std::collections::BTreeMap;
use std::path::Path;

use kiss_proto::Rpc;
use kiss_server::cluster::review::attributes;

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `verb secrets[/sub]`, or `none`, as the comments and docs write it.
fn written(rpc: Rpc, reads_value: bool) -> String {
    match attributes(rpc, reads_value) {
        None => "none".into(),
        Some((verb, None)) => format!("{verb} secrets"),
        Some((verb, Some(sub))) => format!("{verb} secrets/{sub}"),
    }
}

/// The "RBAC:" line of the comment right above each `rpc Name(` line.
fn proto_lines() -> BTreeMap<String, String> {
    let proto = read("kiss-proto/proto/kiss.proto");
    let mut out = BTreeMap::new();
    let mut comment: Vec<&str> = Vec::new();
    for line in proto.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("//") {
            comment.push(text.trim());
            continue;
        }
        if let Some(rest) = line.strip_prefix("rpc ") {
            let name = rest.split('(').next().unwrap().trim().to_string();
            let rbac: Vec<&str> = comment
                .iter()
                .filter_map(|c| c.strip_prefix("RBAC: "))
                .collect();
            assert_eq!(
                rbac.len(),
                1,
                "kiss.proto: rpc {name} needs exactly one '// RBAC: ...' line in its comment"
            );
            out.insert(name, rbac[0].trim_end_matches('.').to_string());
        }
        comment.clear();
    }
    out
}

#[test]
fn the_protos_rbac_comments_are_the_servers_mapping() {
    let lines = proto_lines();
    assert_eq!(
        lines.len(),
        Rpc::ALL.len(),
        "kiss.proto's service and Rpc::ALL differ"
    );
    for rpc in Rpc::ALL {
        let line = lines
            .get(rpc.name())
            .unwrap_or_else(|| panic!("kiss.proto has no rpc {}", rpc.name()));
        let plain = written(rpc, false);
        let with_value = written(rpc, true);
        let expected = if plain == with_value {
            plain
        } else {
            format!("{plain}; with include_value: {with_value}")
        };
        if expected == "none" {
            assert!(
                line == "none" || line.starts_with("none ("),
                "kiss.proto, rpc {}: 'RBAC: {line}', but the server asks for no review",
                rpc.name()
            );
        } else {
            assert_eq!(
                line,
                &expected,
                "kiss.proto, rpc {}: the RBAC comment differs from review::attributes",
                rpc.name()
            );
        }
    }
}

#[test]
fn the_docs_verb_table_is_the_servers_mapping() {
    let docs = read("docs/authorization.md");
    let table = docs
        .split("| RPC | verb | subresource |\n|---|---|---|\n")
        .nth(1)
        .expect("docs/authorization.md has no '| RPC | verb | subresource |' table");
    let mut seen = Vec::new();
    for row in table.lines().take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let [rpcs, verbs, subresource] = cells[..] else {
            panic!("docs/authorization.md: a row without three cells: {row}");
        };
        let (rpcs, reads_value) = match rpcs.strip_suffix(" with its value") {
            Some(r) => (r, true),
            None => (rpcs, false),
        };
        // "A / B" pairs with "`x` / `y`"; "A, B" all share one verb.
        let groups: Vec<&str> = rpcs.split(" / ").collect();
        let verbs: Vec<&str> = verbs.split(" / ").map(|v| v.trim_matches('`')).collect();
        let subresource = subresource.trim_matches('`');
        for (i, group) in groups.iter().enumerate() {
            for name in group.split(", ") {
                let rpc = Rpc::ALL
                    .into_iter()
                    .find(|r| r.name() == name)
                    .unwrap_or_else(|| panic!("docs/authorization.md: no RPC named {name}"));
                let got = attributes(rpc, reads_value);
                if verbs[0].starts_with("none") {
                    assert_eq!(
                        got, None,
                        "docs: {name} needs no review, the server says {got:?}"
                    );
                } else {
                    let verb = verbs.get(i).unwrap_or(&verbs[0]);
                    let sub = (!subresource.is_empty()).then_some(subresource);
                    assert_eq!(
                        got,
                        Some((*verb, sub)),
                        "docs/authorization.md's row for {name} (value: {reads_value})"
                    );
                }
                seen.push((rpc, reads_value));
            }
        }
    }
    for rpc in Rpc::ALL {
        assert!(
            seen.contains(&(rpc, false)),
            "docs/authorization.md's verb table has no row for {}",
            rpc.name()
        );
        if attributes(rpc, true) != attributes(rpc, false) {
            assert!(
                seen.contains(&(rpc, true)),
                "docs/authorization.md's verb table has no 'with its value' row for {}",
                rpc.name()
            );
        }
    }
}
