//! A caching layer over any provider: refresh ahead of expiry, one refresh at a time however
//! many tasks ask, and the old credentials served while a refresh is in flight if they are
//! still valid.

use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::error::Result;
use crate::runtime::{Clock, SystemClock};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// The default margin: credentials are refreshed this long before they expire.
pub const DEFAULT_REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);

/// Caches the credentials of another provider.
///
/// - Credentials without an expiry are fetched once.
/// - Credentials are refreshed [`refresh_ahead`](Self::refresh_ahead) before they expire
///   (5 minutes by default), by one caller; callers arriving meanwhile get the current
///   credentials if they are still valid, or wait for the refresh if not.
/// - If a refresh fails while the current credentials are still valid, those are served and
///   the refresh is tried again on the next call.
///
/// # Errors
///
/// [`provide_credentials`](ProvideCredentials::provide_credentials) returns the inner
/// provider's error (shared by the callers that waited for the same fetch), or a
/// [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) error when the fetch takes
/// longer than [`fetch_timeout`](Self::fetch_timeout).
///
/// # Cancel safety
///
/// Cancel safe: a caller dropped while it fetches releases the fetch to the next caller
/// (the inner provider's future is dropped with it).
///
/// # Example
///
/// ```
/// use async_s3::credentials::CachedProvider;
/// use async_s3::Credentials;
///
/// let cached = CachedProvider::new(Credentials::new("AKID", "secret"));
/// # let _ = cached;
/// ```
pub struct CachedProvider {
    inner: Arc<dyn ProvideCredentials>,
    current: RwLock<Option<Cached>>,
    refresh: tokio::sync::Mutex<()>,
    /// Counts finished fetches, so a caller that waited for one can tell it happened.
    generation: AtomicU64,
    /// The message of the last failed fetch and its generation, shared with its waiters.
    last_failure: Mutex<Option<(u64, String)>>,
    refresh_ahead: Duration,
    fetch_timeout: Duration,
    clock: Arc<dyn Clock>,
}

/// Credentials and when to refresh them.
#[derive(Clone)]
struct Cached {
    creds: Credentials,
    refresh_at: Option<SystemTime>,
}

impl fmt::Debug for CachedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedProvider")
            .field("inner", &self.inner)
            .field("refresh_ahead", &self.refresh_ahead)
            .finish_non_exhaustive()
    }
}

impl CachedProvider {
    /// Caches `provider`'s credentials.
    pub fn new(provider: impl ProvideCredentials) -> Self {
        Self::from_arc(Arc::new(provider))
    }

    pub(crate) fn from_arc(inner: Arc<dyn ProvideCredentials>) -> Self {
        Self {
            inner,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            last_failure: Mutex::new(None),
            refresh_ahead: DEFAULT_REFRESH_AHEAD,
            fetch_timeout: Duration::from_secs(60),
            clock: Arc::new(SystemClock),
        }
    }

    /// How long before expiry to refresh (default 5 minutes). For credentials that live
    /// shorter than twice this margin, the refresh comes at half their remaining life instead,
    /// so they are not fetched again on every call.
    #[must_use]
    pub fn refresh_ahead(mut self, margin: Duration) -> Self {
        self.refresh_ahead = margin;
        self
    }

    /// The longest a fetch from the inner provider may take (default 60 s); a provider that
    /// hangs then fails the callers waiting for it instead of blocking them forever.
    #[must_use]
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// The clock that decides expiry (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Drops the cached credentials, so the next call fetches new ones (after the service
    /// said they expired, for instance).
    pub fn invalidate(&self) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn cached(&self) -> Option<Cached> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn is_valid(c: &Cached, now: SystemTime) -> bool {
        c.creds.expiry().is_none_or(|e| e > now)
    }

    fn is_fresh(c: &Cached, now: SystemTime) -> bool {
        c.refresh_at.is_none_or(|at| now < at)
    }

    fn refresh_at(&self, creds: &Credentials, now: SystemTime) -> Option<SystemTime> {
        let expiry = creds.expiry()?;
        let life = expiry.duration_since(now).unwrap_or_default();
        Some(expiry - self.refresh_ahead.min(life / 2))
    }

