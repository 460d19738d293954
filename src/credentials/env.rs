//! Where providers read environment variables and files from: the real process, or a map in
//! tests. Nothing in `credentials/` calls `std::env` directly.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A source of environment variables.
pub(crate) trait EnvSource: fmt::Debug + Send + Sync + 'static {
    /// The value of `key`, if set and not empty.
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

/// A fixed set of variables, for tests.
#[cfg(test)]
#[derive(Debug, Clone, Default)]
pub(crate) struct MapEnv(pub(crate) std::collections::HashMap<String, String>);

#[cfg(test)]
impl MapEnv {
    pub(crate) fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }
}

#[cfg(test)]
impl EnvSource for MapEnv {
    fn var(&self, key: &str) -> Option<String> {
        self.0.get(key).filter(|v| !v.is_empty()).cloned()
    }
}

/// A shared environment handle.
pub(crate) type Env = Arc<dyn EnvSource>;

/// The user's home directory (`HOME`, or `USERPROFILE` on Windows).
pub(crate) fn home_dir(env: &dyn EnvSource) -> Option<PathBuf> {
    env.var("HOME")
        .or_else(|| env.var("USERPROFILE"))
        .map(PathBuf::from)
}
