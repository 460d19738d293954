//! The retry decision and the backoff schedule, in one place: [`Policy::decide`] says
//! whether and how a failed attempt is tried again, from the error (its retryable flag and its
//! code's row in the error table), the attempts made, the shared budget and the backoff.

use crate::config::RetryConfig;
use crate::error::{CodeRetry, Error, code_retry};
use crate::runtime::{AsyncSleep, JitterSource};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a retry costs from the budget, and what a timeout's retry costs.
const RETRY_COST: u32 = 5;
const TIMEOUT_RETRY_COST: u32 = 10;

/// One request's retry bookkeeping. A download range keeps one across the resumptions of its
/// body, so they count toward the same attempt limit as the request's own retries.
#[derive(Debug, Default)]
pub(crate) struct RetryState {
    /// Requests sent so far.
    pub(crate) attempts: u32,
    /// The immediate extra attempts (clock skew, expired credentials), which do not count
    /// toward `max_attempts`.
    pub(crate) extra: u32,
    /// What the last retry cost from the budget: a success gives it back.
    last_cost: u32,
    pub(crate) skew_fixed: bool,
    pub(crate) creds_refreshed: bool,
    /// Whether success means the whole response body arrived, not just its head: then the
    /// caller reports it with `succeeded`, and a body that keeps breaking drains the budget.
    pub(crate) body_counts: bool,
    /// The request's [`OpRequest::conflict_is_final`](crate::request::OpRequest): a
    /// conflicting conditional write ends it for good.
    pub(crate) conflict_is_final: bool,
}

impl RetryState {
    /// The last attempt made progress (a download body delivered bytes before it broke off):
    /// the attempts so far stop counting toward the limit, so a long body that breaks now
    /// and then is resumed each time, while one that breaks without progress still ends
    /// after `max_attempts`. The budget still pays for every retry.
    pub(crate) fn made_progress(&mut self) {
        self.extra = self.attempts;
    }

    /// Bookkeeping for a request whose body is read to the end before it counts as a success
    /// (a download range, resumed when its body breaks off).
    pub(crate) fn for_body() -> Self {
        Self {
            body_counts: true,
            ..Self::default()
        }
    }
}

/// The retry policy of a client: the attempt limit, the backoff, the shared budget and the
/// way to wait. Every retry, of a request or of a broken download body, is decided here.
#[derive(Debug)]
pub(crate) struct Policy {
    /// Set while the budget is spent and that was logged at `warn`: a throttling storm
    /// logs one warning, not one per request.
    budget_warned: std::sync::atomic::AtomicBool,
    max_attempts: u32,
    backoff: Backoff,
    budget: Budget,
    sleep: Sleeper,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The error is final.
    Stop,
    /// Sign and send again at once, without backoff or budget: the clock offset was just
    /// learned, or (`refresh_credentials`) the credentials must be fetched anew first.
    Resign {
        /// Drop the cached credentials before signing again.
        refresh_credentials: bool,
    },
    /// Wait this long, then try again; the budget has paid for it.
    Backoff(Duration),
}

impl Policy {
    pub(crate) fn new(
        retry: RetryConfig,
        sleep: Option<Arc<dyn AsyncSleep>>,
        jitter: Option<Arc<dyn JitterSource>>,
    ) -> Self {
        Self {
            budget_warned: std::sync::atomic::AtomicBool::new(false),
            max_attempts: retry.max_attempts,
            backoff: Backoff::new(retry, jitter),
            budget: Budget::new(retry.budget),
            sleep: match sleep {
                Some(s) => Sleeper::Custom(s),
                None => Sleeper::Tokio,
            },
        }
    }

