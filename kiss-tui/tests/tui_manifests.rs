//! The manifests the copy menu puts on the clipboard, as users will paste them.

use kiss_tui::manifests;

#[test]
fn external_secret() {
    insta::assert_snapshot!(manifests::external_secret(
        "team-a",
        "db-password",
        "k8s-secret-team-a-db-password"
    ));
}

#[test]
fn external_secret_legacy() {
    insta::assert_snapshot!(manifests::external_secret_legacy(
        "team-a",
        "db-password",
        "k8s-secret-team-a-db-password"
    ));
}

#[test]
fn secret_provider_class() {
    insta::assert_snapshot!(manifests::secret_provider_class(
        "team-a",
        "db-password",
        "k8s-secret-team-a-db-password"
    ));
}

const KEYS: &[&str] = &["username", "db-password", "port", "tls.crt", "has space"];

#[test]
fn external_secret_one_entry_per_key() {
    insta::assert_snapshot!(manifests::external_secret_keys(
        "team-a",
        "db",
        "k8s-secret-team-a-db",
        KEYS
    ));
}

#[test]
fn external_secret_every_key() {
    insta::assert_snapshot!(manifests::external_secret_extract(
        "team-a",
        "db",
        "k8s-secret-team-a-db"
    ));
}

#[test]
fn secret_provider_class_one_file_per_key() {
    insta::assert_snapshot!(manifests::secret_provider_class_keys(
        "team-a",
        "db",
        "k8s-secret-team-a-db",
        KEYS
    ));
}

#[test]
fn jmes_paths_quote_what_is_not_an_identifier() {
    assert_eq!(manifests::jmes_path("username"), "username");
    assert_eq!(manifests::jmes_path("db_password2"), "db_password2");
    assert_eq!(manifests::jmes_path("db-password"), "\"db-password\"");
    assert_eq!(manifests::jmes_path("2fa"), "\"2fa\"");
    assert_eq!(manifests::jmes_path("tls.crt"), "\"tls.crt\"");
}

/// The manifests are YAML a parser reads back to what was meant: the
/// per-key paths survive the YAML-inside-YAML of `objects`.
#[test]
fn the_per_key_manifests_parse_as_meant() {
    let spc: serde_json::Value = serde_saphyr::from_str(&manifests::secret_provider_class_keys(
        "team-a",
        "db",
        "k8s-secret-team-a-db",
        KEYS,
    ))
    .unwrap();
    let objects: serde_json::Value =
        serde_saphyr::from_str(spc["spec"]["parameters"]["objects"].as_str().unwrap()).unwrap();
    let paths: Vec<(&str, &str)> = objects[0]["jmesPath"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap(),
                p["objectAlias"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        paths,
        [
            ("username", "username"),
            ("\"db-password\"", "db-password"),
            ("port", "port"),
            ("\"tls.crt\"", "tls.crt"),
        ]
    );
    let es: serde_json::Value = serde_saphyr::from_str(&manifests::external_secret_keys(
        "team-a",
        "db",
        "k8s-secret-team-a-db",
        KEYS,
    ))
    .unwrap();
    let data = es["spec"]["data"].as_array().unwrap();
    assert_eq!(data.len(), 4, "the key with a space is left out");
    assert_eq!(data[1]["secretKey"], "db-password");
    assert_eq!(data[1]["remoteRef"]["property"], "db-password");
    assert_eq!(data[1]["remoteRef"]["key"], "k8s-secret-team-a-db");
    let extract: serde_json::Value = serde_saphyr::from_str(&manifests::external_secret_extract(
        "team-a",
        "db",
        "k8s-secret-team-a-db",
    ))
    .unwrap();
    assert_eq!(
        extract["spec"]["dataFrom"][0]["extract"]["key"],
        "k8s-secret-team-a-db"
    );
}

/// The manifests as the validator takes them: JSON, and a
/// SecretProviderClass's `objects` parameter parsed under `objectsParsed`.
fn for_validator(yaml: &str) -> serde_json::Value {
    let mut m: serde_json::Value = serde_saphyr::from_str(yaml).unwrap();
    if m["kind"] == "SecretProviderClass" {
        let objects: serde_json::Value =
            serde_saphyr::from_str(m["spec"]["parameters"]["objects"].as_str().unwrap()).unwrap();
        m["objectsParsed"] = objects;
    }
    m
}

/// Runs scripts/manifest-schemas/validate.mjs on `manifests`: external-
/// secrets' own schemas (from its CRDs, through kubernetes-models) and the
/// SecretProviderClass schema kept in that directory. None when node or
/// the installed schemas are missing (scripts/setup-test-env.sh installs
/// them); under CI=true that fails instead.
fn validate(test: &str, manifests: &[serde_json::Value]) -> Option<(bool, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/manifest-schemas");
    if !kiss_testkit::require_tool("node", "--version", test) {
        return None;
    }
    if !dir
        .join("node_modules/@kubernetes-models/external-secrets")
        .is_dir()
    {
        let why = "the schemas are not installed (scripts/setup-test-env.sh installs them)";
        assert!(std::env::var_os("CI").is_none(), "{test}: {why}");
        kiss_testkit::report_skip(test, why);
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("manifests.json");
    std::fs::write(&file, serde_json::to_vec(manifests).unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg(dir.join("validate.mjs"))
        .arg(&file)
        .output()
        .unwrap();
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    ))
}

#[test]
fn every_manifest_validates_against_its_crd_schema() {
    let (ns, name, aws) = ("team-a", "db", "k8s-secret-team-a-db");
    let manifests: Vec<serde_json::Value> = [
        manifests::external_secret(ns, name, aws),
        manifests::external_secret_keys(ns, name, aws, KEYS),
        manifests::external_secret_extract(ns, name, aws),
        manifests::secret_provider_class(ns, name, aws),
        manifests::secret_provider_class_keys(ns, name, aws, KEYS),
    ]
    .iter()
    .map(|m| for_validator(m))
    .collect();
    let Some((valid, report)) = validate(
        "every_manifest_validates_against_its_crd_schema",
        &manifests,
    ) else {
        return;
    };
    assert!(valid, "{report}");
    assert_eq!(report.matches(" valid").count(), 5, "{report}");

    // The validator can fail: a manifest missing what the schemas require.
    let mut broken = manifests[1].clone();
    broken["spec"]["data"][0]["remoteRef"]
        .as_object_mut()
        .unwrap()
        .remove("key");
    let mut spc = manifests[4].clone();
    spc["objectsParsed"][0]["jmesPath"][0]
        .as_object_mut()
        .unwrap()
        .remove("objectAlias");
    let (valid, report) = validate(
        "every_manifest_validates_against_its_crd_schema",
        &[broken, spc],
    )
    .unwrap();
    assert!(!valid, "{report}");
    assert_eq!(report.matches("INVALID").count(), 2, "{report}");
}
