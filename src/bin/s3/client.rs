//! The client the commands share, configured the AWS CLI's way.

use crate::args::Global;
use crate::report::Failure;
use async_s3::Client;

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
    if let Some(name) = &global.profile {
        builder = builder.profile(name);
    }
    if let Some(rate) = global.max_bandwidth {
        builder = builder.max_bandwidth(rate);
    }
    let builder = builder
        .load_env()
        .await
        .map_err(|e| Failure::from_error(&e))?;
    builder.build().map_err(|e| Failure::from_error(&e))
}
