//! Ready-to-paste Kubernetes manifests that consume a kiss secret: the
//! external-secrets operator (current and legacy forms) and the Secrets
//! Store CSI driver's AWS provider.
//!
//! Each manifest names the secret after the kiss secret, in its namespace.
//! Whatever the user must still decide (which secret store) is a
//! placeholder (`replace-with-your-secret-store`) under an `EDIT:`
//! comment, so it cannot be missed; it is a valid name, so the manifest
//! passes the CRD's schema and a store that does not exist shows in the
//! ExternalSecret's status rather than as a refused apply.

/// An `ExternalSecret` for the external-secrets operator
/// (`external-secrets.io/v1`, as current releases serve it), reading the AWS secret into a Kubernetes
/// Secret of the same name, under the key `value`.
pub fn external_secret(namespace: &str, name: &str, aws_name: &str) -> String {
    format!(
        "{}  data:\n    - secretKey: value\n      remoteRef:\n        key: \"{aws_name}\"\n",
        external_secret_head(namespace, name)
    )
}

/// An `ExternalSecret` for the legacy kubernetes-external-secrets operator
/// (`kubernetes-client.io/v1`), reading the AWS secret into a Kubernetes
/// Secret of the same name, under the key `value`.
pub fn external_secret_legacy(namespace: &str, name: &str, aws_name: &str) -> String {
    format!(
        r#"apiVersion: kubernetes-client.io/v1
kind: ExternalSecret
metadata:
  name: {name}
  namespace: {namespace}
spec:
  backendType: secretsManager
  # region: eu-west-1        # if the operator's default region differs
  # roleArn: arn:aws:iam::123456789012:role/...   # if the operator assumes a role
  data:
    - key: "{aws_name}"
      name: value
"#
    )
}

/// A `SecretProviderClass` for the Secrets Store CSI driver with the AWS
/// provider, mounting the secret as the file `<name>`. The pod's service
/// account must be bound to the secret (`b` in kiss-tui, or `kiss-tui bind`).
pub fn secret_provider_class(namespace: &str, name: &str, aws_name: &str) -> String {
    secret_provider_class_with(namespace, name, aws_name, "")
}

/// A SecretProviderClass mounting the secret as the file `<name>`, with
/// `more` (further lines of its one object) after its alias.
fn secret_provider_class_with(namespace: &str, name: &str, aws_name: &str, more: &str) -> String {
    format!(
        r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: {name}
  namespace: {namespace}
spec:
  provider: aws
  parameters:
    # region: eu-west-1      # if the secret is not in the cluster's region
    # The pod's ServiceAccount must be bound to this secret (kiss bind).
    objects: |
      - objectName: {aws}
        objectType: "secretsmanager"
        objectAlias: "{name}"
{more}"#,
        aws = quoted(aws_name),
    )
}

/// An `external-secrets.io/v1` ExternalSecret up to its `data`: the
/// store to edit, and the Kubernetes Secret it makes, named as the secret.
fn external_secret_head(namespace: &str, name: &str) -> String {
    format!(
        r#"apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {name}
  namespace: {namespace}
spec:
  refreshInterval: 1h
  secretStoreRef:
    # EDIT: the (Cluster)SecretStore that reads AWS Secrets Manager.
    kind: ClusterSecretStore
    name: replace-with-your-secret-store
  target:
    name: {name}
    creationPolicy: Owner
"#
    )
}

/// `text` as a YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The keys of a JSON secret a Kubernetes Secret can hold, and the others
/// (letters, digits, `-`, `_`, `.` only), which a manifest lists in a
/// comment rather than produce a Secret the API server refuses.
fn split_keys<'a>(keys: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>) {
    keys.iter()
        .copied()
        .partition(|k| crate::keyvalue::is_secret_key(k))
}

fn skipped_comment(skipped: &[&str], indent: &str) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let list: Vec<String> = skipped.iter().map(|k| quoted(k)).collect();
    format!(
        "{indent}# Not listed: {} (a Kubernetes Secret key holds only letters, digits, -, _ and .).\n",
        list.join(", ")
    )
}

/// An `ExternalSecret` reading each key of a JSON secret into the same key
/// of the Kubernetes Secret (`remoteRef.property`), for a consumer that
/// wants the keys one by one, or only some of them.
pub fn external_secret_keys(namespace: &str, name: &str, aws_name: &str, keys: &[&str]) -> String {
    let (listed, skipped) = split_keys(keys);
    let mut data = String::new();
    for k in &listed {
        data.push_str(&format!(
            "    - secretKey: {key}\n      remoteRef:\n        key: {aws}\n        property: {key}\n",
            key = quoted(k),
            aws = quoted(aws_name),
        ));
    }
    format!(
        "{}  data:\n{}{data}",
        external_secret_head(namespace, name),
        skipped_comment(&skipped, "    "),
    )
}

/// An `ExternalSecret` reading every key of a JSON secret into the
/// Kubernetes Secret at once (`dataFrom.extract`): keys added later follow.
pub fn external_secret_extract(namespace: &str, name: &str, aws_name: &str) -> String {
    format!(
        "{}  # Every key of the JSON secret becomes a key of the Kubernetes Secret.\n  dataFrom:\n    - extract:\n        key: {}\n",
        external_secret_head(namespace, name),
        quoted(aws_name),
    )
}

/// A JMESPath expression selecting the top-level `key`: bare where it is
/// an identifier, else quoted, as JMESPath (and so the CSI provider)
/// requires for keys such as `db-password`.
pub fn jmes_path(key: &str) -> String {
    let bare = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if bare { key.to_owned() } else { quoted(key) }
}

/// A `SecretProviderClass` mounting each key of a JSON secret as its own
/// file (`jmesPath`), next to the whole secret.
pub fn secret_provider_class_keys(
    namespace: &str,
    name: &str,
    aws_name: &str,
    keys: &[&str],
) -> String {
    let (listed, skipped) = split_keys(keys);
    let mut paths = String::new();
    for k in &listed {
        // The objects block is YAML inside a YAML string: the path is one
        // more YAML scalar, single-quoted so JMESPath's quotes survive.
        paths.push_str(&format!(
            "          - path: '{}'\n            objectAlias: {}\n",
            jmes_path(k).replace('\'', "''"),
            quoted(k)
        ));
    }
    let more = format!(
        "        jmesPath:\n{}{paths}",
        skipped_comment(&skipped, "          ")
    );
    secret_provider_class_with(namespace, name, aws_name, &more)
}
