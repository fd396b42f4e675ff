//! The `folio` command: serve paginated collections over HTTP.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]
// The doc comments of the CLI types are its `--help` text, which names parameters such as
// page[size] and example URLs; escaping them for rustdoc would show the escapes in the help.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

mod access;
mod delete;
mod drop;
mod harvest;
mod import;
mod progress;
mod secret;
mod serve;
mod store;
mod token;

use clap::{Parser, Subcommand};

/// Fast, correct pagination for large collections.
///
/// folio publishes collections of JSON documents over HTTP with every pagination method real
/// APIs use (page numbers, offsets, signed cursors) in the request and response styles of
/// well-known APIs. Start with `folio serve --demo`, then open
/// http://127.0.0.1:8080/jsonapi/entries?page[cursor]=1 and follow `links.next`.
#[derive(Debug, Parser)]
#[command(name = "folio", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Serve(serve::ServeArgs),
    Import(import::ImportArgs),
    Drop(drop::DropArgs),
    Delete(delete::DeleteArgs),
    Harvest(harvest::HarvestArgs),
    Token(token::TokenArgs),
    Private(token::PrivateArgs),
    Secret(secret::SecretArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Import(args) => import::run(args),
        Command::Drop(args) => drop::run(args),
        Command::Delete(args) => delete::run(args),
        Command::Harvest(args) => harvest::run(args),
        Command::Token(args) => token::run_token(args),
        Command::Private(args) => token::run_private(args),
        Command::Secret(args) => secret::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
