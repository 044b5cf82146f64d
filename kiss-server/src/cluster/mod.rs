//! Authorization by the cluster: the `kubernetes` mode (TokenReview +
//! SubjectAccessReview on the virtual resource `secrets.<api group>`) and
//! the `rolebinding` mode (the Go kiss 0.1 rule), both talking to the
//! Kubernetes API through kube-rs.
//!
//! The client comes from `--kubeconfig`, else `KUBECONFIG`, else the pod's
//! service account (in-cluster). Every call is bounded by `--kube-timeout`;
//! an API server that does not answer, or answers with an error, makes the
//! call UNAVAILABLE with a sentence saying so, never an allow and never a
//! PERMISSION_DENIED.

pub mod review;
pub mod rolebinding;
pub mod ttl;

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec, TokenReviewStatus};
use k8s_openapi::api::authorization::v1::{
    SubjectAccessReview, SubjectAccessReviewSpec, SubjectAccessReviewStatus,
};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, ListParams, PostParams};

use crate::metrics::metrics;

pub use review::{KubeIdentity, KubernetesAuthorizer, ReviewSettings};
pub use rolebinding::RoleBindingAuthorizer;

/// Most namespaces WhoAmI checks in `kubernetes` mode.
pub const MAX_NAMESPACES: u32 = 500;

/// Loads the client configuration: `kubeconfig` if given, else the file(s)
/// in `KUBECONFIG`, else the in-cluster service account. Reads files only;
/// nothing is sent.
pub async fn load_config(kubeconfig: Option<&Path>) -> Result<kube::Config, String> {
    let mut config = if let Some(path) = kubeconfig {
        let file = kube::config::Kubeconfig::read_from(path).map_err(|e| {
            format!(
                "--kubeconfig {}: cannot read it as a kubeconfig file: {e}",
                path.display()
            )
        })?;
        kube::Config::from_custom_kubeconfig(file, &Default::default())
            .await
            .map_err(|e| format!("--kubeconfig {}: {e}", path.display()))?
    } else if std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) {
        kube::Config::from_kubeconfig(&Default::default())
            .await
            .map_err(|e| format!("KUBECONFIG: {e}"))?
    } else {
        kube::Config::incluster().map_err(|e| {
            format!(
                "no Kubernetes configuration: not running in a pod with a service account ({e}); \
                 outside a cluster give --kubeconfig PATH or set KUBECONFIG"
            )
        })?
    };
    // kiss bounds each call itself and answers UNAVAILABLE rather than
    // making the caller wait through retries.
    config.default_retry = false;
    Ok(config)
}

/// Why the Kubernetes API could not answer a question.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(String);

/// The four Kubernetes API calls kiss-server makes, each under a timeout.
#[derive(Clone)]
pub struct ClusterApi {
    client: kube::Client,
    timeout: Duration,
    url: String,
}

impl ClusterApi {
    /// A client for `config`, each call bounded by `timeout`.
    pub fn new(config: kube::Config, timeout: Duration) -> Result<ClusterApi, String> {
        let url = config.cluster_url.to_string();
        let client = kube::Client::try_from(config)
            .map_err(|e| format!("cannot build the Kubernetes client: {e}"))?;
        Ok(ClusterApi {
            client,
            timeout,
            url,
        })
    }

    async fn call<T>(
        &self,
        kind: &'static str,
        what: &str,
        fut: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, ApiError> {
        let result = tokio::time::timeout(self.timeout, fut).await;
        let error = match result {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => self.describe(what, &e),
            Err(_) => format!(
                "the Kubernetes API server ({}) did not answer {what} within {:.1} s; \
                 kiss cannot decide without it, try again in a moment",
                self.url,
                self.timeout.as_secs_f64()
            ),
        };
        metrics()
            .kube_reviews
            .with_label_values(&[kind, "error"])
            .inc();
        tracing::warn!(kind, error = %error, "Kubernetes API call failed");
        Err(ApiError(error))
    }

    fn describe(&self, what: &str, e: &kube::Error) -> String {
        match e {
            kube::Error::Api(status) if status.code == 403 => format!(
                "kiss-server's service account may not make {what} ({}); \
                 tell your platform team to grant it (see docs/authorization.md)",
                status.message
            ),
            kube::Error::Api(status) => format!(
                "the Kubernetes API server refused {what} (HTTP {}: {}); try again in a moment, \
                 or tell your platform team if it persists",
                status.code, status.message
            ),
            _ => format!(
                "the Kubernetes API server ({}) cannot be reached for {what} ({e}); \
                 kiss cannot decide without it, try again in a moment",
                self.url
            ),
        }
    }

    /// A TokenReview of `token`.
    pub async fn token_review(&self, token: &str) -> Result<TokenReviewStatus, ApiError> {
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: Some(token.to_owned()),
                audiences: None,
            },
            ..Default::default()
        };
        let api: Api<TokenReview> = Api::all(self.client.clone());
        let pp = PostParams::default();
        let done = self
            .call("token_review", "a TokenReview", api.create(&pp, &review))
            .await?;
        Ok(done.status.unwrap_or_default())
    }

    /// A SubjectAccessReview of `spec`.
    pub async fn access_review(
        &self,
        spec: SubjectAccessReviewSpec,
    ) -> Result<SubjectAccessReviewStatus, ApiError> {
        let review = SubjectAccessReview {
            spec,
            ..Default::default()
        };
        let api: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let pp = PostParams::default();
        let done = self
            .call(
                "access_review",
                "a SubjectAccessReview",
                api.create(&pp, &review),
            )
            .await?;
        Ok(done.status.unwrap_or_default())
    }

    /// The RoleBinding `name` in `namespace`, `None` if there is none.
    pub async fn rolebinding(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<RoleBinding>, ApiError> {
        let api: Api<RoleBinding> = Api::namespaced(self.client.clone(), namespace);
        let what = format!("a get of RoleBinding '{name}' in namespace '{namespace}'");
        self.call("rolebinding", &what, api.get_opt(name)).await
    }

    /// The names of the cluster's namespaces, at most [`MAX_NAMESPACES`].
    pub async fn namespaces(&self) -> Result<Vec<String>, ApiError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let params = ListParams::default().limit(MAX_NAMESPACES);
        let list = self
            .call("namespaces", "a list of namespaces", api.list(&params))
            .await?;
        metrics()
            .kube_reviews
            .with_label_values(&["namespaces", "listed"])
            .inc();
        let mut names: Vec<String> = list
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .take(MAX_NAMESPACES as usize)
            .collect();
        names.sort();
        Ok(names)
    }
}

/// Counts a cache answer.
pub(crate) fn count_cache(kind: &str, source: ttl::Source) {
    let result = match source {
        ttl::Source::Hit => "hit",
        ttl::Source::Fetched => "miss",
    };
    metrics()
        .kube_cache
        .with_label_values(&[kind, result])
        .inc();
}