    /// The one retry decision, for the failure `e` of attempt `state.attempts`.
    ///
    /// A clock-skew or expired-credentials code gets one immediate extra attempt per request
    /// (not counted toward `max_attempts`; `attempts()` still reports every request sent).
    /// Otherwise a retryable error is tried again while attempts remain and the client-wide
    /// budget can pay; the delay is the full-jitter backoff or the server's hint, within the
    /// cap. `replayable` is false for bodies that can be sent only once: then the first
    /// attempt is the only one. A conflicting conditional write (`ConditionalRequestConflict`)
    /// is retried, except on a request whose conflict is final (CompleteMultipartUpload, where
    /// S3 drops the upload): there the error is marked not retryable and stands.
    pub(crate) fn decide(
        &self,
        state: &mut RetryState,
        e: &mut Error,
        replayable: bool,
    ) -> Verdict {
        match code_retry(e.s3_code()) {
            // The upload is gone: neither we nor the caller can send this again.
            CodeRetry::WriteConflict if state.conflict_is_final => {
                e.set_retryable(false);
                tracing::debug!(
                    target: "async_s3::retry",
                    operation = e.operation(),
                    attempt = state.attempts,
                    reason = %Reason(e),
                    "not retrying: a conflicting conditional write ends this request"
                );
                return Verdict::Stop;
            }
            // The clock offset was learned from the answer: sign again (TEST-PLAN R4).
            CodeRetry::ClockSkew if !state.skew_fixed && replayable => {
                state.skew_fixed = true;
                state.extra += 1;
                return Verdict::Resign {
                    refresh_credentials: false,
                };
            }
            // Credentials expired early: fetch new ones once (TEST-PLAN R5).
            CodeRetry::ExpiredCredentials if !state.creds_refreshed && replayable => {
                state.creds_refreshed = true;
                state.extra += 1;
                return Verdict::Resign {
                    refresh_credentials: true,
                };
            }
            _ => {}
        }
        let max_attempts = if replayable { self.max_attempts } else { 1 };
        if !e.is_retryable() {
            return Verdict::Stop;
        }
        if state.attempts.saturating_sub(state.extra) >= max_attempts {
            tracing::debug!(
                target: "async_s3::retry",
                operation = e.operation(),
                attempt = state.attempts,
                reason = %Reason(e),
                max_attempts,
                "not retrying: attempts spent"
            );
            return Verdict::Stop;
        }
        // The client-wide budget pays for the retry, or there is none.
        let Some(cost) = self.budget.withdraw(e.is_timeout()) else {
            if self.budget_warned.swap(true, Ordering::Relaxed) {
                tracing::debug!(
                    target: "async_s3::retry",
                    operation = e.operation(),
                    attempt = state.attempts,
                    reason = %Reason(e),
                    "not retrying: the client's retry budget is spent"
                );
            } else {
                tracing::warn!(
                    target: "async_s3::retry",
                    operation = e.operation(),
                    attempt = state.attempts,
                    reason = %Reason(e),
                    "not retrying: the client's retry budget is spent"
                );
            }
            return Verdict::Stop;
        };
        self.budget_warned.store(false, Ordering::Relaxed);
        state.last_cost = cost;
        let delay = self
            .backoff
            .delay_with_hint(state.attempts, e.retry_after());
        tracing::debug!(
            target: "async_s3::retry",
            operation = e.operation(),
            attempt = state.attempts,
            reason = %Reason(e),
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "retrying"
        );
        Verdict::Backoff(delay)
    }

    /// Waits before a retry, with the client's sleep.
    pub(crate) async fn sleep(&self, delay: Duration) {
        self.sleep.sleep(delay).await;
    }

    /// The request succeeded: its last retry's cost goes back to the budget.
    pub(crate) fn succeeded(&self, state: &mut RetryState) {
        self.budget.refund(std::mem::take(&mut state.last_cost));
    }
}

/// Logs a retry made at once, without backoff or budget (clock skew, expired credentials).
pub(crate) fn log_immediate_retry(e: &Error, attempt: u32) {
    tracing::debug!(
        target: "async_s3::retry",
        operation = e.operation(),
        attempt,
        reason = %Reason(e),
        delay_ms = 0u64,
        "retrying"
    );
}

/// Why an attempt failed, for logs: the S3 code, else the error kind.
struct Reason<'a>(&'a Error);

impl std::fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.s3_code() {
            Some(code) => f.write_str(code),
            None => write!(f, "{:?}", self.0.kind()),
        }
    }
}

/// How to wait: tokio's timer called directly (no allocation), or an injected sleep.
#[derive(Debug)]
enum Sleeper {
    Tokio,
    Custom(Arc<dyn AsyncSleep>),
}

impl Sleeper {
    async fn sleep(&self, d: Duration) {
        match self {
            Sleeper::Tokio => tokio::time::sleep(d).await,
            Sleeper::Custom(s) => s.sleep(d).await,
        }
    }
}

/// The client-wide retry budget (a token bucket).
#[derive(Debug)]
pub(crate) struct Budget {
    tokens: std::sync::Mutex<u32>,
    capacity: u32,
}

impl Budget {
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            tokens: std::sync::Mutex::new(capacity),
            capacity,
        }
    }

    /// Takes the cost of one retry; `None` when the budget cannot pay for it.
    pub(crate) fn withdraw(&self, timeout: bool) -> Option<u32> {
        let cost = if timeout {
            TIMEOUT_RETRY_COST
        } else {
            RETRY_COST
        };
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if *t < cost {
            return None;
        }
        *t -= cost;
        Some(cost)
    }

    /// A request succeeded: its last retry's cost comes back (one token when it needed no
    /// retry), as in the AWS SDKs' standard mode.
    pub(crate) fn refund(&self, last_cost: u32) {
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        *t = (*t + last_cost.max(1)).min(self.capacity);
    }
}