    /// Returns cached credentials while fresh; otherwise one caller fetches while the others
    /// either use the still-valid credentials or wait and share the outcome, failure included.
    ///
    /// # Errors
    ///
    /// The inner provider's error (shared with the callers that waited for the same fetch),
    /// or a `Credentials` error when the fetch took longer than the fetch timeout.
    async fn get(&self) -> Result<Credentials> {
        let now = self.clock.now();
        let current = self.cached();
        if let Some(c) = &current
            && Self::is_fresh(c, now)
        {
            return Ok(c.creds.clone());
        }
        let seen = self.generation.load(Ordering::Acquire);
        // Someone else is refreshing: serve what we have if it is still valid.
        let guard = match self.refresh.try_lock() {
            Ok(g) => g,
            Err(_) => {
                if let Some(c) = current.as_ref().filter(|c| Self::is_valid(c, now)) {
                    return Ok(c.creds.clone());
                }
                self.refresh.lock().await
            }
        };
        // The fetch we waited for may have done the work, or failed for us too.
        if self.generation.load(Ordering::Acquire) != seen {
            if let Some(c) = self
                .cached()
                .filter(|c| Self::is_fresh(c, self.clock.now()))
            {
                return Ok(c.creds);
            }
            let failure = self
                .last_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some((generation, message)) = failure
                && generation > seen
            {
                return Err(crate::Error::credentials(message));
            }
        }
        let fetched = match tokio::time::timeout(
            self.fetch_timeout,
            self.inner.provide_credentials(),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(crate::Error::credentials(format!(
                "the credentials provider did not answer within {:?}",
                self.fetch_timeout
            ))),
        };
        let generation = self.generation.load(Ordering::Acquire) + 1;
        let outcome = match fetched {
            Ok(creds) => {
                tracing::debug!(
                    target: "async_s3::credentials",
                    provider = self.inner.name(),
                    expiry = creds.expiry().map(rfc3339).as_deref(),
                    "credentials refreshed"
                );
                let refresh_at = self.refresh_at(&creds, self.clock.now());
                // Written before the lock is released, so waiters find it.
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
                    creds: creds.clone(),
                    refresh_at,
                });
                Ok(creds)
            }
            Err(e) => {
                let still_valid = current
                    .as_ref()
                    .is_some_and(|c| Self::is_valid(c, self.clock.now()));
                // Provider errors never quote a secret (each provider's tests check it).
                tracing::warn!(
                    target: "async_s3::credentials",
                    provider = self.inner.name(),
                    error = %e,
                    serving_cached = still_valid,
                    "credentials refresh failed"
                );
                *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((generation, e.to_string()));
                match current.filter(|c| Self::is_valid(c, self.clock.now())) {
                    Some(c) => Ok(c.creds),
                    None => Err(e),
                }
            }
        };
        self.generation.store(generation, Ordering::Release);
        drop(guard);
        outcome
    }
}

/// An expiry as RFC 3339, for logs; never panics (a custom provider may set any time).
fn rfc3339(t: SystemTime) -> String {
    super::rfc3339(t).unwrap_or_else(|| "(past year 9999)".to_owned())
}

