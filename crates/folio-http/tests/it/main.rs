//! HTTP tests against a real folio server on an ephemeral port.

mod jsonapi;
mod server;