/// The server's hint of how long to wait: `x-amz-retry-after` (milliseconds) or `Retry-After`
/// (seconds).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = get("x-amz-retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_millis(ms));
    }
    get("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Full-jitter exponential backoff: a uniform delay below `min(cap, base * 2^(attempt-1))`.
#[derive(Debug)]
pub(crate) struct Backoff {
    config: RetryConfig,
    random: Random,
}

/// Where jitter comes from: the built-in generator or an injected source.
#[derive(Debug)]
enum Random {
    XorShift(AtomicU64),
    Custom(Arc<dyn JitterSource>),
}

impl Backoff {
    pub(crate) fn new(config: RetryConfig, jitter: Option<Arc<dyn JitterSource>>) -> Self {
        let random = match jitter {
            Some(j) => Random::Custom(j),
            None => Random::XorShift(AtomicU64::new(
                RandomState::new().build_hasher().finish() | 1,
            )),
        };
        Self { config, random }
    }

    /// The delay before attempt `attempt + 1`, honouring the server's hint within the cap.
    pub(crate) fn delay_with_hint(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let jittered = self.delay(attempt);
        match hint {
            Some(h) => h.min(self.config.max_backoff).max(jittered),
            None => jittered,
        }
    }

    /// The ceiling of the delay before attempt `attempt + 1`.
    pub(crate) fn ceiling(&self, attempt: u32) -> Duration {
        self.config
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.config.max_backoff)
    }

    /// The delay before attempt `attempt + 1`: `ceiling × r / 2⁶⁴` for a random `r`.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let nanos = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        let r = match &self.random {
            Random::XorShift(state) => next_xorshift(state),
            Random::Custom(j) => j.next_u64(),
        };
        Duration::from_nanos(((u128::from(nanos) * u128::from(r)) >> 64) as u64)
    }
}

