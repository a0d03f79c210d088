//! The figures of one invocation, as a readable report on stdout and as JSON.

use std::{collections::BTreeMap, fmt::Write as _, fs, path::Path, process::Command};

use serde::Serialize;
use serde_json::Value;

#[derive(Serialize, Default)]
pub struct Report {
    pub machine: Machine,
    pub organizer: Organizer,
    pub backend: String,
    pub tree: TreeInfo,
    pub engine: Option<Engine>,
    pub baselines: Option<Baselines>,
    pub api: Option<ApiLoad>,
    pub fanout: Option<Fanout>,
    pub hashing: Option<Hashing>,
    pub search: Option<Search>,
    pub transfer: Option<Transfer>,
    pub ratios: Ratios,
    pub checks: Vec<Check>,
}

#[derive(Serialize, Default)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub ram_gib: f64,
    pub kernel: String,
}

#[derive(Serialize, Default)]
pub struct Organizer {
    pub binary: String,
    pub built: String,
    pub commit: String,
}

#[derive(Serialize, Default)]
pub struct TreeInfo {
    pub path: String,
    pub seed: u64,
    pub files: usize,
    pub bytes: u64,
    pub empty_files: usize,
    pub groups: usize,
    pub extra_copies: u64,
    pub extra_bytes: u64,
}

#[derive(Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl Check {
    pub fn new(name: &str, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok,
            detail: detail.into(),
        }
    }
}

/// One operation, timed from the mutation to its terminal event.
#[derive(Serialize)]
pub struct Run {
    pub seconds: f64,
    /// Files of the tree (the manifest) per second.
    pub files_per_second: f64,
    /// `operationProgress` events received, the snapshot included.
    pub events: usize,
    /// File records the operation wrote (the sum of its report's `statuses`).
    pub rows: i64,
    /// Peak resident memory of each process during the run.
    pub peak_rss_mib: BTreeMap<String, f64>,
    /// Seconds from the mutation to the first event of each phase: where the time went.
    pub phases: Vec<(String, f64)>,
    pub status: String,
    pub report: Value,
}

#[derive(Serialize, Default)]
pub struct Engine {
    pub dedupe: Option<Run>,
    pub organize: Option<Run>,
    pub rollback: Option<Run>,
    pub groups_checked: bool,
    /// Empty folders (the category folders) an organize and its rollback left behind.
    pub empty_folders_left: usize,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
    pub command: String,
    pub seconds: Option<f64>,
    /// Extra copies the tool reported, to cross-check with the manifest.
    pub found_extra: Option<u64>,
    pub note: String,
}

#[derive(Serialize)]
pub struct Rename {
    pub forward_seconds: f64,
    pub back_seconds: f64,
    /// Files per second in one direction (forward).
    pub files_per_second: f64,
}

#[derive(Serialize)]
pub struct Baselines {
    pub fclones: Tool,
    pub czkawka: Tool,
    pub rename: Rename,
    pub sha256_seconds: f64,
    pub sha256_mb_per_s: f64,
}

#[derive(Serialize)]
pub struct Load {
    pub name: String,
    pub connections: usize,
    pub seconds: f64,
    pub requests: u64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Non-2xx answers, GraphQL errors and transport errors.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Peak resident memory of each process during this line.
    pub peak_rss_mib: BTreeMap<String, f64>,
}

#[derive(Serialize)]
pub struct ApiLoad {
    pub loads: Vec<Load>,
    pub me_vs_bare: f64,
    pub logins_per_second: f64,
    pub login_p50_ms: f64,
    pub login_errors: u64,
    pub login_first_error: Option<String>,
}

#[derive(Serialize)]
pub struct Fanout {
    pub listeners: usize,
    /// Listeners proven subscribed (they saw the warm-up operation end).
    pub connected: usize,
    pub open_seconds: f64,
    pub events: usize,
    pub events_per_listener: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub lost_terminal: usize,
    /// The watched job, by the server's clock (created → completed).
    pub job_seconds: f64,
    pub peak_rss_mib: BTreeMap<String, f64>,
    /// Resident memory before the listeners connected, and with them connected and idle.
    pub rss_before_mib: BTreeMap<String, f64>,
    pub rss_listening_mib: BTreeMap<String, f64>,
    pub runs_zero: Vec<f64>,
    pub runs_fifty: Vec<f64>,
    pub median_zero: f64,
    pub median_fifty: f64,
    pub operations_total: i64,
}

