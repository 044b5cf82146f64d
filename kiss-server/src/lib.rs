//! kiss-server: a gRPC service that lets Kubernetes users manage AWS Secrets
//! Manager secrets scoped to their namespaces, authenticated by their OIDC ID
//! token.
//!
//! Layers: [`auth`] turns a token into an [`auth::Identity`]; [`service`]
//! validates, authorizes, calls a [`store::SecretStore`] and writes an
//! [`audit`] record; [`server`] wires it into tonic with health and
//! reflection; [`dev`] provides the self-contained development mode.

pub mod audit;
pub mod auth;
pub mod config;
pub mod dev;
pub mod limits;
pub mod metrics;
pub mod server;
pub mod service;
pub mod store;
pub mod telemetry;

pub use server::ServeError;
