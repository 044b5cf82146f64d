//! kiss-server: a gRPC service that lets Kubernetes users manage AWS Secrets
//! Manager secrets scoped to their namespaces, authenticated by their OIDC ID
//! token.
//!
//! Layers: [`pipeline`] takes every call through admission, the token
//! ([`auth`] turns it into an [`auth::Identity`]), authorization, the
//! [`store::SecretStore`] operation, metrics and one [`audit`] record;
//! [`service`] declares each RPC's call; [`server`] wires it into tonic with
//! health and reflection; [`dev`] provides the self-contained development
//! mode.

pub mod audit;
pub mod auth;
#[cfg(feature = "kubernetes")]
pub mod cluster;
pub mod config;
pub mod dev;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod pipeline;
pub mod public;
pub mod server;
pub mod service;
pub mod status;
pub mod store;
pub mod telemetry;

pub use server::ServeError;
