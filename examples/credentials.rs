//! Shows which provider supplies credentials, and never the secret.
//!
//! ```text
//! cargo run --example credentials                  # a demo chain over a temporary profile file
//! cargo run --example credentials -- --default     # the real default chain of this machine
//! ```
//!
//! For a profile it also says where the profile's credentials come from (static keys, a role
//! assumed through STS via which profile, `credential_process`, …), read from the files
//! without contacting anything.
//!
//! The default chain asks, in order: the environment, the shared profile files, web identity,
//! container credentials and, last, the EC2 instance metadata service — which is why the demo
//! does not walk it unless asked: off EC2 that last step only times out.

#![allow(clippy::print_stdout)]

use async_s3::ProvideCredentials;
use async_s3::credentials::{DefaultChain, EnvironmentProvider, ProfileProvider};
use std::sync::Arc;

/// The access key id with its middle hidden: enough to recognise, not to use.
fn masked(id: &str) -> String {
    if id.len() <= 8 {
        return "****".to_owned();
    }
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let use_default = std::env::args().any(|a| a == "--default");
    let dir = tempfile::tempdir()?;
    let chain = if use_default {
        println!("walking the default chain of this machine");
        DefaultChain::new()
    } else {
        let creds = dir.path().join("credentials");
        std::fs::write(
            &creds,
            "# a demo profile, written by the example\n[demo]\naws_access_key_id = AKIAEXAMPLEDEMO12345\naws_secret_access_key = not-a-real-secret\n",
        )?;
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "[profile demo]\nregion = eu-central-1\n\
             [profile deploy]\nrole_arn = arn:aws:iam::111122223333:role/deploy\n\
             source_profile = demo\nrole_session_name = example\n\
             [profile sso-dev]\nsso_session = corp\nsso_account_id = 111122223333\n\
             sso_role_name = ReadOnly\n\
             [sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n\
             sso_region = eu-west-1\n",
        )?;
        // What a role profile would do, said without calling STS.
        let deploy = ProfileProvider::new()
            .profile("deploy")
            .credentials_file(&creds)
            .config_file(&config);
        println!("profile \"deploy\" would use: {}", deploy.describe().await?);
        let sso = ProfileProvider::new()
            .profile("sso-dev")
            .credentials_file(&creds)
            .config_file(&config);
        println!("profile \"sso-dev\" would use: {}", sso.describe().await?);
        println!(
            "a demo chain: the environment, then profile \"demo\" in {}",
            creds.display()
        );
        let profile = ProfileProvider::new()
            .profile("demo")
            .credentials_file(&creds)
            .config_file(&config);
        DefaultChain::from_providers([
            (
                "environment",
                Arc::new(EnvironmentProvider::new()) as Arc<dyn ProvideCredentials>,
            ),
            ("profile", Arc::new(profile)),
        ])
    };
    println!("providers, in order: {}", chain.provider_names().join(", "));
    match chain.resolve().await {
        Ok((creds, provider)) => {
            println!(
                "credentials from the {provider} provider: access key {}, session token {}, expiry {}",
                masked(creds.access_key_id()),
                if creds.session_token().is_some() {
                    "present"
                } else {
                    "none"
                },
                creds
                    .expiry()
                    .map_or("none".to_owned(), |e| format!("{e:?}")),
            );
            println!("Debug is safe to log: {creds:?}");
            if provider == "profile" {
                let profile = if use_default {
                    ProfileProvider::new()
                } else {
                    ProfileProvider::new()
                        .profile("demo")
                        .credentials_file(dir.path().join("credentials"))
                        .config_file(dir.path().join("config"))
                };
                match profile.describe().await {
                    Ok(source) => println!("the profile's source: {source}"),
                    Err(e) => println!("the profile's source cannot be described: {e}"),
                }
            }
        }
        Err(e) => println!("no credentials: {e}"),
    }
    Ok(())
}
