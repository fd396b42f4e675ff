//! Integration tests of the stores against a real database.

mod concurrent;
mod snapshot;
mod walk;
