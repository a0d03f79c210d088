//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"))
}

/// Installs the global subscriber, logging to stderr; colours only when stderr is a
/// terminal (and `NO_COLOR` is not set), so files and log collectors get plain text.
pub fn init() {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}

/// For tests: logs go to the test harness, which shows them only for failing tests.
/// A second call is a no-op.
pub fn init_for_tests() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_test_writer()
        .try_init();
}
