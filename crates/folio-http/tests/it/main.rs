//! HTTP tests against a real folio server on an ephemeral port.

mod access;
mod ahead;
mod browse;
mod cache;
mod export;
mod filters;
mod hostile;
mod jsonapi;
mod maps;
mod openapi;
mod parsers;
mod server;
mod styles;
