//! The command line: global options, one subcommand per job, and the usage-error exit.

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// An S3 client on the command line, built on the async-s3 library.
#[derive(Debug, Parser)]
#[command(name = "s3", version)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub(crate) struct Global {
    /// The profile of ~/.aws/config and ~/.aws/credentials (else AWS_PROFILE, else default).
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// The region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region).
    #[arg(long, global = true, value_name = "REGION")]
    pub(crate) region: Option<String>,
    /// The endpoint URL, for S3-compatible stores (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
    /// the profile's endpoint_url). An http:// URL given here is used as given.
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) endpoint_url: Option<String>,
    /// Requests in flight per transfer (parts or ranges), and objects at a time for --recursive.
    #[arg(long, global = true, default_value_t = async_s3::DEFAULT_CONCURRENCY,
          value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
    pub(crate) concurrency: usize,
    /// The part size of multipart uploads, ranged downloads and copies, in bytes; K, M and G
    /// (powers of 1024) are accepted: 8M, 64M.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) part_size: Option<u64>,
    /// Caps the bytes per second this run sends and receives, all transfers together (the
    /// AWS CLI's form: 10MB/s, 512KB/s, or plain bytes per second; K, M and G are powers of
    /// 1024).
    #[arg(long, global = true, value_name = "RATE", value_parser = parse_bandwidth)]
    pub(crate) max_bandwidth: Option<u64>,
    /// No progress bars and no line per object; errors are still printed.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Lists buckets, or the objects and prefixes under s3://bucket[/prefix].
    Ls(Ls),
    /// Copies local <-> s3 <-> s3 (server-side between buckets).
    Cp(Transfer),
    /// Moves: copies, then deletes each source that was copied.
    Mv(Transfer),
    /// Deletes an object, or every object under a prefix with --recursive.
    Rm(Rm),
    /// Makes a bucket.
    Mb(BucketArg),
    /// Removes an empty bucket (with --force, deletes its objects first).
    Rb(Rb),
    /// Writes an object to stdout.
    Cat(ObjectArg),
    /// Shows an object's metadata (HeadObject).
    Stat(Stat),
    /// Prints a presigned URL for an object.
    Presign(Presign),
    /// Makes the destination hold what the source holds (local dir <-> s3 prefix): copies what
    /// is missing, differs in size or is newer at the source.
    Sync(Sync),
}

#[derive(Debug, Args)]
pub(crate) struct Ls {
    /// s3://bucket[/prefix]; none lists the buckets.
    pub(crate) url: Option<String>,
    /// Every object under the prefix, not one level.
    #[arg(long, short)]
    pub(crate) recursive: bool,
    /// Sizes in KiB, MiB, GiB.
    #[arg(long, short = 'H')]
    pub(crate) human_readable: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub(crate) json: bool,
    /// Every version and delete marker (ListObjectVersions), each with its version id.
    #[arg(long)]
    pub(crate) versions: bool,
}

#[derive(Debug, Args)]
pub(crate) struct Transfer {
    /// A local path or s3://bucket/key.
    pub(crate) source: String,
    /// A local path or s3://bucket/key; a key ending in / (or an existing directory) takes the
    /// source's name.
    pub(crate) dest: String,
    /// A directory or a prefix, with everything under it.
    #[arg(long, short)]
    pub(crate) recursive: bool,
}

