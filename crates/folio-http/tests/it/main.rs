//! HTTP tests against a real folio server on an ephemeral port.

mod access;
mod filters;
mod jsonapi;
mod server;
mod styles;
