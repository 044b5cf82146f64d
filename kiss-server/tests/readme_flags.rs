//! The README's kiss-server flag tables against the flags the binary really
//! takes: every flag it documents exists with the environment variable it
//! names and, where it names a single literal default, that default; and no
//! flag of the binary is left out of the tables.

use std::collections::BTreeSet;

use clap::CommandFactory;
use kiss_server::config::Config;

/// One documented flag: its long name, the env var the row names for it,
/// and the default cell when that is one literal in backticks.
#[derive(Debug)]
struct Row {
    line: usize,
    flags: Vec<String>,
    envs: Vec<String>,
    default: Option<String>,
}

/// The text between backticks, in order.
fn quoted(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The rows of the tables under "## Running kiss-server".
fn readme_rows() -> Vec<Row> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md next to the workspace");
    let mut in_section = false;
    let mut rows = Vec::new();
    for (index, line) in readme.lines().enumerate() {
        if line.starts_with("## ") {
            in_section = line == "## Running kiss-server";
            continue;
        }
        if !in_section || !line.starts_with("| `--") {
            continue;
        }
        let cells: Vec<&str> = line.split(" | ").collect();
        let (flag_cell, default_cell) = (cells[0], cells.get(1).copied().unwrap_or(""));
        let (names, envs) = flag_cell.split_once('[').unwrap_or((flag_cell, ""));
        let flags = quoted(names)
            .iter()
            .filter_map(|f| f.strip_prefix("--"))
            .map(|f| f.split_whitespace().next().unwrap_or(f).to_owned())
            .collect();
        let default = match quoted(default_cell).as_slice() {
            [one] if default_cell.trim() == format!("`{one}`") => Some(one.clone()),
            _ => None,
        };
        rows.push(Row {
            line: index + 1,
            flags,
            envs: quoted(envs),
            default,
        });
    }
    rows
}

#[test]
fn every_documented_flag_exists_with_its_env_and_default() {
    let command = Config::command();
    let rows = readme_rows();
    assert!(rows.len() > 30, "the flag tables were not found: {rows:?}");
    for row in &rows {
        for (i, flag) in row.flags.iter().enumerate() {
            let arg = command
                .get_arguments()
                .find(|a| a.get_long() == Some(flag))
                .unwrap_or_else(|| panic!("README line {}: kiss-server has no --{flag}", row.line));
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert_eq!(
                env.as_ref(),
                row.envs.get(i),
                "README line {}: the env var of --{flag}",
                row.line
            );
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            if let (Some(documented), false) = (&row.default, defaults.is_empty()) {
                assert_eq!(
                    &defaults.join(","),
                    documented,
                    "README line {}: the default of --{flag}",
                    row.line
                );
            }
        }
    }
}

#[test]
fn every_flag_of_the_binary_is_documented() {
    let documented: BTreeSet<String> = readme_rows().into_iter().flat_map(|r| r.flags).collect();
    let missing: Vec<String> = Config::command()
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .filter(|long| !["help", "version"].contains(long))
        .filter(|long| !documented.contains(*long))
        .map(|long| format!("--{long}"))
        .collect();
    assert!(
        missing.is_empty(),
        "flags missing from README's tables: {missing:?}"
    );
}
