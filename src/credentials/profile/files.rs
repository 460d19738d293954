//! The shared AWS files: where they are (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`,
//! `~/.aws`), reading and merging them, which profile is meant, and the errors that name it.

use super::parse::{self, FileKind, ProfileSet};
use crate::credentials::env::{EnvSource, home_dir};
use crate::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An error of kind `Credentials` whose message starts with the profile.
pub(super) fn fail(profile: &str, message: impl fmt::Display) -> Error {
    Error::credentials(format!("profile {profile:?}: {message}"))
}

/// Like [`fail`], for a profile that offers nothing: a chain moves on.
pub(super) fn not_set_up(profile: &str, message: impl fmt::Display) -> Error {
    Error::credentials_not_configured(format!("profile {profile:?}: {message}"))
}

/// `AWS_PROFILE`, else `default`.
pub(super) fn profile_from_env(env: &dyn EnvSource) -> String {
    env.var("AWS_PROFILE")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".to_owned())
}

/// Where the two shared files are; `None` when there is neither a variable nor a home.
#[derive(Debug, Clone)]
pub(super) struct SharedFiles {
    pub(super) credentials: Option<PathBuf>,
    pub(super) config: Option<PathBuf>,
}

/// Both files read and merged.
pub(super) struct Loaded {
    pub(super) set: ProfileSet,
    pub(super) credentials_found: bool,
    pub(super) config_found: bool,
}

impl Loaded {
    pub(super) fn found_any(&self) -> bool {
        self.credentials_found || self.config_found
    }
}

/// A file that exists but could not be read.
pub(super) struct ReadError {
    pub(super) path: PathBuf,
    pub(super) source: io::Error,
}

impl SharedFiles {
    pub(super) fn from_env(env: &dyn EnvSource) -> Self {
        let home = home_dir(env);
        let pick = |var: &str, default: &str| match env.var(var) {
            Some(p) => Some(expand_home(p.trim(), home.as_deref())),
            None => home.as_ref().map(|h| h.join(".aws").join(default)),
        };
        Self {
            credentials: pick("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            config: pick("AWS_CONFIG_FILE", "config"),
        }
    }

    /// "looked for /home/u/.aws/credentials and /home/u/.aws/config", or why there was
    /// nothing to look for.
    pub(super) fn describe(&self) -> String {
        const NONE: &str = "no home directory";
        match (&self.credentials, &self.config) {
            (Some(a), Some(b)) => format!("looked for {} and {}", a.display(), b.display()),
            (Some(a), None) => format!("looked for {}; {NONE} for the config file", a.display()),
            (None, Some(b)) => {
                format!(
                    "looked for {}; {NONE} for the credentials file",
                    b.display()
                )
            }
            (None, None) => format!(
                "{NONE}, and neither AWS_SHARED_CREDENTIALS_FILE nor AWS_CONFIG_FILE is set"
            ),
        }
    }

    /// Reads both files (a missing file reads as empty) and merges them.
    pub(super) async fn load(&self) -> Result<Loaded, ReadError> {
        let config = read_optional(self.config.as_deref()).await?;
        let credentials = read_optional(self.credentials.as_deref()).await?;
        let config_found = config.is_some();
        let credentials_found = credentials.is_some();
        let set = ProfileSet::merge(
            parse::parse(config.as_deref().unwrap_or(""), FileKind::Config),
            parse::parse(credentials.as_deref().unwrap_or(""), FileKind::Credentials),
        );
        Ok(Loaded {
            set,
            credentials_found,
            config_found,
        })
    }
}

/// `~` or `~/…` in a variable means the home directory, as in the AWS CLI.
pub(super) fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    if let Some(home) = home {
        if path == "~" {
            return home.to_path_buf();
        }
        if let Some(rest) = path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\")) {
            return home.join(rest);
        }
    }
    PathBuf::from(path)
}

/// The file's text, `None` if it does not exist. Not UTF-8 bytes are replaced, not refused.
pub(super) async fn read_optional(path: Option<&Path>) -> Result<Option<String>, ReadError> {
    let Some(path) = path else { return Ok(None) };
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(source) => Err(ReadError {
            path: path.to_path_buf(),
            source,
        }),
    }
}
