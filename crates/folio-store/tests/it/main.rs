//! Integration tests of the stores against a real database.

mod walk;
