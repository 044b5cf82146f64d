//! A Kubernetes API **test server**: no real Kubernetes API server can run
//! on these machines, so this one stands in for the four calls kiss-server
//! makes, over real HTTP on loopback, in the API's own JSON (every body is
//! built from and parsed as a k8s-openapi type):
//!
//! - `POST /apis/authentication.k8s.io/v1/tokenreviews` (TokenReview)
//! - `POST /apis/authorization.k8s.io/v1/subjectaccessreviews` (SubjectAccessReview)
//! - `GET /apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/{name}`
//! - `GET /api/v1/namespaces`
//!
//! Decisions come from tables the test sets ([`KubeApi::token`],
//! [`KubeApi::allow`], [`KubeApi::rolebinding`], [`KubeApi::namespaces`]);
//! every request is recorded ([`KubeApi::requests`]); [`KubeApi::go_down`]
//! closes the port and every open connection (clients see connection
//! refused, as when an API server is unreachable) and [`KubeApi::come_back`]
//! opens it again. [`KubeApi::kubeconfig`] is a kubeconfig file pointing at
//! the server, as an operator's would point at a cluster.
//!
//! Plain HTTP: kube-rs accepts an `http://` cluster URL, which keeps TLS
//! out of what this server has to get right.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewStatus, UserInfo};
use k8s_openapi::api::authorization::v1::{SubjectAccessReview, SubjectAccessReviewStatus};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Status};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// The bearer token kiss-server's kubeconfig gives it (its "service account").
pub const SERVER_TOKEN: &str = "kiss-server-service-account-token";

/// The API group kiss's virtual resource lives in by default.
pub const API_GROUP: &str = "kiss.kaluza.com";

/// One request the test server received, parsed.
#[derive(Debug, Clone)]
pub enum Request {
    /// A TokenReview, as sent.
    TokenReview(Box<TokenReview>),
    /// A SubjectAccessReview, as sent.
    AccessReview(Box<SubjectAccessReview>),
    /// A RoleBinding get.
    GetRoleBinding {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// A Namespace list.
    ListNamespaces,
}

/// A request and the bearer token it came with.
#[derive(Debug, Clone)]
pub struct Received {
    /// What was asked.
    pub request: Request,
    /// The `Authorization` header's bearer token, if any.
    pub bearer: Option<String>,
}

/// Who a rule grants: a user or a group, as RBAC subjects name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// A username.
    User(String),
    /// A group.
    Group(String),
}

/// One allow rule, shaped like an RBAC rule bound in a namespace: empty
/// lists match anything; `resources` are `secrets` or `secrets/<sub>`, as
/// in a Role; `names` are resourceNames.
#[derive(Debug, Clone)]
pub struct Rule {
    who: Who,
    namespace: Option<String>,
    api_group: String,
    verbs: Vec<String>,
    resources: Vec<String>,
    names: Vec<String>,
}

impl Rule {
    /// A rule for user `name`, in every namespace, for everything on kiss's resources.
    pub fn user(name: &str) -> Rule {
        Rule::new(Who::User(name.into()))
    }

    /// A rule for group `name`.
    pub fn group(name: &str) -> Rule {
        Rule::new(Who::Group(name.into()))
    }

    fn new(who: Who) -> Rule {
        Rule {
            who,
            namespace: None,
            api_group: API_GROUP.into(),
            verbs: Vec::new(),
            resources: Vec::new(),
            names: Vec::new(),
        }
    }

    /// Only in `namespace` (a RoleBinding's scope).
    pub fn namespace(mut self, namespace: &str) -> Rule {
        self.namespace = Some(namespace.into());
        self
    }

    /// Only these verbs.
    pub fn verbs(mut self, verbs: &[&str]) -> Rule {
        self.verbs = verbs.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// Only these resources (`secrets`, `secrets/value`, ...).
    pub fn resources(mut self, resources: &[&str]) -> Rule {
        self.resources = resources.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// Only these resource names.
    pub fn names(mut self, names: &[&str]) -> Rule {
        self.names = names.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// In another API group than kiss's default.
    pub fn api_group(mut self, group: &str) -> Rule {
        self.api_group = group.into();
        self
    }

    fn allows(&self, review: &SubjectAccessReview) -> bool {
        let spec = &review.spec;
        let subject = match &self.who {
            Who::User(u) => spec.user.as_deref() == Some(u),
            Who::Group(g) => spec.groups.iter().flatten().any(|x| x == g),
        };
        let Some(attrs) = &spec.resource_attributes else {
            return false;
        };
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let resource = match attrs.subresource.as_deref() {
            None | Some("") => text(&attrs.resource),
            Some(sub) => format!("{}/{sub}", text(&attrs.resource)),
        };
        let any_or = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        subject
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| attrs.namespace.as_ref() == Some(ns))
            && text(&attrs.group) == self.api_group
            && any_or(&self.verbs, &text(&attrs.verb))
            && any_or(&self.resources, &resource)
            && (self.names.is_empty()
                || attrs
                    .name
                    .as_ref()
                    .is_some_and(|n| self.names.iter().any(|x| x == n)))
    }
}

#[derive(Default)]
struct Tables {
    tokens: HashMap<String, UserInfo>,
    token_error: Option<String>,
    rules: Vec<Rule>,
    deny_reason: Option<String>,
    rolebindings: BTreeMap<(String, String), RoleBinding>,
    namespaces: Vec<String>,
    received: Vec<Received>,
}

struct Shared {
    tables: Mutex<Tables>,
}

impl Shared {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, headers: &HeaderMap, request: Request) {
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        self.tables().received.push(Received { request, bearer });
    }
}

/// The running test server. Stops when dropped.
pub struct KubeApi {
    shared: Arc<Shared>,
    addr: SocketAddr,
    backend: SocketAddr,
    front: Mutex<Option<tokio::task::JoinHandle<()>>>,
    api: tokio::task::JoinHandle<()>,
    dir: tempfile::TempDir,
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.api.abort();
        if let Some(front) = self.front.lock().unwrap_or_else(|e| e.into_inner()).take() {
            front.abort();
        }
    }
}

fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).expect("k8s-openapi types serialize");
    (status, [("content-type", "application/json")], bytes).into_response()
}

fn failure(code: u16, reason: &str, message: String) -> Response {
    let status = Status {
        code: Some(i32::from(code)),
        message: Some(message),
        reason: Some(reason.into()),
        status: Some("Failure".into()),
        ..Default::default()
    };
    let mut body = serde_json::to_value(&status).expect("Status serializes");
    body["kind"] = "Status".into();
    body["apiVersion"] = "v1".into();
    json(
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
        &body,
    )
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("the body does not parse: {e}"))
}

async fn token_review(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut review: TokenReview = match parse(&body) {
        Ok(r) => r,
        Err(e) => return failure(400, "BadRequest", e),
    };
    shared.record(&headers, Request::TokenReview(Box::new(review.clone())));
    let tables = shared.tables();
    let token = review.spec.token.clone().unwrap_or_default();
    review.status =
        Some(match tables.tokens.get(&token) {
            Some(user) => TokenReviewStatus {
                authenticated: Some(true),
                user: Some(user.clone()),
                ..Default::default()
            },
            None => TokenReviewStatus {
                authenticated: Some(false),
                error: Some(tables.token_error.clone().unwrap_or_else(|| {
                    "[invalid bearer token, oidc: token not recognised]".into()
                })),
                ..Default::default()
            },
        });
    json(StatusCode::CREATED, &review)
}

async fn access_review(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut review: SubjectAccessReview = match parse(&body) {
        Ok(r) => r,
        Err(e) => return failure(400, "BadRequest", e),
    };
    shared.record(&headers, Request::AccessReview(Box::new(review.clone())));
    let tables = shared.tables();
    let allowed = tables.rules.iter().any(|r| r.allows(&review));
    review.status = Some(SubjectAccessReviewStatus {
        allowed,
        reason: if allowed {
            Some("RBAC: allowed by the test server's rule table".into())
        } else {
            tables.deny_reason.clone()
        },
        ..Default::default()
    });
    json(StatusCode::CREATED, &review)
}

async fn get_rolebinding(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    UrlPath((namespace, name)): UrlPath<(String, String)>,
) -> Response {
    shared.record(
        &headers,
        Request::GetRoleBinding {
            namespace: namespace.clone(),
            name: name.clone(),
        },
    );
    let found = shared
        .tables()
        .rolebindings
        .get(&(namespace.clone(), name.clone()))
        .cloned();
    match found {
        Some(binding) => json(StatusCode::OK, &binding),
        None => failure(
            404,
            "NotFound",
            format!("rolebindings.rbac.authorization.k8s.io \"{name}\" not found"),
        ),
    }
}

async fn list_namespaces(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    shared.record(&headers, Request::ListNamespaces);
    let names = shared.tables().namespaces.clone();
    let list = k8s_openapi::List::<Namespace> {
        items: names
            .into_iter()
            .map(|name| Namespace {
                metadata: ObjectMeta {
                    name: Some(name),
                    ..Default::default()
                },
                ..Default::default()
            })
            .collect(),
        metadata: Default::default(),
    };
    json(StatusCode::OK, &list)
}

async fn not_served(uri: axum::http::Uri) -> Response {
    failure(
        404,
        "NotFound",
        format!("the Kubernetes API test server does not serve {uri}"),
    )
}

/// Accepts on `listener` and relays each connection to `backend` until
/// aborted, which also ends every relayed connection.
async fn front(listener: TcpListener, backend: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut inbound, _)) = accepted else { continue };
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

