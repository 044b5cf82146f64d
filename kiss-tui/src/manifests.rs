//! Ready-to-paste Kubernetes manifests that consume a kiss secret: the
//! external-secrets operator (current and legacy forms) and the Secrets
//! Store CSI driver's AWS provider.
//!
//! Each manifest names the secret after the kiss secret, in its namespace.
//! Whatever the user must still decide (which secret store) is a
//! placeholder in capitals, with a comment, so it cannot be missed.

/// An `ExternalSecret` for the external-secrets operator
/// (`external-secrets.io/v1`, as current releases serve it), reading the AWS secret into a Kubernetes
/// Secret of the same name, under the key `value`.
pub fn external_secret(namespace: &str, name: &str, aws_name: &str) -> String {
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
    name: REPLACE-WITH-YOUR-SECRET-STORE
  target:
    name: {name}
    creationPolicy: Owner
  data:
    - secretKey: value
      remoteRef:
        key: "{aws_name}"
"#
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
      - objectName: "{aws_name}"
        objectType: "secretsmanager"
        objectAlias: "{name}"
"#
    )
}