/// `files(search:)` over the whole tree.
#[derive(Serialize)]
pub struct Search {
    pub files: usize,
    /// The first search, which builds the user's index.
    pub first_search_seconds: f64,
    pub queries: Vec<SearchQuery>,
}

#[derive(Serialize)]
pub struct SearchQuery {
    pub words: String,
    pub matches: u64,
    /// Client-side, request sent to answer read.
    pub median_ms: f64,
    pub p95_ms: f64,
    /// One walk of the tree matching names, the cost of a search without an index.
    pub walk_ms: f64,
}

/// Uploads and downloads against the same disk without the server.
#[derive(Serialize)]
pub struct Transfer {
    pub rows: Vec<TransferRow>,
}

#[derive(Serialize)]
pub struct TransferRow {
    pub what: String,
    pub bytes: u64,
    pub seconds: f64,
    pub baseline: String,
    pub baseline_seconds: f64,
}

impl TransferRow {
    pub fn new(
        what: &str,
        bytes: u64,
        seconds: f64,
        baseline: &str,
        baseline_seconds: f64,
    ) -> Self {
        Self {
            what: what.into(),
            bytes,
            seconds,
            baseline: baseline.into(),
            baseline_seconds,
        }
    }
}

/// Engine SHA-256: a dry run that is all full hashes, against one-core `sha2`.
#[derive(Serialize)]
pub struct Hashing {
    pub files: usize,
    pub file_bytes: u64,
    /// The run by the server's clock (`startedAt` → `completedAt`).
    pub seconds: f64,
    /// From the mutation to the terminal event, as the engine runs are timed.
    pub end_to_end_seconds: f64,
    pub engine_mb_per_s: f64,
    /// Cores the engine hashes on (one blocking thread per core).
    pub cores: usize,
    pub engine_mb_per_s_per_core: f64,
    pub sha2_one_core_mb_per_s: f64,
    /// The baseline before and after the engine's run (the faster is the reference).
    pub sha2_runs_mb_per_s: Vec<f64>,
    pub per_core_vs_sha2: f64,
}

#[derive(Serialize, Default)]
pub struct Ratios {
    pub dedupe_vs_fclones: Option<f64>,
    pub dedupe_vs_czkawka: Option<f64>,
    pub organize_vs_raw_rename_pct: Option<f64>,
    pub rollback_vs_raw_rename_pct: Option<f64>,
    pub me_vs_bare_pct: Option<f64>,
    pub fifty_listeners_vs_none: Option<f64>,
    pub engine_sha256_per_core_vs_sha2_pct: Option<f64>,
}

impl Report {
    pub fn compute_ratios(&mut self) {
        let dedupe = self
            .engine
            .as_ref()
            .and_then(|e| e.dedupe.as_ref())
            .map(|r| r.seconds);
        let per_s = |run: Option<&Run>| run.map(|r| r.files_per_second);
        let organize = per_s(self.engine.as_ref().and_then(|e| e.organize.as_ref()));
        let rollback = per_s(self.engine.as_ref().and_then(|e| e.rollback.as_ref()));
        if let Some(b) = &self.baselines {
            let vs = |tool: &Tool| Some(dedupe? / tool.seconds?);
            self.ratios.dedupe_vs_fclones = vs(&b.fclones);
            self.ratios.dedupe_vs_czkawka = vs(&b.czkawka);
            let raw = b.rename.files_per_second;
            self.ratios.organize_vs_raw_rename_pct = organize.map(|o| o / raw * 100.0);
            self.ratios.rollback_vs_raw_rename_pct = rollback.map(|o| o / raw * 100.0);
        }
        self.ratios.me_vs_bare_pct = self.api.as_ref().map(|a| a.me_vs_bare * 100.0);
        self.ratios.fifty_listeners_vs_none =
            self.fanout.as_ref().map(|f| f.median_fifty / f.median_zero);
        self.ratios.engine_sha256_per_core_vs_sha2_pct =
            self.hashing.as_ref().map(|h| h.per_core_vs_sha2 * 100.0);
    }

    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let t = &self.tree;
        let _ = writeln!(out, "\nOrganizer benchmark");
        let _ = writeln!(
            out,
            "  machine    {}, {} cores, {:.1} GiB RAM, Linux {}",
            m.cpu, m.cores, m.ram_gib, m.kernel
        );
        let _ = writeln!(
            out,
            "  organizer  {} (binary {}, built {})",
            self.organizer.commit, self.organizer.binary, self.organizer.built
        );
        let _ = writeln!(out, "  backend    {}", self.backend);
        if t.files > 0 {
            let _ = writeln!(
                out,
                "  tree       {} files, {} (mean {:.1} KiB), {} extra copies ({}) in {} groups, {} empty files; seed {}",
                int(t.files as f64),
                bytes(t.bytes),
                t.bytes as f64 / t.files.max(1) as f64 / 1024.0,
                int(t.extra_copies as f64),
                bytes(t.extra_bytes),
                int(t.groups as f64),
                t.empty_files,
                t.seed
            );
            let _ = writeln!(out, "             {}", t.path);
        }

