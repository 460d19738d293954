//! A caching layer over any provider: refresh ahead of expiry, one refresh at a time however
//! many tasks ask, and the old credentials served while a refresh is in flight if they are
//! still valid.

use super::{Credentials, CredentialsFuture, ProvideCredentials};
use crate::config::{Clock, SystemClock};
use crate::error::Result;
use std::fmt;
use std::sync::{Arc, RwLock};
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
    current: RwLock<Option<Credentials>>,
    refresh: tokio::sync::Mutex<()>,
    refresh_ahead: Duration,
    clock: Arc<dyn Clock>,
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
            refresh_ahead: DEFAULT_REFRESH_AHEAD,
            clock: Arc::new(SystemClock),
        }
    }

    /// How long before expiry to refresh (default 5 minutes).
    #[must_use]
    pub fn refresh_ahead(mut self, margin: Duration) -> Self {
        self.refresh_ahead = margin;
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

    fn cached(&self) -> Option<Credentials> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn is_valid(&self, c: &Credentials, now: SystemTime) -> bool {
        c.expiry().is_none_or(|e| e > now)
    }

    fn is_fresh(&self, c: &Credentials, now: SystemTime) -> bool {
        c.expiry().is_none_or(|e| e > now + self.refresh_ahead)
    }

    async fn get(&self) -> Result<Credentials> {
        let now = self.clock.now();
        let current = self.cached();
        if let Some(c) = &current
            && self.is_fresh(c, now)
        {
            return Ok(c.clone());
        }
        // Someone else is refreshing: serve what we have if it is still valid.
        let guard = match self.refresh.try_lock() {
            Ok(g) => g,
            Err(_) => {
                if let Some(c) = current.filter(|c| self.is_valid(c, now)) {
                    return Ok(c);
                }
                self.refresh.lock().await
            }
        };
        // The refresh that held the lock may have done the work.
        let now = self.clock.now();
        let current = self.cached();
        if let Some(c) = &current
            && self.is_fresh(c, now)
        {
            return Ok(c.clone());
        }
        let fetched = self.inner.provide_credentials().await;
        drop(guard);
        match fetched {
            Ok(c) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
                Ok(c)
            }
            Err(e) => match current.filter(|c| self.is_valid(c, self.clock.now())) {
                Some(c) => Ok(c),
                None => Err(e),
            },
        }
    }
}

impl ProvideCredentials for CachedProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(self.get())
    }

    fn invalidate(&self) {
        CachedProvider::invalidate(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

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
}
