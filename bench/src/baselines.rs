//! Baselines on the same tree, in the same invocation: the fastest duplicate finders
//! (fclones, czkawka), a raw `std::fs::rename` loop (what an organize and a rollback
//! cannot beat) and single-core SHA-256 (what hashing alone costs).

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use crate::{
    report::{Baselines, Check, Rename, Tool},
    tree::{self, Tree},
};
use anyhow::{Context, Result, bail};

pub fn run(tree: &Tree, checks: &mut Vec<Check>) -> Result<Baselines> {
    let fclones = fclones(tree);
    if let (Some(found), true) = (fclones.found_extra, fclones.seconds.is_some()) {
        checks.push(Check::new(
            "fclones finds the manifest's extra copies",
            found == tree.expected.extra_copies,
            format!("{found} found, {} expected", tree.expected.extra_copies),
        ));
    }
    let czkawka = czkawka(tree);
    if let (Some(found), true) = (czkawka.found_extra, czkawka.seconds.is_some()) {
        checks.push(Check::new(
            "czkawka finds the manifest's extra copies",
            found == tree.expected.extra_copies,
            format!("{found} found, {} expected", tree.expected.extra_copies),
        ));
    }
    let rename = rename_loop(tree, checks)?;
    let (sha256_seconds, sha256_mb_per_s, mismatches) = sha256_one_core(tree)?;
    checks.push(Check::new(
        "single-core SHA-256 agrees with the manifest",
        mismatches == 0,
        format!("{mismatches} files differ"),
    ));
    Ok(Baselines {
        fclones,
        czkawka,
        rename,
        sha256_seconds,
        sha256_mb_per_s,
    })
}

/// A tool on `PATH` or in `~/.cargo/bin` (where `cargo install` puts it).
fn find_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn version(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout);
            text.lines().next().unwrap_or_default().trim().to_string()
        })
        .unwrap_or_default()
}

fn not_installed(name: &str) -> Tool {
    eprintln!("baselines: {name} is not installed; skipped");
    Tool {
        name: name.into(),
        version: String::new(),
        command: String::new(),
        seconds: None,
        found_extra: None,
        note: "not installed".into(),
    }
}

/// Runs a command with its standard output into `out`; seconds taken.
fn timed_command(command: &mut Command, out: &Path) -> Result<f64> {
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(fs::File::create(out)?)
        .stderr(Stdio::null())
        .status()?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("{command:?} exited with {status}");
    }
    Ok(seconds)
}

fn fclones(tree: &Tree) -> Tool {
    let Some(bin) = find_tool("fclones") else {
        return not_installed("fclones");
    };
    eprintln!("baselines: fclones");
    let out = tree.work.join("fclones.txt");
    let mut command = Command::new(&bin);
    command
        .arg("group")
        .arg(&tree.root)
        .args(["--threads", "8"]);
    let shown = format!("fclones group {} --threads 8", tree.root.display());
    match timed_command(&mut command, &out) {
        // Its report starts with `# Redundant: 1.2 MB (…) in 345 files`.
        Ok(seconds) => Tool {
            name: "fclones".into(),
            version: version(&bin),
            command: shown,
            seconds: Some(seconds),
            found_extra: fs::read_to_string(&out).ok().and_then(|text| {
                let line = text.lines().find(|l| l.starts_with("# Redundant:"))?;
                let (_, tail) = line.rsplit_once(" in ")?;
                tail.split_whitespace().next()?.parse().ok()
            }),
            note: String::new(),
        },
        Err(e) => failed("fclones", &bin, shown, e),
    }
}

fn failed(name: &str, bin: &Path, command: String, e: anyhow::Error) -> Tool {
    eprintln!("baselines: {name} failed: {e:#}");
    Tool {
        name: name.into(),
        version: version(bin),
        command,
        seconds: None,
        found_extra: None,
        note: format!("failed: {e:#}"),
    }
}

