//! Where a command reads or writes: `s3://bucket/key` or a local path.

use crate::report::Failure;
use std::path::PathBuf;

/// A parsed command-line location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A local file or directory.
    Local(PathBuf),
    /// An object, or a prefix when the key is empty or ends in `/`.
    S3(S3Url),
}

/// `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Url {
    pub(crate) bucket: String,
    pub(crate) key: String,
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

impl S3Url {
    /// The same bucket with another key.
    pub(crate) fn with_key(&self, key: impl Into<String>) -> Self {
        Self {
            bucket: self.bucket.clone(),
            key: key.into(),
        }
    }

    /// The key as a prefix of a "directory": empty, or ending in `/`.
    pub(crate) fn dir_prefix(&self) -> String {
        if self.key.is_empty() || self.key.ends_with('/') {
            self.key.clone()
        } else {
            format!("{}/", self.key)
        }
    }

    /// The last segment of the key (what a copy to a directory names the file).
    pub(crate) fn basename(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or(&self.key)
    }
}

impl Location {
    /// Parses `s3://bucket[/key]` or takes the text as a local path.
    pub(crate) fn parse(text: &str) -> Result<Self, Failure> {
        match text.strip_prefix("s3://") {
            Some(rest) => S3Url::parse_rest(rest, text).map(Location::S3),
            None if text.is_empty() => Err(Failure::usage("an empty path")),
            None => Ok(Location::Local(PathBuf::from(text))),
        }
    }
}

impl S3Url {
    /// Parses an argument that must be an S3 URL.
    pub(crate) fn parse(text: &str) -> Result<Self, Failure> {
        match text.strip_prefix("s3://") {
            Some(rest) => Self::parse_rest(rest, text),
            None => Err(Failure::usage(format!(
                "{text:?} is not an s3://bucket/key URL"
            ))),
        }
    }

    /// Parses an argument that must name a bucket only (`s3://bucket` or `s3://bucket/`).
    pub(crate) fn parse_bucket(text: &str) -> Result<String, Failure> {
        let url = Self::parse(text)?;
        if url.key.is_empty() {
            Ok(url.bucket)
        } else {
            Err(Failure::usage(format!(
                "{text:?} names a key; give s3://bucket"
            )))
        }
    }

    /// Parses an argument that must name an object (a non-empty key not ending in `/`).
    pub(crate) fn parse_object(text: &str) -> Result<Self, Failure> {
        let url = Self::parse(text)?;
        if url.key.is_empty() || url.key.ends_with('/') {
            return Err(Failure::usage(format!("{text:?} names no object")));
        }
        Ok(url)
    }

    fn parse_rest(rest: &str, text: &str) -> Result<Self, Failure> {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Failure::usage(format!("{text:?} has no bucket")));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        let url = |b: &str, k: &str| {
            Location::S3(S3Url {
                bucket: b.into(),
                key: k.into(),
            })
        };
        assert_eq!(Location::parse("s3://b").ok(), Some(url("b", "")));
        assert_eq!(Location::parse("s3://b/").ok(), Some(url("b", "")));
        assert_eq!(
            Location::parse("s3://b/a/c.txt").ok(),
            Some(url("b", "a/c.txt"))
        );
        assert_eq!(
            Location::parse("./x").ok(),
            Some(Location::Local(PathBuf::from("./x")))
        );
        assert!(Location::parse("s3:///k").is_err());
        assert!(S3Url::parse_object("s3://b/dir/").is_err());
        assert!(S3Url::parse_bucket("s3://b/k").is_err());
        assert_eq!(
            S3Url::parse("s3://b/a/c.txt")
                .map(|u| u.basename().to_owned())
                .ok(),
            Some("c.txt".into())
        );
    }
}