impl ProvideCredentials for CachedProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.get())
    }

    fn invalidate(&self) {
        CachedProvider::invalidate(self);
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    /// Review of issue 12: the debug log of a refresh writes any expiry a provider set
    /// without a panic (`OffsetDateTime::from` panics past year 9999).
    #[test]
    fn the_log_writes_any_expiry() {
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert_eq!(rfc3339(far), "(past year 9999)");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_553_445);
        assert_eq!(rfc3339(t), "2030-01-02T03:04:05Z");
    }

    /// A clock the test moves by hand.
    #[derive(Debug, Clone)]
    struct FakeClock(Arc<Mutex<SystemTime>>);

    impl Clock for FakeClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
    }

    impl FakeClock {
        fn advance(&self, d: Duration) {
            *self.0.lock().unwrap() += d;
        }
    }

    /// Hands out credentials valid for one hour from the fake clock, counting calls; can be
    /// told to fail, and to take a while.
    #[derive(Debug)]
    struct Counting {
        clock: FakeClock,
        calls: AtomicU32,
        fail: std::sync::atomic::AtomicBool,
        delay: Duration,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials(&self) -> CredentialsFuture<'_> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if !self.delay.is_zero() {
                    tokio::time::sleep(self.delay).await;
                }
                if self.fail.load(Ordering::SeqCst) {
                    return Err(crate::Error::credentials("counting: told to fail"));
                }
                Ok(Credentials::new(format!("AKID{n}"), "secret")
                    .with_expiry(self.clock.now() + Duration::from_secs(3600)))
            })
        }
    }

    fn setup(delay: Duration) -> (FakeClock, Arc<Counting>, CachedProvider) {
        let clock = FakeClock(Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )));
        let inner = Arc::new(Counting {
            clock: clock.clone(),
            calls: AtomicU32::new(0),
            fail: Default::default(),
            delay,
        });
        let cache = CachedProvider::from_arc(inner.clone()).clock(clock.clone());
        (clock, inner, cache)
    }

    #[tokio::test]
    async fn refreshes_ahead_of_expiry_and_not_before() {
        let (clock, inner, cache) = setup(Duration::ZERO);
        assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID1");
        clock.advance(Duration::from_secs(3600 - 301));
        assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID1");
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_secs(2)); // now inside the 5-minute margin
        assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID2");
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_refresh_for_a_hundred_callers() {
        let (clock, inner, cache) = setup(Duration::from_millis(50));
        let cache = Arc::new(cache);
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let c = cache.clone();
            tasks.push(tokio::spawn(async move { c.get().await.unwrap() }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().access_key_id(), "AKID1");
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);

        // Inside the margin, while one caller refreshes, the others get the still-valid
        // credentials at once; the refresh happens once.
        clock.advance(Duration::from_secs(3600 - 60));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let c = cache.clone();
            tasks.push(tokio::spawn(async move { c.get().await.unwrap() }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap().access_key_id().to_owned());
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
        assert!(ids.iter().all(|i| i == "AKID1" || i == "AKID2"));
        assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID2");
    }

    #[tokio::test]
    async fn a_failed_refresh_serves_valid_credentials_then_fails_once_expired() {
        let (clock, inner, cache) = setup(Duration::ZERO);
        cache.get().await.unwrap();
        inner.fail.store(true, Ordering::SeqCst);
        clock.advance(Duration::from_secs(3600 - 60));
        assert_eq!(cache.get().await.unwrap().access_key_id(), "AKID1");
        clock.advance(Duration::from_secs(120)); // expired now
        let err = cache.get().await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Credentials);
        inner.fail.store(false, Ordering::SeqCst);
        assert!(cache.get().await.is_ok());
    }

    #[tokio::test]
    async fn credentials_without_expiry_are_fetched_once_until_invalidated() {
        #[derive(Debug)]
        struct Static(AtomicU32);
        impl ProvideCredentials for Static {
            fn provide_credentials(&self) -> CredentialsFuture<'_> {
                self.0.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Ok(Credentials::new("A", "B")) })
            }
        }
        let inner = Arc::new(Static(AtomicU32::new(0)));
        let cache = CachedProvider::from_arc(inner.clone());
        for _ in 0..10 {
            cache.get().await.unwrap();
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
        cache.invalidate();
        cache.get().await.unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_fetch_is_shared_with_its_waiters() {
        let (_clock, inner, cache) = setup(Duration::from_millis(100));
        inner.fail.store(true, Ordering::SeqCst);
        let cache = Arc::new(cache);
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let c = cache.clone();
            tasks.push(tokio::spawn(async move { c.get().await }));
        }
        for t in tasks {
            assert!(t.await.unwrap().is_err());
        }
        assert_eq!(
            inner.calls.load(Ordering::SeqCst),
            1,
            "one fetch for 20 waiting callers"
        );
        assert!(started.elapsed() < Duration::from_millis(1000));
    }

    #[tokio::test]
    async fn short_lived_credentials_are_not_fetched_on_every_call() {
        let (clock, inner, cache) = setup(Duration::ZERO);
        let cache = cache.refresh_ahead(Duration::from_secs(3 * 3600)); // longer than they live
        cache.get().await.unwrap();
        for _ in 0..50 {
            cache.get().await.unwrap();
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_secs(1801)); // past half their life
        cache.get().await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_hanging_provider_times_out() {
        #[derive(Debug)]
        struct Hang;
        impl ProvideCredentials for Hang {
            fn provide_credentials(&self) -> CredentialsFuture<'_> {
                Box::pin(std::future::pending())
            }
        }
        let cache = CachedProvider::new(Hang).fetch_timeout(Duration::from_millis(50));
        let err = cache.get().await.unwrap_err();
        assert!(err.to_string().contains("did not answer"), "{err}");
    }
}
