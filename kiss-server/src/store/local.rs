//! The local file backend (in progress).