fn czkawka(tree: &Tree) -> Tool {
    let Some(bin) = find_tool("czkawka_cli") else {
        return not_installed("czkawka_cli");
    };
    eprintln!("baselines: czkawka_cli");
    let out = tree.work.join("czkawka.txt");
    let saved = tree.work.join("czkawka-results.txt");
    // Every file from 1 byte (its default skips files under 8 KiB, most of this tree), no
    // hash cache carried over from an earlier run (-H), exit 0 when it finds duplicates
    // (-W), results into a file rather than the console (-N -f), as fclones does here.
    let mut command = Command::new(&bin);
    command
        .args(["dup", "-d"])
        .arg(&tree.root)
        .args(["-m", "1", "-H", "-W", "-N", "-f"])
        .arg(&saved);
    let shown = format!(
        "czkawka_cli dup -d {} -m 1 -H -W -N -f <file>",
        tree.root.display()
    );
    match timed_command(&mut command, &out) {
        Ok(seconds) => Tool {
            name: "czkawka".into(),
            version: version(&bin),
            command: shown,
            seconds: Some(seconds),
            found_extra: czkawka_count(&out).or_else(|| czkawka_count(&saved)),
            note: String::new(),
        },
        Err(e) => failed("czkawka", &bin, shown, e),
    }
}

/// czkawka says `Found 1234 duplicated files which in 567 groups …`, the files being the
/// extra copies (the kept one of each group not counted).
fn czkawka_count(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.contains("duplicated files"))?;
    line.strip_prefix("Found ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Every file renamed into `<tree>/_raw/<ext>/<n>_<name>`, then all back; the folders
/// exist before the clock starts. What a move-only organize would cost with no
/// bookkeeping at all.
fn rename_loop(tree: &Tree, checks: &mut Vec<Check>) -> Result<Rename> {
    eprintln!("baselines: raw rename loop");
    let raw = tree.root.join("_raw");
    if raw.exists() {
        bail!(
            "{} exists: an earlier rename loop was interrupted",
            raw.display()
        );
    }
    let moves: Vec<(PathBuf, PathBuf)> = tree
        .manifest
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let name = e.path.rsplit('/').next().unwrap_or(&e.path);
            let ext = name
                .rsplit_once('.')
                .map(|(_, x)| x.to_lowercase())
                .filter(|x| !x.is_empty())
                .unwrap_or_else(|| "none".into());
            (
                tree.root.join(&e.path),
                raw.join(ext).join(format!("{i}_{name}")),
            )
        })
        .collect();
    let folders: BTreeSet<&Path> = moves.iter().filter_map(|(_, to)| to.parent()).collect();
    for folder in folders {
        fs::create_dir_all(folder)?;
    }
    let started = Instant::now();
    for (from, to) in &moves {
        fs::rename(from, to).with_context(|| format!("rename {}", from.display()))?;
    }
    let forward = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for (from, to) in &moves {
        fs::rename(to, from).with_context(|| format!("rename back {}", to.display()))?;
    }
    let back = started.elapsed().as_secs_f64();
    fs::remove_dir_all(&raw)?;
    let check = tree::verify(&tree.root, &tree.manifest, false)?;
    checks.push(Check::new(
        "rename loop: every file back in place",
        check.ok(),
        check.to_string(),
    ));
    Ok(Rename {
        forward_seconds: forward,
        back_seconds: back,
        files_per_second: moves.len() as f64 / forward,
    })
}

/// Read and hash every file on one thread, 1 MiB at a time; (seconds, MB/s, files whose
/// hash is not the manifest's).
fn sha256_one_core(tree: &Tree) -> Result<(f64, f64, usize)> {
    eprintln!("baselines: single-core SHA-256");
    let mut buf = vec![0u8; 1 << 20];
    let mut mismatches = 0;
    let started = Instant::now();
    for entry in &tree.manifest {
        let hash = tree::sha256_file(&tree.root.join(&entry.path), &mut buf)?;
        if hash != entry.sha256 {
            mismatches += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok((
        seconds,
        tree.expected.bytes as f64 / 1e6 / seconds,
        mismatches,
    ))
}
