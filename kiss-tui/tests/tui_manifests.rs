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
