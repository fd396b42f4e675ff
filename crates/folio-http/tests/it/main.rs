//! HTTP tests against a real folio server on an ephemeral port.

mod access;
mod filters;
mod hostile;
mod jsonapi;
mod server;
mod styles;
