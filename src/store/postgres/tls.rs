//! How connections are made: the URL's settings, applied to each new
//! connection.

use postgres::{Client, Config, NoTls};

use crate::store::StoreError;

/// How to secure a connection.
#[derive(Clone, Debug)]
pub(super) struct Tls;

impl Tls {
    /// One connection attempt.
    pub(super) fn connect(&self, config: &Config) -> Result<Client, StoreError> {
        Ok(config.connect(NoTls)?)
    }
}