impl KubeApi {
    /// Starts the server on a free loopback port, its kubeconfig written.
    pub async fn start() -> KubeApi {
        let shared = Arc::new(Shared {
            tables: Mutex::new(Tables::default()),
        });
        let app = Router::new()
            .route(
                "/apis/authentication.k8s.io/v1/tokenreviews",
                post(token_review),
            )
            .route(
                "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                post(access_review),
            )
            .route(
                "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/{name}",
                get(get_rolebinding),
            )
            .route("/api/v1/namespaces", get(list_namespaces))
            .fallback(not_served)
            .with_state(shared.clone());
        let inner = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let backend = inner.local_addr().expect("a bound address");
        let api = tokio::spawn(async move {
            let _ = axum::serve(inner, app).await;
        });
        let outer = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = outer.local_addr().expect("a bound address");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let server = KubeApi {
            shared,
            addr,
            backend,
            front: Mutex::new(Some(tokio::spawn(front(outer, backend)))),
            api,
            dir,
        };
        std::fs::write(server.kubeconfig(), server.kubeconfig_text()).expect("kubeconfig written");
        server
    }

    /// The cluster URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The kubeconfig file that points at this server, with [`SERVER_TOKEN`].
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn kubeconfig_text(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {url}\n\
             contexts:\n- name: test\n  context:\n    cluster: test\n    user: kiss-server\n\
             current-context: test\nusers:\n- name: kiss-server\n  user:\n    token: {SERVER_TOKEN}\n",
            url = self.url()
        )
    }

    /// A directory that lives as long as the server (for other test files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// TokenReviews of `token` say it is `username` in `groups`, with `uid`
    /// and `extra`.
    pub fn token(
        &self,
        token: &str,
        username: &str,
        uid: &str,
        groups: &[&str],
        extra: &[(&str, &[&str])],
    ) {
        let user = UserInfo {
            username: Some(username.into()),
            uid: Some(uid.into()),
            groups: Some(groups.iter().map(|g| (*g).to_owned()).collect()),
            extra: (!extra.is_empty()).then(|| {
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
                    .collect()
            }),
        };
        self.shared.tables().tokens.insert(token.into(), user);
    }

    /// What a TokenReview of an unknown token says in `status.error`.
    pub fn token_error(&self, error: &str) {
        self.shared.tables().token_error = Some(error.into());
    }

    /// Adds an allow rule for SubjectAccessReviews.
    pub fn allow(&self, rule: Rule) {
        self.shared.tables().rules.push(rule);
    }

    /// Removes every allow rule.
    pub fn revoke_all(&self) {
        self.shared.tables().rules.clear();
    }

    /// The `status.reason` of a denied SubjectAccessReview.
    pub fn deny_reason(&self, reason: &str) {
        self.shared.tables().deny_reason = Some(reason.into());
    }

    /// A RoleBinding `name` in `namespace` to Role `role`, with these
    /// group subjects.
    pub fn rolebinding(&self, namespace: &str, name: &str, role: &str, groups: &[&str]) {
        let binding = RoleBinding {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            },
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: role.into(),
            },
            subjects: Some(
                groups
                    .iter()
                    .map(|g| Subject {
                        api_group: Some("rbac.authorization.k8s.io".into()),
                        kind: "Group".into(),
                        name: (*g).into(),
                        namespace: None,
                    })
                    .collect(),
            ),
        };
        self.shared
            .tables()
            .rolebindings
            .insert((namespace.into(), name.into()), binding);
    }

    /// Deletes a RoleBinding.
    pub fn delete_rolebinding(&self, namespace: &str, name: &str) {
        self.shared
            .tables()
            .rolebindings
            .remove(&(namespace.to_owned(), name.to_owned()));
    }

    /// The namespaces a Namespace list returns.
    pub fn namespaces(&self, names: &[&str]) {
        self.shared.tables().namespaces = names.iter().map(|n| (*n).to_owned()).collect();
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.tables().received.clone()
    }

    /// The requests received so far, without their tokens.
    pub fn requests(&self) -> Vec<Request> {
        self.received().into_iter().map(|r| r.request).collect()
    }

    /// The SubjectAccessReviews received so far.
    pub fn access_reviews(&self) -> Vec<SubjectAccessReview> {
        self.requests()
            .into_iter()
            .filter_map(|r| match r {
                Request::AccessReview(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    /// The TokenReviews received so far.
    pub fn token_reviews(&self) -> Vec<TokenReview> {
        self.requests()
            .into_iter()
            .filter_map(|r| match r {
                Request::TokenReview(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    /// Forgets the requests received so far.
    pub fn clear_received(&self) {
        self.shared.tables().received.clear();
    }

    /// An outage: the port closes and every open connection is cut, so
    /// clients get connection refused until [`KubeApi::come_back`].
    pub fn go_down(&self) {
        if let Some(front) = self.front.lock().unwrap_or_else(|e| e.into_inner()).take() {
            front.abort();
        }
    }

    /// The outage ends: the same port accepts again.
    pub async fn come_back(&self) {
        if self
            .front
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            return;
        }
        // The aborted task drops its listener when it is next polled;
        // retry the bind until the port is free.
        let mut listener = None;
        for _ in 0..200 {
            match TcpListener::bind(self.addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
        let listener = listener.expect("the test server's port can be bound again");
        *self.front.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(tokio::spawn(front(listener, self.backend)));
    }
}
