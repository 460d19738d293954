//! The client the commands share, configured the AWS CLI's way.

use crate::args::Global;
use crate::report::Failure;
use async_s3::Client;
use std::process::ExitCode;

/// The variable the library's profile resolution reads.
const PROFILE_VAR: &str = "AWS_PROFILE";

/// `--profile NAME`: the library reads the profile from `AWS_PROFILE` (its default chain, the
/// region and the endpoint all follow it), and a process cannot change its own environment
/// without `unsafe` (forbidden here), so the tool runs itself again with `AWS_PROFILE=NAME`
/// and exits with that run's code. `None` when no second run is needed.
pub(crate) fn rerun_with_profile(global: &Global) -> Option<ExitCode> {
    let name = global.profile.as_deref()?;
    if std::env::var(PROFILE_VAR).is_ok_and(|v| v == name) {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("s3: --profile: cannot find this program to run it again: {e}");
            return Some(ExitCode::from(1));
        }
    };
    let status = wait_for(
        tokio::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(PROFILE_VAR, name),
    );
    Some(match status {
        Ok(s) => ExitCode::from(s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("s3: --profile: cannot run this program again: {e}");
            ExitCode::from(1)
        }
    })
}

/// Runs the command to its end. Ctrl-C reaches it too (same process group); this process
/// waits for it to cancel its transfers instead of dying first.
fn wait_for(command: &mut tokio::process::Command) -> std::io::Result<std::process::ExitStatus> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut child = command.spawn()?;
        loop {
            tokio::select! {
                status = child.wait() => return status,
                _ = tokio::signal::ctrl_c() => {}
            }
        }
    })
}

/// A client from the options, then the environment and the shared files (options win).
pub(crate) async fn build(global: &Global) -> Result<Client, Failure> {
    let mut builder = Client::builder();
    if let Some(region) = &global.region {
        builder = builder.region(region);
    }
    if let Some(url) = &global.endpoint_url {
        // An endpoint given on the command line is the user's explicit choice, plain http too.
        builder = builder.endpoint(url);
        if url.starts_with("http://") {
            builder = builder.allow_http(true);
        }
    }
    let builder = builder
        .load_env()
        .await
        .map_err(|e| Failure::from_error(&e))?;
    builder.build().map_err(|e| Failure::from_error(&e))
}
