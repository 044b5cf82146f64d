//! How errors become gRPC statuses: the code chosen for each store error,
//! and the machine-readable reason ([`kiss_proto::reasons`]) sent beside it
//! so that clients can add their own advice.

use tonic::{Code, Status};

use crate::store::StoreError;

/// The status a store error is answered with.
pub fn status_of(err: &StoreError) -> Status {
    let code = match err {
        StoreError::NotFound { .. }
        | StoreError::RoleNotFound { .. }
        | StoreError::NotBound { .. }
        | StoreError::VersionNotFound { .. } => Code::NotFound,
        StoreError::AlreadyExists { .. } | StoreError::PolicyExists { .. } => Code::AlreadyExists,
        StoreError::ScheduledForDeletion { .. }
        | StoreError::NotDeleted { .. }
        | StoreError::PolicyMissing { .. }
        | StoreError::PolicyAttached { .. }
        | StoreError::PolicyForeign { .. } => Code::FailedPrecondition,
        StoreError::VersionConflict { .. } => Code::Aborted,
        StoreError::LimitReached(_) => Code::ResourceExhausted,
        StoreError::Invalid(_) => Code::InvalidArgument,
        StoreError::Unavailable(_) => Code::Unavailable,
        StoreError::AccessDenied(_) | StoreError::Internal(_) => Code::Internal,
    };
    with_reason(Status::new(code, err.to_string()), err.reason())
}

/// `status` with `reason` in the [`kiss_proto::reasons::METADATA_KEY`] trailer.
pub fn with_reason(mut status: Status, reason: &'static str) -> Status {
    status.metadata_mut().insert(
        kiss_proto::reasons::METADATA_KEY,
        tonic::metadata::MetadataValue::from_static(reason),
    );
    status
}
