//! `hirewire`: the server, migrations and the admin commands (DESIGN §2).

mod cli;
mod parse;
mod settings;
mod stores;

use std::process::ExitCode;

use clap::Parser;

/// Requests allocate many small short-lived strings across two worker threads; mimalloc's
/// per-thread free lists serve them faster than the system allocator (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
