//! A [`Transport`] that hands each request straight to a [`Server`] in the same process.

use std::sync::Arc;

use super::Server;
use crate::transport::{Transport, TransportError};

/// Connects a client to an in-process [`Server`]; clones share the server.
#[derive(Clone)]
pub struct Loopback {
    server: Arc<Server>,
}

impl Loopback {
    pub fn new(server: Arc<Server>) -> Self {
        Loopback { server }
    }

    /// The server on the other end.
    pub fn server(&self) -> &Server {
        &self.server
    }
}

impl Transport for Loopback {
    fn exchange(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.server.handle(request, response)
    }
}
