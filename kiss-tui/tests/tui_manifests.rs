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
