//! HTTP tests against a real folio server on an ephemeral port.

mod filters;
mod jsonapi;
mod parsers;
mod server;
mod styles;
