//! HTTP tests against a real folio server on an ephemeral port.

mod filters;
mod jsonapi;
mod openapi;
mod server;
mod styles;
