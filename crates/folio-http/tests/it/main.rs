//! HTTP tests against a real folio server on an ephemeral port.

mod browse;
mod filters;
mod jsonapi;
mod openapi;
mod server;
mod styles;
