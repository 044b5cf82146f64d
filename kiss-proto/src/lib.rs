//! The contract between kiss-server and its clients.
//!
//! [`pb`] holds the generated messages, the `KISS` server trait and the
//! client; [`names`] holds the naming rules that both sides apply, so that a
//! client can reject a bad name before it ever reaches the server.

pub mod names;
pub mod reasons;
pub mod rpc;

/// Generated protobuf messages, server and client for `kiss.resources`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("kiss.resources");
}

/// The original Go kiss contract (eight RPCs, client only). Kept so tests
/// can prove that clients built against it still work.
#[allow(clippy::all, missing_docs)]
pub mod legacy {
    include!(concat!(env!("OUT_DIR"), "/legacy/kiss.resources.rs"));
}

/// The encoded file descriptor set of `kiss.proto`, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/kiss_descriptor.bin"));

/// The fully qualified gRPC service name, `kiss.resources.KISS`.
pub const SERVICE_NAME: &str = "kiss.resources.KISS";

pub use prost_types::Timestamp;

pub use rpc::Rpc;
