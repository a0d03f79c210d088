#![allow(clippy::print_stdout, clippy::print_stderr)]
//! `organizer-bench`: measures Organizer through its public API (GraphQL over HTTP and
//! WebSocket, as any client) on a generated tree, against baselines run on the same tree
//! in the same invocation, and checks every answer against the tree's manifest.
//!
//!   cargo build --release && cargo build --release -p organizer-bench
//!   organizer-bench --files 100000                  # embedded: SQLite, in-process queue
//!   organizer-bench --files 20000 --cluster --database-url postgres://… --redis-url redis://…
//!   organizer-bench --smoke                         # CI: correctness only, 10,000 files
//!
//! Exits 1 when a correctness check fails (never because of a timing), 2 on an error.

mod api_load;
mod baselines;
mod client;
mod engine_runs;
mod fanout;
mod hashing;
mod report;
mod search;
mod server;
mod transfer;
mod tree;

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, ValueEnum};

use crate::{
    client::{Api, signup},
    report::{Check, Report, TreeInfo},
    server::{Backend, Deployment},
    tree::{Params, Tree},
};

#[derive(Parser)]
#[command(
    name = "organizer-bench",
    about = "Benchmarks Organizer through its API against fclones, czkawka and raw std::fs loops."
)]
struct Args {
    /// Files in the generated tree [default: 100000; 10000 with --smoke].
    #[arg(long)]
    files: Option<usize>,

    /// Seed of the tree: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Mean file size in KiB (most files are a few KiB, a tail reaches MiB).
    #[arg(long, default_value_t = 16.0)]
    mean_kib: f64,

    /// Share of the files that are extra copies of another file.
    #[arg(long, default_value_t = 0.10)]
    dup_fraction: f64,

    /// Where the tree is cached and the servers keep their data
    /// [default: /tmp/organizer-bench/<files>-<seed>].
    #[arg(long)]
    work: Option<PathBuf>,

    /// The organizer binary [default: $CARGO_TARGET_DIR/release/organizer, else
    /// target/release/organizer of this checkout].
    #[arg(long, env = "ORGANIZER_BIN")]
    organizer: Option<PathBuf>,

    /// Run on PostgreSQL + Redis with separate API and worker processes.
    #[arg(long)]
    cluster: bool,

    /// PostgreSQL server for --cluster (a fresh database is created on it, and dropped).
    #[arg(long)]
    database_url: Option<String>,

    /// Keep the --cluster database afterwards (to read its query plans).
    #[arg(long)]
    keep_database: bool,

    /// Redis for --cluster (database 7 unless the URL names one).
    #[arg(long)]
    redis_url: Option<String>,

    /// `serve --workers 0` processes for --cluster.
    #[arg(long, default_value_t = 1)]
    api_procs: usize,

    /// `worker` processes for --cluster.
    #[arg(long, default_value_t = 2)]
    worker_procs: usize,

    /// Sections to run [default: all].
    #[arg(long, value_delimiter = ',')]
    only: Vec<Section>,

    /// Correctness only, for CI: the engine section on 10,000 files unless --files says.
    #[arg(long)]
    smoke: bool,

    /// Skip comparing every duplicate group through the API (slow at a million files).
    #[arg(long)]
    skip_group_check: bool,

    /// Seconds per API load line.
    #[arg(long, default_value_t = 10.0)]
    api_secs: f64,

    /// WebSocket listeners in the fan-out section.
    #[arg(long, default_value_t = 1000)]
    listeners: usize,

    /// Runs each of the job with no listener and with 50 (the median is compared).
    #[arg(long, default_value_t = 3)]
    fanout_runs: usize,

    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    Engine,
    Baselines,
    Api,
    Fanout,
    /// Engine SHA-256 per core against one-core `sha2` (its own tree of large files).
    Hashing,
    /// `files(search:)` over the whole tree, against a walk matching names.
    Search,
    /// Uploads (10,000 small files; one 1 GiB file) and a 1 GiB download, against a
    /// write loop, `dd` and nginx on the same disk.
    Transfer,
}

