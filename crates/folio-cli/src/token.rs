//! `folio token` and `folio private`: edit the access file that `folio serve` reads.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use folio_http::TokenDigest;

use crate::access::{self, Collections, Location, TokenEntry};

/// Where the access file is, for every subcommand.
#[derive(Debug, Args)]
pub(crate) struct FileArgs {
    /// The access file. Without it, DATA_DIR/access.json, which `folio serve` reads by default.
    #[arg(long, value_name = "FILE", global = true)]
    access: Option<PathBuf>,

    /// The data directory whose access.json to use when --access is not given.
    #[arg(long, default_value = "./folio-data", value_name = "DIR", global = true)]
    data_dir: PathBuf,
}

impl FileArgs {
    fn path(&self) -> PathBuf {
        Location::new(self.access.as_deref(), &self.data_dir).path
    }
}

/// Create, list and revoke the bearer tokens that read private collections.
///
/// A token is printed once, when it is created; folio keeps only its SHA-256 hash. A running
/// `folio serve` reads the access file again on SIGHUP (or at its next start).
///
/// Examples:
///   folio token create --name alice --collections entries,dois
///   folio token create --name ops --collections '*'
///   folio token list
///   folio token revoke --name alice
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
    #[command(flatten)]
    file: FileArgs,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it (only this once) on standard output.
    Create {
        /// Who the token is for: its principal, named in listings and logs (1 to 64 ASCII
        /// letters, digits, `_`, `-`, `.` or `@`).
        #[arg(long)]
        name: String,
        /// The collections it may read: a comma-separated list, or `*` for all.
        #[arg(long, value_name = "LIST")]
        collections: String,
    },
    /// List the tokens: names and collections (never tokens or hashes).
    List,
    /// Revoke a token: it no longer reads anything once the server has read the file again.
    Revoke {
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

/// Make collections private (readable only with a token that grants them) or public again.
///
/// Examples:
///   folio private add entries
///   folio private list
///   folio private remove entries
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct PrivateArgs {
    #[command(subcommand)]
    command: PrivateCommand,
    #[command(flatten)]
    file: FileArgs,
}

#[derive(Debug, Subcommand)]
enum PrivateCommand {
    /// Make collections private.
    Add {
        /// The collections.
        #[arg(required = true, value_name = "COLLECTION")]
        collections: Vec<String>,
    },
    /// Make private collections public again.
    Remove {
        /// The collections.
        #[arg(required = true, value_name = "COLLECTION")]
        collections: Vec<String>,
    },
    /// List the private collections.
    List,
}

/// Runs `folio token`.
pub(crate) fn run_token(args: TokenArgs) -> anyhow::Result<()> {
    let path = args.file.path();
    match args.command {
        TokenCommand::Create { name, collections } => {
            access::validate_name(&name)?;
            let collections = Collections::parse(&collections)?;
            let token = access::new_token()?;
            let unprotected = access::edit(&path, |file| {
                if file.tokens.iter().any(|t| t.name == name) {
                    bail!("a token named `{name}` exists; revoke it first (folio token revoke --name {name})");
                }
                file.tokens.push(TokenEntry {
                    name: name.clone(),
                    hash: access::format_hash(TokenDigest::of(&token)),
                    collections: collections.clone(),
                });
                let private = file.private_set();
                Ok(match &collections {
                    Collections::Only(names) => names
                        .iter()
                        .filter(|n| !private.contains(n.as_str()))
                        .cloned()
                        .collect(),
                    Collections::All(_) => Vec::new(),
                })
            })?;
            println!("{token}");
            eprintln!(
                "created token `{name}` for {collections}: it is shown only this once, and {} keeps only its hash",
                path.display()
            );
            if !unprotected.is_empty() {
                eprintln!(
                    "note: not private yet, so readable without a token: {} (folio private add {})",
                    unprotected.join(", "),
                    unprotected.join(" ")
                );
            }
            reload_hint();
        }
        TokenCommand::List => {
            let file = access::read(&path)?.unwrap_or_default();
            if file.tokens.is_empty() {
                eprintln!("no tokens in {}", path.display());
            }
            for token in &file.tokens {
                println!("{}\t{}", token.name, token.collections);
            }
        }
        TokenCommand::Revoke { name } => {
            access::edit(&path, |file| {
                let before = file.tokens.len();
                file.tokens.retain(|t| t.name != name);
                if file.tokens.len() == before {
                    bail!("no token is named `{name}`; `folio token list` shows them");
                }
                Ok(())
            })?;
            eprintln!("revoked token `{name}`");
            reload_hint();
        }
    }
    Ok(())
}

/// Runs `folio private`.
pub(crate) fn run_private(args: PrivateArgs) -> anyhow::Result<()> {
    let path = args.file.path();
    match args.command {
        PrivateCommand::Add { collections } => {
            for name in &collections {
                access::check_collection(name)?;
            }
            let private = access::edit(&path, |file| {
                for name in collections {
                    if !file.private.contains(&name) {
                        file.private.push(name);
                    }
                }
                file.private.sort();
                Ok(file.private.join(", "))
            })?;
            eprintln!("private collections: {private}");
            reload_hint();
        }
        PrivateCommand::Remove { collections } => {
            access::edit(&path, |file| {
                if let Some(name) = collections.iter().find(|n| !file.private.contains(n)) {
                    let private = match file.private.join(", ") {
                        none if none.is_empty() => "no collection is private".to_owned(),
                        some => format!("the private collections are: {some}"),
                    };
                    bail!("`{name}` is not private; {private}");
                }
                file.private.retain(|n| !collections.contains(n));
                Ok(())
            })?;
            eprintln!("public again: {}", collections.join(", "));
            reload_hint();
        }
        PrivateCommand::List => {
            for name in access::read(&path)?.unwrap_or_default().private_set() {
                println!("{name}");
            }
        }
    }
    Ok(())
}

fn reload_hint() {
    eprintln!("a running folio serve applies this on SIGHUP (kill -HUP <pid>) or when it restarts");
}