/// Which files a sync takes (the library's patterns, on paths relative to the directory or
/// the prefix).
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct Filter {
    /// Takes only the files that match a pattern (repeatable): `*` stays within a directory,
    /// `**` crosses them, `?` is one character; a pattern without `/` is matched against the
    /// file name at any depth.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) include: Vec<String>,
    /// Leaves out the files that match (repeatable; wins over --include). A file left out is
    /// never deleted either.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct Rm {
    /// s3://bucket/key, or s3://bucket/prefix with --recursive.
    pub(crate) url: String,
    /// Every object under the prefix (DeleteObjects, 1000 keys a request).
    #[arg(long, short)]
    pub(crate) recursive: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BucketArg {
    /// s3://bucket
    pub(crate) url: String,
}

#[derive(Debug, Args)]
pub(crate) struct Rb {
    /// s3://bucket
    pub(crate) url: String,
    /// Deletes every object first.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ObjectArg {
    /// s3://bucket/key
    pub(crate) url: String,
}

#[derive(Debug, Args)]
pub(crate) struct Stat {
    /// s3://bucket/key
    pub(crate) url: String,
    /// One JSON object.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Method {
    Get,
    Put,
}

#[derive(Debug, Args)]
pub(crate) struct Presign {
    /// s3://bucket/key
    pub(crate) url: String,
    /// How long the URL is valid, in seconds (at most 604800, 7 days).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub(crate) expires_in: u64,
    /// The request the URL allows.
    #[arg(long, value_enum, default_value_t = Method::Get)]
    pub(crate) method: Method,
}

#[derive(Debug, Args)]
pub(crate) struct Sync {
    /// A local directory or s3://bucket/prefix.
    pub(crate) source: String,
    /// A local directory or s3://bucket/prefix (one side must be local).
    pub(crate) dest: String,
    /// Also deletes what the destination has and the source does not.
    #[arg(long)]
    pub(crate) delete: bool,
    /// Prints what would be done, does nothing.
    #[arg(long)]
    pub(crate) dryrun: bool,
    #[command(flatten)]
    pub(crate) filter: Filter,
}

/// `8388608`, `8M`, `64MiB`, `1G`: a size in bytes (K, M, G are powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let n: u64 = n.parse().map_err(|_| format!("{s:?} is not a size"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{s:?}: the unit must be K, M or G")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// `10MB/s`, `512KB/s`, `1048576`: a rate in bytes per second, a size as [`parse_size`]
/// reads it with an optional `/s`; at least 1.
fn parse_bandwidth(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let size = t
        .strip_suffix("/s")
        .or_else(|| t.strip_suffix("/S"))
        .unwrap_or(t);
    match parse_size(size) {
        Ok(0) => Err(format!(
            "{s:?}: the rate must be at least 1 byte per second"
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "{s:?} is not a rate (bytes per second, or with a unit: 512KB/s, 10MB/s)"
        )),
    }
}

/// Prints a clap error and returns its exit code: help and version go to stdout with 0, a
/// usage error is one line on stderr with 2.
pub(crate) fn usage_exit(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = e.print();
        return ExitCode::from(
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                2
            } else {
                0
            },
        );
    }
    eprintln!("s3: {} (see s3 --help)", one_line(&e.render().to_string()));
    ExitCode::from(2)
}

/// The text before clap's usage block, on one line.
fn one_line(rendered: &str) -> String {
    let head = rendered
        .split("\n\nUsage:")
        .next()
        .unwrap_or(rendered)
        .split("\n\nFor more information")
        .next()
        .unwrap_or(rendered);
    let mut out = head.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(rest) = out.strip_prefix("error: ") {
        out = rest.to_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("5242880"), Ok(5_242_880));
        assert!(parse_size("8X").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn bandwidths() {
        assert_eq!(parse_bandwidth("10MB/s"), Ok(10 << 20));
        assert_eq!(parse_bandwidth("512KB/s"), Ok(512 << 10));
        assert_eq!(parse_bandwidth("1gb/S"), Ok(1 << 30));
        assert_eq!(parse_bandwidth("250000"), Ok(250_000));
        assert_eq!(parse_bandwidth("64K"), Ok(64 << 10));
        for bad in [
            "0",
            "0MB/s",
            "fast",
            "10MB/min",
            "/s",
            "-5",
            "99999999999G/s",
        ] {
            assert!(parse_bandwidth(bad).is_err(), "{bad}");
        }
        let cli = Cli::try_parse_from(["s3", "--max-bandwidth", "512KB/s", "ls"]).unwrap();
        assert_eq!(cli.global.max_bandwidth, Some(512 << 10));
    }

    #[test]
    fn usage_errors_fit_on_one_line() {
        let e = Cli::try_parse_from(["s3", "cp", "a"]).expect_err("missing dest");
        let line = one_line(&e.render().to_string());
        assert!(!line.contains('\n') && line.contains("<DEST>"), "{line}");
    }
}
