//! The workflows that take more than one call — deleting a secret with its
//! read policy, binding a secret that has no policy yet — written once for
//! the app and the verbs, so the two cannot disagree on the order of the
//! calls or on which refusal stops them.
//!
//! Each workflow is pure: it says which call comes first and, from how a
//! call ended, which comes next. The app runs one step per reply, as its
//! `update` never waits on the network; the verbs run the steps in a loop.

use kiss_proto::reasons;

/// Whether a refusal says there is no read policy: by reason, or by code
/// (`NotFound`) from a server that sends no reason.
pub fn is_policy_missing(reason: Option<&str>, not_found: bool) -> bool {
    match reason {
        Some(reason) => reason == reasons::POLICY_MISSING,
        None => not_found,
    }
}

/// Deleting a secret, and its read policy with it when asked.
pub mod delete {
    /// What becomes of the secret's read policy.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum PolicyRemoval {
        /// The policy stays (a restore brings the secret back to it).
        Keep,
        /// The policy goes, detached from every service account first.
        /// The app's choice: its confirmation lists the holders and the
        /// user ticks the box having seen them.
        DetachFirst,
        /// The policy goes only if no service account holds it; otherwise
        /// nothing is deleted. The verbs' choice: a script has no moment
        /// in which a person sees who would lose access.
        OnlyIfUnattached,
    }

    /// One call of the workflow.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Step {
        /// Delete the read policy, detaching it first when `unbind`.
        DeletePolicy {
            /// Detach it from every service account first.
            unbind: bool,
        },
        /// Delete the secret.
        DeleteSecret,
    }

    /// How the policy step ended.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum PolicyOutcome {
        /// The policy is gone.
        Deleted,
        /// There was none to delete.
        Missing,
        /// Refused for another reason (still attached, no permission, ...).
        Refused,
    }

    /// The first call. The policy goes before the secret: once the secret
    /// is deleted, its policy can no longer be found by the secret's name.
    pub fn first(removal: PolicyRemoval) -> Step {
        match removal {
            PolicyRemoval::Keep => Step::DeleteSecret,
            PolicyRemoval::DetachFirst => Step::DeletePolicy { unbind: true },
            PolicyRemoval::OnlyIfUnattached => Step::DeletePolicy { unbind: false },
        }
    }

    /// The call after the policy step, if any: a missing policy does not
    /// stop the deletion (there was nothing to remove), any other refusal
    /// does, so that nothing is deleted halfway.
    pub fn after_policy(outcome: PolicyOutcome) -> Option<Step> {
        match outcome {
            PolicyOutcome::Deleted | PolicyOutcome::Missing => Some(Step::DeleteSecret),
            PolicyOutcome::Refused => None,
        }
    }
}

/// Binding a service account to a secret, whose read policy it attaches.
pub mod bind {
    /// One call of the workflow.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Step {
        /// Create the read policy first.
        CreatePolicy,
        /// Attach the policy to the service account.
        Bind,
    }

    /// The first call, from what is known about the policy: `Some(false)`
    /// when the secret is known to have none, `None` when nobody looked.
    ///
    /// The app knows (its details pane shows it) and creates the missing
    /// policy as part of binding, which is what the user asked for. The
    /// verbs pass `None` and bind straight away, as the Go client did:
    /// a script that binds should not create IAM policies it did not ask
    /// for, and the server's refusal names `create-policy` to run.
    pub fn first(has_policy: Option<bool>) -> Step {
        match has_policy {
            Some(false) => Step::CreatePolicy,
            Some(true) | None => Step::Bind,
        }
    }

    /// The call after the policy was created.
    pub fn after_policy_created() -> Step {
        Step::Bind
    }
}

#[cfg(test)]
mod tests {
    use super::bind;
    use super::delete::{self, PolicyOutcome, PolicyRemoval, Step};

    #[test]
    fn the_policy_goes_first_and_only_a_missing_one_is_passed_over() {
        assert_eq!(delete::first(PolicyRemoval::Keep), Step::DeleteSecret);
        assert_eq!(
            delete::first(PolicyRemoval::DetachFirst),
            Step::DeletePolicy { unbind: true }
        );
        assert_eq!(
            delete::first(PolicyRemoval::OnlyIfUnattached),
            Step::DeletePolicy { unbind: false }
        );
        for ok in [PolicyOutcome::Deleted, PolicyOutcome::Missing] {
            assert_eq!(delete::after_policy(ok), Some(Step::DeleteSecret));
        }
        assert_eq!(delete::after_policy(PolicyOutcome::Refused), None);
    }

    #[test]
    fn only_a_policy_known_to_be_missing_is_created_before_binding() {
        assert_eq!(bind::first(Some(false)), bind::Step::CreatePolicy);
        assert_eq!(bind::first(Some(true)), bind::Step::Bind);
        // The verbs' case: they bind without looking.
        assert_eq!(bind::first(None), bind::Step::Bind);
        assert_eq!(bind::after_policy_created(), bind::Step::Bind);
    }

    #[test]
    fn a_missing_policy_is_told_by_reason_or_by_code() {
        use kiss_proto::reasons;
        assert!(super::is_policy_missing(
            Some(reasons::POLICY_MISSING),
            false
        ));
        assert!(!super::is_policy_missing(
            Some(reasons::POLICY_ATTACHED),
            true
        ));
        assert!(super::is_policy_missing(None, true));
        assert!(!super::is_policy_missing(None, false));
    }
}