/// xorshift64*: plenty for jitter, no dependency.
fn next_xorshift(state: &AtomicU64) -> u64 {
    let mut x = state.load(Ordering::Relaxed);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    state.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Always the same random value.
    #[derive(Debug)]
    struct Fixed(u64);

    impl JitterSource for Fixed {
        fn next_u64(&self) -> u64 {
            self.0
        }
    }

    fn backoff(initial_ms: u64, max_ms: u64, r: u64) -> Backoff {
        let config = RetryConfig::default().with_backoff(
            Duration::from_millis(initial_ms),
            Duration::from_millis(max_ms),
        );
        Backoff::new(config, Some(Arc::new(Fixed(r))))
    }

    #[test]
    fn full_jitter_scales_the_doubling_ceiling_up_to_the_cap() {
        // r = 2^63 is exactly half of every ceiling: 100, 200, 400, 800, then the 1 s cap.
        let b = backoff(100, 1000, 1 << 63);
        let delays: Vec<u128> = (1..=7).map(|a| b.delay(a).as_millis()).collect();
        assert_eq!(delays, [50, 100, 200, 400, 500, 500, 500]);
        // r = 0 is no wait at all; the largest r stays below the ceiling by under a nanosecond
        // per 2^64.
        assert_eq!(backoff(100, 1000, 0).delay(3), Duration::ZERO);
        let top = backoff(100, 1000, u64::MAX);
        assert_eq!(
            top.delay(1),
            Duration::from_millis(100) - Duration::from_nanos(1)
        );
        assert_eq!(
            top.delay(30),
            Duration::from_secs(1) - Duration::from_nanos(1)
        );
        // A huge attempt number neither overflows nor escapes the cap.
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(500));
    }

    #[test]
    fn the_built_in_generator_stays_under_the_ceiling_and_varies() {
        let b = Backoff::new(RetryConfig::default(), None);
        let mut seen = std::collections::HashSet::new();
        for attempt in 1..10 {
            for _ in 0..50 {
                let d = b.delay(attempt);
                assert!(d < b.ceiling(attempt));
                seen.insert(d);
            }
        }
        assert!(
            seen.len() > 400,
            "jitter is random: {} distinct",
            seen.len()
        );
    }

    #[test]
    fn the_budget_stops_retries_and_successes_refill_it() {
        let b = Budget::new(12);
        assert_eq!(b.withdraw(false), Some(5));
        assert_eq!(b.withdraw(false), Some(5));
        assert_eq!(b.withdraw(false), None, "2 tokens left");
        b.refund(5);
        assert_eq!(b.withdraw(true), None, "a timeout's retry costs 10");
        assert_eq!(b.withdraw(false), Some(5));
        for _ in 0..100 {
            b.refund(0);
        }
        assert_eq!(*b.tokens.lock().unwrap(), 12, "never above capacity");
    }

    #[test]
    fn server_hints_are_read_and_clamped_exactly() {
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", http::HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("x-amz-retry-after", http::HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert("x-amz-retry-after", http::HeaderValue::from_static("soon"));
        assert_eq!(
            retry_after(&h),
            Some(Duration::from_secs(3)),
            "junk is ignored"
        );

        // Ceiling 100 ms for the first retry, jitter half of it: 50 ms without a hint.
        let b = backoff(100, 2000, 1 << 63);
        assert_eq!(b.delay_with_hint(1, None), Duration::from_millis(50));
        // A hint longer than the cap is cut to the cap, one shorter is obeyed, one shorter
        // than the jittered delay does not shorten it.
        let hint = |ms| b.delay_with_hint(1, Some(Duration::from_millis(ms)));
        assert_eq!(hint(60_000), Duration::from_secs(2));
        assert_eq!(hint(700), Duration::from_millis(700));
        assert_eq!(hint(10), Duration::from_millis(50));
    }

    #[test]
    fn classification() {
        // Retryable statuses and codes come from the error table (error.rs).
        assert!(Error::from_response(503, None).is_retryable());
        assert!(!Error::from_response(404, None).is_retryable());
        let code = |c: &str| {
            Some(crate::types::S3ErrorBody {
                code: Some(c.into()),
                ..Default::default()
            })
        };
        assert!(Error::from_response(400, code("SlowDown")).is_retryable());
        assert!(!Error::from_response(400, code("AccessDenied")).is_retryable());
        assert!(!Error::from_response(400, None).is_retryable());
    }

    /// Skew and expired credentials get one immediate re-signing each, only for replayable
    /// bodies; then the ordinary rules apply.
    #[test]
    fn decide_resigns_once_for_skew_and_expired_credentials() {
        let policy = Policy::new(RetryConfig::with_max_attempts(1), None, None);
        let code = |c: &str, status| {
            Error::from_response(
                status,
                Some(crate::types::S3ErrorBody {
                    code: Some(c.into()),
                    ..Default::default()
                }),
            )
        };
        let mut skew = code("RequestTimeTooSkewed", 403);
        let mut state = RetryState {
            attempts: 1,
            ..RetryState::default()
        };
        assert_eq!(
            policy.decide(&mut state, &mut skew, true),
            Verdict::Resign {
                refresh_credentials: false
            }
        );
        state.attempts += 1;
        assert_eq!(policy.decide(&mut state, &mut skew, true), Verdict::Stop);
        let mut expired = code("ExpiredToken", 400);
        assert_eq!(
            policy.decide(&mut state, &mut expired, true),
            Verdict::Resign {
                refresh_credentials: true
            }
        );
        let mut once = RetryState {
            attempts: 1,
            ..RetryState::default()
        };
        assert_eq!(policy.decide(&mut once, &mut expired, false), Verdict::Stop);
        // A transient error with attempts left backs off; with none left it stops.
        let policy = Policy::new(
            RetryConfig::with_max_attempts(2),
            None,
            Some(Arc::new(Fixed(0))),
        );
        let mut state = RetryState {
            attempts: 1,
            ..RetryState::default()
        };
        let mut slow = code("SlowDown", 503);
        assert_eq!(
            policy.decide(&mut state, &mut slow, true),
            Verdict::Backoff(Duration::ZERO)
        );
        state.attempts = 2;
        assert_eq!(policy.decide(&mut state, &mut slow, true), Verdict::Stop);
    }

    /// `ConditionalRequestConflict` is retried, except on a request whose conflict is final
    /// (CompleteMultipartUpload): there it stops, and the error says it is not retryable.
    #[test]
    fn a_write_conflict_is_final_only_where_the_request_says_so() {
        let policy = Policy::new(
            RetryConfig::with_max_attempts(3),
            None,
            Some(Arc::new(Fixed(0))),
        );
        let conflict = || {
            Error::from_response(
                409,
                Some(crate::types::S3ErrorBody {
                    code: Some("ConditionalRequestConflict".into()),
                    ..Default::default()
                }),
            )
        };
        let mut e = conflict();
        assert!(e.is_retryable());
        let mut state = RetryState {
            attempts: 1,
            ..RetryState::default()
        };
        assert_eq!(
            policy.decide(&mut state, &mut e, true),
            Verdict::Backoff(Duration::ZERO)
        );
        assert!(e.is_retryable());
        let mut state = RetryState {
            attempts: 1,
            conflict_is_final: true,
            ..RetryState::default()
        };
        let mut e = conflict();
        assert_eq!(policy.decide(&mut state, &mut e, true), Verdict::Stop);
        assert!(!e.is_retryable());
    }
}
