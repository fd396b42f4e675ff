//! Tests of the `folio` binary as users run it.

mod serve;
