//! [`Timing`]: tells an [`CallObserver`] how long each AWS call attempt took and how it ended,
//! so the gateway can export latency metrics and separate time spent waiting on AWS from its
//! own (the `Server-Timing` header). One attempt is one HTTP exchange; our retries are
//! separate calls and are observed separately.

use std::{sync::Arc, time::Instant};

use aws_sdk_iam::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// Receives one report per AWS call attempt.
pub trait CallObserver: Send + Sync + std::fmt::Debug {
    /// `action` in IAM policy spelling (`iam:CreateUser`); `status` is the HTTP status (429
    /// for any throttling answer, also IAM's and STS's 400 `Throttling`), or `None` when no
    /// response arrived (connection failure, timeout).
    fn observe(&self, action: &str, elapsed: std::time::Duration, status: Option<u16>);
}

#[derive(Debug, Clone)]
struct AttemptStart(Instant);

impl Storable for AttemptStart {
    type Storer = StoreReplace<Self>;
}

/// The interceptor; added to every client when the factory has an observer.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    pub(crate) observer: Arc<dyn CallObserver>,
}

impl Intercept for Timing {
    fn name(&self) -> &'static str {
        "mayfly::Timing"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(AttemptStart(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(start) = cfg.load::<AttemptStart>() else {
            return Ok(());
        };
        let elapsed = start.0.elapsed();
        let action = cfg
            .load::<Metadata>()
            .map(|m| format!("{}:{}", m.service().to_ascii_lowercase(), m.name()))
            .unwrap_or_else(|| "aws:unknown".to_owned());
        let status = context.response().map(|r| {
            let status = r.status().as_u16();
            // IAM and STS throttle with 400 and a `Throttling` code in the body (which the
            // SDK has read into memory by now): report it as what it is.
            let throttled = status == 400
                && r.body()
                    .bytes()
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .is_some_and(crate::error::names_throttling);
            if throttled {
                429
            } else {
                status
            }
        });
        self.observer.observe(&action, elapsed, status);
        Ok(())
    }
}
