//! [`Client`] and the [`Bucket`] handle: the entry points that hand out operation builders
//! (`handles.rs`), and [`ClientBuilder`], which makes a client (`builder.rs`, with the
//! environment and profile resolution in `from_env.rs`).

mod builder;
mod from_env;
mod handles;

pub use builder::ClientBuilder;
pub use handles::{Bucket, Client};