        if let Some(e) = &self.engine {
            let _ = writeln!(
                out,
                "\nEngine, through the API (from sending the mutation to the terminal event on operationProgress)"
            );
            let mut table = Table::new(&[
                "run",
                "seconds",
                "files/s",
                "events",
                "rows",
                "peak RSS (MiB)",
                "vs baseline",
            ]);
            let b = self.baselines.as_ref();
            let r = &self.ratios;
            let dedupe_vs = [
                r.dedupe_vs_fclones
                    .zip(b.and_then(|b| b.fclones.seconds))
                    .map(|(x, s)| format!("{x:.2}× fclones ({s:.2} s)")),
                r.dedupe_vs_czkawka
                    .zip(b.and_then(|b| b.czkawka.seconds))
                    .map(|(x, s)| format!("{x:.2}× czkawka ({s:.2} s)")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            let raw = b.map(|b| b.rename.files_per_second);
            let vs_raw = |pct: Option<f64>| {
                pct.zip(raw)
                    .map(|(p, raw)| format!("{p:.1} % of raw rename ({} files/s)", int(raw)))
                    .unwrap_or_default()
            };
            for (name, run, vs) in [
                ("duplicate cleanup, dry run", &e.dedupe, dedupe_vs),
                (
                    "organize",
                    &e.organize,
                    vs_raw(r.organize_vs_raw_rename_pct),
                ),
                (
                    "rollback of it",
                    &e.rollback,
                    vs_raw(r.rollback_vs_raw_rename_pct),
                ),
            ] {
                if let Some(run) = run {
                    table.row(vec![
                        name.into(),
                        format!("{:.2}", run.seconds),
                        int(run.files_per_second),
                        run.events.to_string(),
                        int(run.rows as f64),
                        rss(&run.peak_rss_mib),
                        vs,
                    ]);
                }
            }
            out.push_str(&table.render());
            for (name, run) in [
                ("dedupe", &e.dedupe),
                ("organize", &e.organize),
                ("rollback", &e.rollback),
            ] {
                if let Some(run) = run {
                    let phases: Vec<String> = run
                        .phases
                        .iter()
                        .map(|(phase, at)| format!("{phase} {at:.2}"))
                        .collect();
                    let _ = writeln!(
                        out,
                        "  {name} phases first seen at (s): {}",
                        phases.join(", ")
                    );
                }
            }
            if e.empty_folders_left > 0 {
                let _ = writeln!(
                    out,
                    "  (the rollback left {} empty category folders behind)",
                    e.empty_folders_left
                );
            }
        }

        if let Some(b) = &self.baselines {
            let _ = writeln!(out, "\nBaselines, same tree, same invocation");
            let mut table = Table::new(&["baseline", "seconds", "rate", "notes"]);
            for tool in [&b.fclones, &b.czkawka] {
                let label = if tool.version.is_empty() {
                    tool.name.clone()
                } else {
                    tool.version.clone()
                };
                match tool.seconds {
                    Some(s) => table.row(vec![
                        label,
                        format!("{s:.2}"),
                        format!("{} files/s", int(t.files as f64 / s)),
                        format!(
                            "{} extra copies reported; `{}`",
                            tool.found_extra.map_or("?".into(), |n| int(n as f64)),
                            tool.command
                        ),
                    ]),
                    None => table.row(vec![label, "-".into(), "-".into(), tool.note.clone()]),
                }
            }
            table.row(vec![
                "raw rename loop, forward".into(),
                format!("{:.2}", b.rename.forward_seconds),
                format!("{} files/s", int(b.rename.files_per_second)),
                "std::fs::rename into _raw/<ext>/, one thread".into(),
            ]);
            table.row(vec![
                "raw rename loop, back".into(),
                format!("{:.2}", b.rename.back_seconds),
                format!("{} files/s", int(t.files as f64 / b.rename.back_seconds)),
                String::new(),
            ]);
            table.row(vec![
                "SHA-256, one core".into(),
                format!("{:.2}", b.sha256_seconds),
                format!("{} MB/s", int(b.sha256_mb_per_s)),
                "read 1 MiB at a time + sha2".into(),
            ]);
            out.push_str(&table.render());
        }

        if let Some(a) = &self.api {
            let _ = writeln!(
                out,
                "\nAPI load: {} keep-alive HTTP/1.1 connections, {:.0} s per line",
                crate::api_load::CONNECTIONS,
                a.loads.first().map_or(0.0, |l| l.seconds)
            );
            let mut table = Table::new(&[
                "request",
                "req/s",
                "p50 ms",
                "p99 ms",
                "peak RSS (MiB)",
                "errors",
            ]);
            for l in &a.loads {
                table.row(vec![
                    l.name.clone(),
                    int(l.requests_per_second),
                    format!("{:.2}", l.p50_ms),
                    format!("{:.2}", l.p99_ms),
                    rss(&l.peak_rss_mib),
                    match &l.first_error {
                        Some(e) => format!("{} (first: {})", l.errors, clip(e, 100)),
                        None => l.errors.to_string(),
                    },
                ]);
            }
            out.push_str(&table.render());
            let _ = writeln!(
                out,
                "  me ÷ bare route: {:.1} %; sign-ins beside the last line: {:.1}/s (p50 {:.0} ms), {} errors{}",
                a.me_vs_bare * 100.0,
                a.logins_per_second,
                a.login_p50_ms,
                a.login_errors,
                a.login_first_error
                    .as_ref()
                    .map(|e| format!(" (first: {})", clip(e, 100)))
                    .unwrap_or_default()
            );
        }

        if let Some(f) = &self.fanout {
            let _ = writeln!(
                out,
                "\nFan-out: {} WebSocket listeners on operationEvents, one duplicate cleanup dry run",
                int(f.listeners as f64)
            );
            let mut table = Table::new(&["figure", "value"]).left();
            table.row(vec![
                "subscribed (saw the warm-up end)".into(),
                format!(
                    "{} of {} in {:.1} s",
                    f.connected, f.listeners, f.open_seconds
                ),
            ]);
            table.row(vec![
                "events received".into(),
                format!(
                    "{} ({:.1} per listener)",
                    int(f.events as f64),
                    f.events_per_listener
                ),
            ]);
            table.row(vec![
                "latency (arrival − updatedAt)".into(),
                format!(
                    "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                    f.p50_ms, f.p99_ms, f.max_ms
                ),
            ]);
            table.row(vec![
                "lost terminal events".into(),
                f.lost_terminal.to_string(),
            ]);
            table.row(vec![
                "job, watched by all (server time)".into(),
                format!("{:.2} s", f.job_seconds),
            ]);
            table.row(vec![
                "RSS (MiB) before / listeners idle".into(),
                format!("{} / {}", rss(&f.rss_before_mib), rss(&f.rss_listening_mib)),
            ]);
            table.row(vec![
                "peak RSS (MiB) during the job".into(),
                rss(&f.peak_rss_mib),
            ]);
            table.row(vec![
                "job, no listener (server time)".into(),
                format!("median {:.2} s of {}", f.median_zero, list(&f.runs_zero)),
            ]);
            table.row(vec![
                "job, 50 listeners (server time)".into(),
                format!(
                    "median {:.2} s of {} = {:.2}× no listener",
                    f.median_fifty,
                    list(&f.runs_fifty),
                    f.median_fifty / f.median_zero
                ),
            ]);
            out.push_str(&table.render());
        }

        if let Some(h) = &self.hashing {
            let _ = writeln!(
                out,
                "\nEngine SHA-256: a duplicate dry run over {} files of {} alike in their first block",
                h.files,
                bytes(h.file_bytes)
            );
            let _ = writeln!(
                out,
                "  engine {:.2} s by the server's clock ({:.2} s end to end), {} MB/s on {} cores = {} MB/s per core; one-core sha2 {} MB/s (runs {}) = {:.1} %",
                h.seconds,
                h.end_to_end_seconds,
                int(h.engine_mb_per_s),
                h.cores,
                int(h.engine_mb_per_s_per_core),
                int(h.sha2_one_core_mb_per_s),
                h.sha2_runs_mb_per_s
                    .iter()
                    .map(|r| int(*r))
                    .collect::<Vec<_>>()
                    .join(", "),
                h.per_core_vs_sha2 * 100.0
            );
        }

        if let Some(search) = &self.search {
            let _ = writeln!(
                out,
                "\nSearch by name over {} files (index built {:.1} s after the first search)",
                int(search.files as f64),
                search.first_search_seconds
            );
            for q in &search.queries {
                let _ = writeln!(
                    out,
                    "  {:<28} {:>9} matches  median {:>7.1} ms  p95 {:>7.1} ms  (a walk: {:>8.1} ms, {:.0}x)",
                    format!("{:?}", q.words),
                    int(q.matches as f64),
                    q.median_ms,
                    q.p95_ms,
                    q.walk_ms,
                    q.walk_ms / q.median_ms.max(0.001)
                );
            }
        }

        if let Some(transfer) = &self.transfer {
            let _ = writeln!(out, "\nTransfers (same disk, same invocation)");
            let mib = |bytes: u64, s: f64| bytes as f64 / (1 << 20) as f64 / s.max(1e-9);
            for r in &transfer.rows {
                let _ = writeln!(
                    out,
                    "  {:<46} {:>7.2} s {:>8.1} MiB/s   {}: {:>7.2} s {:>8.1} MiB/s   = {:.1} %",
                    r.what,
                    r.seconds,
                    mib(r.bytes, r.seconds),
                    r.baseline,
                    r.baseline_seconds,
                    mib(r.bytes, r.baseline_seconds),
                    100.0 * r.baseline_seconds / r.seconds.max(1e-9)
                );
            }
        }

        let _ = writeln!(out, "\nChecks");
        for c in &self.checks {
            let _ = writeln!(
                out,
                "  {}  {}: {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            );
        }
        let _ = writeln!(
            out,
            "\n{}",
            if self.ok() {
                "All checks passed."
            } else {
                "SOME CHECKS FAILED."
            }
        );
        out
    }
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn clip(text: &str, chars: usize) -> String {
    let one_line = text.replace('\n', " ");
    if one_line.chars().count() <= chars {
        one_line
    } else {
        format!("{}…", one_line.chars().take(chars).collect::<String>())
    }
}

fn rss(peaks: &BTreeMap<String, f64>) -> String {
    peaks
        .iter()
        .map(|(role, mib)| format!("{role} {mib:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A whole number with thousands separators.
pub fn int(value: f64) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < -0.5 {
        out.insert(0, '-');
    }
    out
}

pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.1} kB", n / 1e3)
    }
}

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Numbers right-aligned (false for a figure/value list).
    align_numbers: bool,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            align_numbers: true,
        }
    }

    fn left(mut self) -> Self {
        self.align_numbers = false;
        self
    }

    fn row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Columns padded to their widest cell; numbers right-aligned, text left-aligned.
    fn render(&self) -> String {
        let width = |i: usize| {
            std::iter::once(&self.header)
                .chain(&self.rows)
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |row: &[String]| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    let numeric = self.align_numbers
                        && i > 0
                        && !cell.is_empty()
                        && cell
                            .chars()
                            .all(|c| c.is_ascii_digit() || ",.-".contains(c));
                    if i + 1 == row.len() && !numeric {
                        cell.clone()
                    } else if numeric {
                        format!("{}{cell}", " ".repeat(pad))
                    } else {
                        format!("{cell}{}", " ".repeat(pad))
                    }
                })
                .collect();
            format!("  {}\n", cells.join("  ").trim_end())
        };
        let mut out = line(&self.header);
        out.push_str(&format!(
            "  {}\n",
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  ")
        ));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

pub fn machine() -> Machine {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    Machine {
        cpu: cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown CPU".into(), |(_, v)| v.trim().to_string()),
        cores: crate::tree::cores(),
        ram_gib: meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0 / 1024.0),
        kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// The binary and the commit of the checkout it was (presumably) built from; uncommitted
/// changes to the engine's sources are said, since they may be in the binary.
pub fn organizer(bin: &Path) -> Organizer {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&[
        "status",
        "--porcelain",
        "--",
        "src",
        "entity",
        "migration",
        "Cargo.toml",
        "Cargo.lock",
    ])
    .is_some_and(|s| !s.is_empty());
    let built = fs::metadata(bin)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| "?".into());
    Organizer {
        binary: bin.display().to_string(),
        built,
        commit: if dirty {
            format!("{commit} + uncommitted changes in src/")
        } else {
            commit
        },
    }
}
