//! The AWS backend: Secrets Manager, IAM and STS (in progress; see issue 3).
