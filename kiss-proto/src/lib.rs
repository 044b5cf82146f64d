//! The contract between kiss-server and its clients.
//!
//! [`pb`] holds the generated messages, the `KISS` server trait and the
//! client; [`names`] holds the naming rules that both sides apply, so that a
//! client can reject a bad name before it ever reaches the server.

pub mod names;

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

/// The KISS methods, by name and by the path they are called at.
pub const RPCS: [(&str, &str); 13] = [
    ("Ping", "/kiss.resources.KISS/Ping"),
    ("CreateSecret", "/kiss.resources.KISS/CreateSecret"),
    ("ListSecrets", "/kiss.resources.KISS/ListSecrets"),
    ("DeleteSecret", "/kiss.resources.KISS/DeleteSecret"),
    ("UpdateSecret", "/kiss.resources.KISS/UpdateSecret"),
    ("BindSecret", "/kiss.resources.KISS/BindSecret"),
    (
        "CreateSecretIAMPolicy",
        "/kiss.resources.KISS/CreateSecretIAMPolicy",
    ),
    (
        "DeleteSecretIAMPolicy",
        "/kiss.resources.KISS/DeleteSecretIAMPolicy",
    ),
    ("WhoAmI", "/kiss.resources.KISS/WhoAmI"),
    ("GetSecret", "/kiss.resources.KISS/GetSecret"),
    (
        "ListDeletedSecrets",
        "/kiss.resources.KISS/ListDeletedSecrets",
    ),
    ("UnbindSecret", "/kiss.resources.KISS/UnbindSecret"),
    ("RestoreSecret", "/kiss.resources.KISS/RestoreSecret"),
];

/// The method name for a request path, or `"unknown"`: callers choose the
/// path, so it never reaches logs or metric labels as it is.
pub fn rpc_name(path: &str) -> &'static str {
    RPCS.iter()
        .find(|(_, p)| *p == path)
        .map_or("unknown", |(name, _)| name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_known_paths_have_names() {
        assert_eq!(super::rpc_name("/kiss.resources.KISS/Ping"), "Ping");
        assert_eq!(
            super::rpc_name("/kiss.resources.KISS/junk-0-aaaa"),
            "unknown"
        );
        assert_eq!(super::rpc_name("/other.Service/Ping"), "unknown");
    }
}
