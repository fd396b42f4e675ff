//! Private collections: which collections need a bearer token, which tokens exist, and what
//! each one may read.
//!
//! An [`AccessPolicy`] lists the private collections and the [`TokenGrant`]s. A token is
//! never kept, only its [`TokenDigest`] (SHA-256). Every request is resolved once into a
//! [`Caller`] (in `caller.rs`), and [`crate::AppState`] asks it before any collection is read,
//! listed or paged, so the decision is made in one place for every style:
//!
//! - a public collection ignores tokens entirely;
//! - a private collection without a bearer token is a 401 with `WWW-Authenticate: Bearer`;
//! - a private collection with a token that is unknown or does not grant it is exactly the
//!   404 of a collection that does not exist, so a token holder learns nothing about
//!   collections it may not read (a caller without a token learns that the name is private:
//!   the 401 says so, as it must to ask for a token).
//!
//! Cursors of private collections are bound to the principal (the token's name) that received
//! them; see `AppState::cursor`.

mod caller;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

pub(crate) use caller::{Caller, protect};

/// The SHA-256 digest of a bearer token: what is stored instead of the token.
///
/// A fast hash is the right one here, unlike for passwords: tokens are 256 random bits, so
/// nobody can guess one from its digest however cheaply digests are computed, and a slow hash
/// would only cost every request time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The digest of a token as presented (the whole text, prefix included).
    pub fn of(token: &str) -> TokenDigest {
        TokenDigest(Sha256::digest(token.as_bytes()).into())
    }

    /// A digest read back from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> TokenDigest {
        TokenDigest(bytes)
    }

    /// The digest's bytes, for storage.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }
}

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Digests are not secrets, but nothing about tokens belongs in logs.
        f.write_str("TokenDigest(..)")
    }
}

/// Which collections a token may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every collection (`"*"`).
    All,
    /// These collections.
    Only(BTreeSet<String>),
}

impl Scope {
    /// Whether the scope includes `collection`.
    pub fn allows(&self, collection: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(names) => names.contains(collection),
        }
    }
}

/// A token: the principal's name, the digest of the token, and what it may read.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// The principal: who holds the token. Cursors are bound to it, and it is what logs name.
    pub name: String,
    /// The token's digest.
    pub digest: TokenDigest,
    /// What it may read.
    pub scope: Scope,
}

/// Why a policy cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// Two tokens with one name: the name is the principal, so it must be unique.
    #[error("two tokens are named `{0}`; names identify principals and must be unique")]
    DuplicateName(String),
    /// Two tokens with one digest: the same token twice.
    #[error("tokens `{0}` and `{1}` have the same hash")]
    DuplicateDigest(String, String),
    /// An empty principal name.
    #[error("a token has an empty name")]
    EmptyName,
}

/// Which collections are private, and the tokens that read them.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    private: BTreeSet<String>,
    tokens: Vec<TokenGrant>,
}

impl AccessPolicy {
    /// The policy under which every collection is public (no tokens needed, none known).
    pub fn public() -> AccessPolicy {
        AccessPolicy::default()
    }

    /// A policy with `private` collections and the tokens in `tokens`.
    pub fn new(
        private: impl IntoIterator<Item = String>,
        tokens: Vec<TokenGrant>,
    ) -> Result<AccessPolicy, AccessError> {
        for (i, grant) in tokens.iter().enumerate() {
            if grant.name.is_empty() {
                return Err(AccessError::EmptyName);
            }
            for earlier in &tokens[..i] {
                if earlier.name == grant.name {
                    return Err(AccessError::DuplicateName(grant.name.clone()));
                }
                if earlier.digest == grant.digest {
                    return Err(AccessError::DuplicateDigest(earlier.name.clone(), grant.name.clone()));
                }
            }
        }
        Ok(AccessPolicy {
            private: private.into_iter().collect(),
            tokens,
        })
    }

    /// Whether `collection` needs a token.
    pub fn is_private(&self, collection: &str) -> bool {
        self.private.contains(collection)
    }

    /// The private collections, by name.
    pub fn private(&self) -> impl Iterator<Item = &str> {
        self.private.iter().map(String::as_str)
    }

    /// The tokens.
    pub fn tokens(&self) -> &[TokenGrant] {
        &self.tokens
    }

    /// The index of the grant whose digest is the digest of `token`, if any.
    ///
    /// The presented token is hashed, and the digest compared with every stored digest in
    /// constant time, without stopping at a match, and the index picked without branching on
    /// the comparisons: how long this takes depends on the number of tokens and the length of
    /// the presented token, both known to the caller, and not on which digest matched or how
    /// much of one did. (Even a leaky comparison of digests would only reveal digest prefixes
    /// of tokens the caller chose, which do not help find a valid token; the constant-time
    /// scan means that argument is not needed.)
    fn authenticate(&self, token: &str) -> Option<usize> {
        let digest = TokenDigest::of(token);
        let mut found = Choice::from(0);
        let mut index = 0u64;
        for (i, grant) in self.tokens.iter().enumerate() {
            let matches = grant.digest.0.ct_eq(&digest.0);
            index.conditional_assign(&(i as u64), matches);
            found |= matches;
        }
        bool::from(found).then_some(index as usize)
    }
}

/// The policy a running server applies, replaceable while it runs (`folio serve` reloads its
/// access file on SIGHUP). Each request takes one snapshot, so it is decided under one policy
/// from start to end.
pub type AccessHandle = crate::state::Swap<AccessPolicy>;
