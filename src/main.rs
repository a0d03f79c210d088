//! The `organizer` binary: parse the command line, set up logging, hand over to the library.
//! The only place that writes to stdout/stderr directly (the SDL, and a warning given
//! before logging is set up).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::Parser;
use organizer::config::{Cli, Command};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env is normal; a broken one is worth knowing about.
    if let Err(err) = dotenvy::dotenv()
        && !err.not_found()
    {
        eprintln!("warning: could not read .env: {err}");
    }
    let cli = Cli::parse();
    organizer::telemetry::init();
    match cli.command {
        Command::Serve(config) => {
            let app = organizer::startup::Application::build(config).await?;
            app.run_until_stopped().await
        }
        Command::Worker(config) => organizer::startup::run_worker(config).await,
        Command::Migrate(args) => organizer::db::migrate_command(&args).await,
        Command::Schema => {
            print!("{}", organizer::graphql::sdl());
            Ok(())
        }
    }
}
