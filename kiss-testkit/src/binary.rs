//! Where the binaries under test are, built from the sources as they are now.
//!
//! A test in the binary's own package gets it from cargo (`CARGO_BIN_EXE_*`,
//! built before the test runs). A test in another package cannot, and a
//! binary found lying in `target/` may be older than its sources; so there
//! the binary is built with `cargo build -p <package> --bin <bin>`, once per
//! test process, into the test's own target directory and profile. Cargo's
//! own fingerprints decide whether anything needs rebuilding, which is the
//! only freshness check that knows about features, dependencies and flags;
//! when nothing changed it costs a second.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The path of binary `$bin` of package `$package`, current with its
/// sources: cargo's `CARGO_BIN_EXE_<bin>` when the calling test belongs to
/// that package, else built once per process (see [`binary_path`]).
///
/// ```ignore
/// let server = kiss_testkit::binary!("kiss-server", "kiss-server");
/// ```
#[macro_export]
macro_rules! binary {
    ($package:literal, $bin:literal) => {
        $crate::binary_path(
            ::std::option_env!(::std::concat!("CARGO_BIN_EXE_", $bin)),
            $package,
            $bin,
        )
    };
}

/// What [`binary!`] expands to: `built_by_cargo` when cargo built the binary
/// for this test, otherwise `cargo build -p package --bin bin` (once per
/// process and binary) and the executable cargo reports.
pub fn binary_path(built_by_cargo: Option<&str>, package: &str, bin: &str) -> PathBuf {
    if let Some(path) = built_by_cargo {
        return PathBuf::from(path);
    }
    static BUILT: Mutex<BTreeMap<(String, String), PathBuf>> = Mutex::new(BTreeMap::new());
    // Held while building, so parallel tests wait for one build instead of
    // racing cargo against itself.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    built
        .entry((package.to_owned(), bin.to_owned()))
        .or_insert_with(|| cargo_build(package, bin))
        .clone()
}

/// `target/` and the profile directory (`debug`, `release`, ...) the running
/// test was built into: `<target>/<profile>/deps/<test>`.
fn target_and_profile() -> (PathBuf, String) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from <target>/<profile>/deps");
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug")
        .to_owned();
    let target = profile_dir
        .parent()
        .expect("the profile directory is inside the target directory")
        .to_path_buf();
    (target, profile)
}

fn cargo_build(package: &str, bin: &str) -> PathBuf {
    let (target, profile_dir) = target_and_profile();
    // Cargo names the dev profile's directory `debug`.
    let profile = if profile_dir == "debug" {
        "dev"
    } else {
        profile_dir.as_str()
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(crate::repo_root())
        .args(["build", "--quiet", "--message-format=json"])
        .args(["-p", package, "--bin", bin, "--profile", profile])
        .arg("--target-dir")
        .arg(&target)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("could not run {cargo:?} to build {bin}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "`cargo build -p {package} --bin {bin}` failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|m| m["message"]["rendered"].as_str().map(str::to_owned))
            .collect::<String>()
    );
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == bin)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo built no executable named {bin}"))
}
