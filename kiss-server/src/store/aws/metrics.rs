//! Counts every AWS call by API and outcome for `kiss_aws_calls_total`: one
//! `ok` or `error` per call, plus one `throttled` per attempt AWS throttled
//! (the SDK retries those, so a call can be throttled and still succeed).

use aws_sdk_secretsmanager::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_secretsmanager::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// The interceptor; add it to every SDK client the store uses.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallMetrics;

fn api(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>().map_or_else(
        || "unknown".to_owned(),
        |m| format!("{}:{}", m.service(), m.name()),
    )
}

fn count(cfg: &ConfigBag, outcome: &str) {
    crate::metrics::metrics()
        .aws_calls
        .with_label_values(&[api(cfg).as_str(), outcome])
        .inc();
}

impl Intercept for CallMetrics {
    fn name(&self) -> &'static str {
        "KissCallMetrics"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(resp) = context.response() {
            let status = resp.status().as_u16();
            // JSON protocols name the error in a header; IAM's query protocol
            // answers throttling with 400 too, but also with these statuses.
            let header_says = resp
                .headers()
                .get("x-amzn-errortype")
                .is_some_and(|v| v.contains("Throttl") || v.contains("TooManyRequests"));
            if status == 429 || status == 503 || header_says {
                count(cfg, "throttled");
            }
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let outcome = match context.output_or_error() {
            Some(Ok(_)) => "ok",
            _ => "error",
        };
        count(cfg, outcome);
        Ok(())
    }
}