fn main() -> ExitCode {
    let args = Args::parse();
    raise_open_file_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let json = args.json.clone();
    // Ctrl-C drops the run's future, and with it every guard: the servers are killed,
    // the tree moved home, the database dropped.
    let outcome = runtime.block_on(async {
        tokio::select! {
            report = run(args) => report,
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        }
    });
    match outcome {
        Ok(report) => {
            print!("{}", report.render());
            if let Some(path) = json {
                let written = serde_json::to_vec_pretty(&report)
                    .map_err(anyhow::Error::from)
                    .and_then(|b| Ok(std::fs::write(&path, b)?));
                if let Err(e) = written {
                    eprintln!("error: could not write {}: {e:#}", path.display());
                    return ExitCode::from(2);
                }
            }
            if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A thousand sockets need more than the usual 1,024 descriptors.
fn raise_open_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            eprintln!("could not raise the open-file limit: {e}");
        }
    }
}

fn organizer_bin(args: &Args) -> PathBuf {
    if let Some(bin) = &args.organizer {
        return bin.clone();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release/organizer")
}

async fn run(args: Args) -> Result<Report> {
    let sections: Vec<Section> = if args.smoke {
        vec![Section::Engine]
    } else if args.only.is_empty() {
        vec![
            Section::Engine,
            Section::Baselines,
            Section::Api,
            Section::Fanout,
            Section::Hashing,
            Section::Search,
            Section::Transfer,
        ]
    } else {
        args.only.clone()
    };
    let wants = |s: Section| sections.contains(&s);
    let files = args
        .files
        .unwrap_or(if args.smoke { 10_000 } else { 100_000 });
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/organizer-bench/{files}-{}", args.seed)));
    let bin = organizer_bin(&args);
    let backend = if args.cluster {
        Backend::Cluster {
            database_url: args
                .database_url
                .clone()
                .context("--cluster needs --database-url")?,
            redis_url: args
                .redis_url
                .clone()
                .context("--cluster needs --redis-url")?,
            api_procs: args.api_procs.max(1),
            worker_procs: args.worker_procs,
            keep_database: args.keep_database,
        }
    } else {
        Backend::Embedded
    };

    let mut report = Report {
        machine: report::machine(),
        organizer: report::organizer(&bin),
        ..Report::default()
    };

    // The tree, unless only sections that need none run.
    let tree = if sections.iter().any(|s| {
        matches!(
            s,
            Section::Engine | Section::Baselines | Section::Fanout | Section::Search
        )
    }) {
        let params = Params::new(files, args.seed, args.mean_kib, args.dup_fraction);
        let tree = tokio::task::block_in_place(|| Tree::prepare(&work, &params))?;
        let e = &tree.expected;
        report.tree = TreeInfo {
            path: tree.root.display().to_string(),
            seed: args.seed,
            files: e.files,
            bytes: e.bytes,
            empty_files: e.empty_files,
            groups: e.groups.len(),
            extra_copies: e.extra_copies,
            extra_bytes: e.extra_bytes,
        };
        Some(tree)
    } else {
        std::fs::create_dir_all(&work)?;
        None
    };
    // The tree holds the work folder's lock; without a tree, hold it here.
    let _lock = match tree {
        Some(_) => None,
        None => Some(tree::WorkLock::take(&work)?),
    };

    // Declared before the servers, so that it is dropped after them.
    let needs_server = wants(Section::Engine)
        || wants(Section::Api)
        || wants(Section::Fanout)
        || wants(Section::Hashing)
        || wants(Section::Search)
        || wants(Section::Transfer);
    let mut deployment = if needs_server {
        eprintln!("starting organizer ({})", bin.display());
        Some(Deployment::start(&bin, &work, &backend).await?)
    } else {
        None
    };
    report.backend = deployment
        .as_ref()
        .map_or("none (baselines only)".into(), |d| d.label.clone());
    let api = deployment.as_ref().map(|d| Api::new(d.api_ports()[0]));
    let mut session = match &api {
        Some(api) => {
            // The random end of a v7 UUID (its start is the time).
            let id = uuid::Uuid::now_v7().simple().to_string();
            let name = format!("bench_{}", &id[20..]);
            Some(signup(api, &name).await?)
        }
        None => None,
    };

    // Before the engine runs: with the index built, their moves keep it up to date too,
    // which is what a user who has searched pays.
    if wants(Section::Search)
        && let (Some(d), Some(api), Some(s), Some(tree)) =
            (&deployment, &api, session.as_mut(), &tree)
    {
        let outcome = async {
            s.refresh(api).await?;
            search::run(d, api, s, tree, &mut report.checks).await
        }
        .await;
        match outcome {
            Ok(found) => report.search = Some(found),
            Err(e) => report
                .checks
                .push(Check::new("search section", false, format!("{e:#}"))),
        }
    }
    if wants(Section::Engine)
        && let (Some(d), Some(api), Some(s), Some(tree)) =
            (deployment.as_mut(), &api, session.as_mut(), &tree)
    {
        match engine_runs::run(d, api, s, tree, !args.skip_group_check, &mut report.checks).await {
            Ok(engine) => report.engine = Some(engine),
            Err(e) => report
                .checks
                .push(Check::new("engine section", false, format!("{e:#}"))),
        }
    }
    if wants(Section::Baselines)
        && let Some(tree) = &tree
    {
        match tokio::task::block_in_place(|| baselines::run(tree, &mut report.checks)) {
            Ok(b) => report.baselines = Some(b),
            Err(e) => report
                .checks
                .push(Check::new("baselines section", false, format!("{e:#}"))),
        }
    }
    if wants(Section::Api)
        && let (Some(d), Some(api), Some(s)) = (&deployment, &api, session.as_mut())
    {
        let outcome = async {
            s.refresh(api).await?;
            api_load::run(d, s, args.api_secs).await
        }
        .await;
        match outcome {
            Ok(load) => {
                let errors: u64 =
                    load.loads.iter().map(|l| l.errors).sum::<u64>() + load.login_errors;
                report.checks.push(Check::new(
                    "api: every request answered 200 without GraphQL errors",
                    errors == 0,
                    format!("{errors} errors"),
                ));
                report.api = Some(load);
            }
            Err(e) => report
                .checks
                .push(Check::new("api section", false, format!("{e:#}"))),
        }
    }
    if wants(Section::Fanout)
        && let (Some(d), Some(api), Some(s), Some(tree)) =
            (&deployment, &api, session.as_mut(), &tree)
    {
        match fanout::run(
            d,
            api,
            s,
            tree,
            args.listeners,
            args.fanout_runs,
            &mut report.checks,
        )
        .await
        {
            Ok(f) => report.fanout = Some(f),
            Err(e) => report
                .checks
                .push(Check::new("fanout section", false, format!("{e:#}"))),
        }
    }
    if wants(Section::Hashing)
        && let (Some(d), Some(api), Some(s)) = (deployment.as_mut(), &api, session.as_mut())
    {
        match hashing::run(d, api, s, &work, &mut report.checks).await {
            Ok(h) => report.hashing = Some(h),
            Err(e) => report
                .checks
                .push(Check::new("hashing section", false, format!("{e:#}"))),
        }
    }
    if wants(Section::Transfer)
        && let (Some(d), Some(api)) = (deployment.as_ref(), &api)
    {
        // A user of its own: the tree's owner may be near the free quota.
        let outcome = async {
            let id = uuid::Uuid::now_v7().simple().to_string();
            let s = signup(api, &format!("transfer_{}", &id[20..])).await?;
            transfer::run(d, api, &s, &work, &mut report.checks).await
        }
        .await;
        match outcome {
            Ok(t) => report.transfer = Some(t),
            Err(e) => report
                .checks
                .push(Check::new("transfer section", false, format!("{e:#}"))),
        }
    }
    if let Some(d) = deployment.as_mut()
        && let Err(e) = d.check_alive()
    {
        report
            .checks
            .push(Check::new("servers stayed up", false, format!("{e:#}")));
    }
    drop(deployment);
    report.compute_ratios();
    if report.checks.is_empty() && sections.is_empty() {
        bail!("nothing to run");
    }
    Ok(report)
}
