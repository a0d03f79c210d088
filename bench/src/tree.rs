//! The test tree: generated from a seed (same seed, same bytes), cached under the work
//! folder with a manifest (path, size, SHA-256 of every file) and the duplicate groups it
//! holds, so that runs at the same size reuse it and every check compares against the
//! manifest rather than against what some tool reported.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fs,
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
    time::Instant,
};

use anyhow::{Context, Result, bail};
use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bumped whenever the generator changes, so that a tree cached by an older one is rebuilt.
const GENERATOR_VERSION: u32 = 1;
/// Bytes at the end of a near-copy that differ from its original. Everything before them
/// is shared, so any first-block hash (the engine reads 4–8 KiB) agrees and only the full
/// hash tells the two apart.
const NEAR_COPY_TAIL: usize = 32;
/// Smallest size of a near-copy's original: well past any first block.
const NEAR_COPY_MIN: u64 = 64 * 1024;
const MAX_SIZE: u64 = 8 * 1024 * 1024;
const MIN_SIZE: u64 = 64;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Params {
    pub files: usize,
    pub seed: u64,
    pub mean_kib: f64,
    pub dup_fraction: f64,
    pub version: u32,
}

impl Params {
    pub fn new(files: usize, seed: u64, mean_kib: f64, dup_fraction: f64) -> Self {
        Self {
            files,
            seed,
            mean_kib,
            dup_fraction,
            version: GENERATOR_VERSION,
        }
    }
}

/// One file of the manifest; `path` is relative to the tree's root, `/`-separated.
#[derive(Clone, Debug)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What a correct duplicate finder must report on the tree: derived from the manifest's
/// hashes, not from the generator's intentions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Expected {
    pub files: usize,
    pub bytes: u64,
    pub empty_files: usize,
    /// Sorted lists of the sorted paths of identical non-empty files.
    pub groups: Vec<Vec<String>>,
    pub extra_copies: u64,
    pub extra_bytes: u64,
}

pub struct Tree {
    _lock: WorkLock,
    pub work: PathBuf,
    /// Where the tree lives between runs (`<work>/tree`).
    pub root: PathBuf,
    pub manifest: Vec<Entry>,
    pub expected: Expected,
}

impl Tree {
    /// The cached tree for these parameters, verified; generated when absent, different or
    /// damaged.
    pub fn prepare(work: &Path, params: &Params) -> Result<Self> {
        fs::create_dir_all(work).with_context(|| format!("create {}", work.display()))?;
        let lock = WorkLock::take(work)?;
        recover_from_runs(work)?;
        let mut tree = Self {
            _lock: lock,
            work: work.to_path_buf(),
            root: work.join("tree"),
            manifest: Vec::new(),
            expected: empty_expected(),
        };
        if tree.reuse(params)? {
            return Ok(tree);
        }
        tree.generate(params)
    }

    /// Whether the cached tree is there, made with these parameters and whole.
    fn reuse(&mut self, params: &Params) -> Result<bool> {
        let stored: Option<Params> = fs::read(self.work.join("params.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if stored.as_ref() != Some(params) || !self.root.is_dir() {
            return Ok(false);
        }
        let (Ok(manifest), Ok(expected)) = (
            read_manifest(&self.work.join("manifest.tsv")),
            fs::read(self.work.join("expected.json"))
                .map_err(anyhow::Error::from)
                .and_then(|b| Ok(serde_json::from_slice::<Expected>(&b)?)),
        ) else {
            return Ok(false);
        };
        self.manifest = manifest;
        self.expected = expected;
        // Every byte is read and checked, even when the last run ended cleanly: besides
        // catching a damaged tree, that puts it in the page cache, so the first timed run
        // (ours, before the baselines) does not pay the disk for all of them.
        eprintln!("tree: reusing {} (full content check)", self.root.display());
        let check = verify(&self.root, &self.manifest, true)?;
        if !check.ok() {
            eprintln!(
                "tree: the cached tree differs from its manifest ({check}); generating it again"
            );
            return Ok(false);
        }
        remove_stray_dirs(&self.root, &self.manifest)?;
        Ok(true)
    }

    fn generate(mut self, params: &Params) -> Result<Self> {
        for stale in ["params.json", "manifest.tsv", "expected.json"] {
            let _ = fs::remove_file(self.work.join(stale));
        }
        if self.root.exists() {
            fs::remove_dir_all(&self.root).context("remove the old tree")?;
        }
        let started = Instant::now();
        let specs = plan(params);
        eprintln!(
            "tree: writing {} files into {}",
            specs.len(),
            self.root.display()
        );
        let written = write_all(&self.root, &specs)?;
        self.manifest = specs
            .iter()
            .zip(written)
            .map(|(spec, (size, sha256))| Entry {
                path: spec.path.clone(),
                size,
                sha256,
            })
            .collect();
        self.expected = expected_from(&self.manifest);
        write_manifest(&self.work.join("manifest.tsv"), &self.manifest)?;
        fs::write(
            self.work.join("expected.json"),
            serde_json::to_vec_pretty(&self.expected)?,
        )?;
        fs::write(
            self.work.join("params.json"),
            serde_json::to_vec_pretty(params)?,
        )?;
        eprintln!(
            "tree: {} files, {:.2} GB, {} extra copies in {} groups, written in {:.1} s",
            self.expected.files,
            self.expected.bytes as f64 / 1e9,
            self.expected.extra_copies,
            self.expected.groups.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(self)
    }
}

fn empty_expected() -> Expected {
    Expected {
        files: 0,
        bytes: 0,
        empty_files: 0,
        groups: Vec::new(),
        extra_copies: 0,
        extra_bytes: 0,
    }
}

/// One invocation per work folder: two would move the same tree under each other, and
/// each would take the other's run folder for a stopped run's leftovers. The lock file
/// names the holder's pid; a lock whose process is gone is taken over.
pub struct WorkLock(PathBuf);

impl WorkLock {
    pub fn take(work: &Path) -> Result<Self> {
        let path = work.join("lock");
        let me = std::process::id();
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    write!(file, "{me}")?;
                    return Ok(Self(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    let alive = holder
                        .trim()
                        .parse::<u32>()
                        .is_ok_and(|pid| pid != me && Path::new(&format!("/proc/{pid}")).exists());
                    if alive {
                        bail!(
                            "another organizer-bench (pid {}) uses {}",
                            holder.trim(),
                            work.display()
                        );
                    }
                    fs::remove_file(&path)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        bail!("could not lock {}", work.display())
    }
}

impl Drop for WorkLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// A run killed while the tree was lent to a server leaves it in that run's storage
/// folder (`<work>/run-*/…/users/<id>/tree`): bring it home before anything else.
fn recover_from_runs(work: &Path) -> Result<()> {
    let home = work.join("tree");
    let Ok(entries) = fs::read_dir(work) else {
        return Ok(());
    };
    for run in entries.flatten() {
        let name = run.file_name().to_string_lossy().to_string();
        if !name.starts_with("run-") {
            continue;
        }
        for storage in [run.path().join("storage"), run.path().join("data/storage")] {
            let Ok(users) = fs::read_dir(storage.join("users")) else {
                continue;
            };
            for user in users.flatten() {
                let lent = user.path().join("tree");
                if lent.is_dir() && !home.exists() {
                    eprintln!(
                        "tree: bringing back the tree a stopped run left in {}",
                        lent.display()
                    );
                    // It may be half organized: the full check on reuse tells.
                    fs::rename(&lent, &home)?;
                }
            }
        }
        if !home.exists() {
            continue;
        }
        eprintln!("tree: removing the leftovers of a stopped run: {name}");
        fs::remove_dir_all(run.path()).ok();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Planning: what every file is (path, size, content), decided up front from the seed.

#[derive(Clone, Copy)]
enum Content {
    Empty,
    /// Bytes of its own: `magic` first, then a stream seeded by `seed`.
    Unique {
        seed: u64,
        magic: &'static [u8],
        text: bool,
    },
    /// An exact copy of another file.
    Copy(usize),
    /// Another file's bytes with the last few changed.
    NearCopy {
        of: usize,
        salt: u64,
    },
}

struct Spec {
    path: String,
    size: u64,
    content: Content,
}

struct Kind {
    ext: &'static str,
    weight: u32,
    magic: &'static [u8],
    text: bool,
    names: &'static [&'static str],
}

const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
const HEIC: &[u8] = b"\x00\x00\x00\x18ftypheic";
const MP4: &[u8] = b"\x00\x00\x00\x18ftypmp42";
const PDF: &[u8] = b"%PDF-1.7\n";
const ZIP: &[u8] = b"PK\x03\x04";
const MP3: &[u8] = b"ID3\x04\x00";
const GIF: &[u8] = b"GIF89a";
const EXE: &[u8] = b"MZ";

/// The extension mix of a real Downloads folder, roughly; `{n}` in a name pattern is a
/// number (drawn from a small range, so that names repeat across folders as they do).
const KINDS: &[Kind] = &[
    kind(
        "jpg",
        16,
        JPEG,
        false,
        &["IMG_{n}", "DSC{n}", "photo {n}", "IMG-2024{n}-WA0001"],
    ),
    kind("JPG", 3, JPEG, false, &["DSC_{n}", "P{n}"]),
    kind(
        "png",
        10,
        PNG,
        false,
        &[
            "Screenshot 2024-03-{n}",
            "image ({n})",
            "Capture d’écran {n}",
            "スクリーンショット {n}",
        ],
    ),
    kind("heic", 5, HEIC, false, &["IMG_{n}"]),
    kind("gif", 1, GIF, false, &["giphy {n}", "reaction {n}"]),
    kind(
        "pdf",
        15,
        PDF,
        false,
        &[
            "invoice-{n}",
            "Rechnung {n}",
            "scan_{n}",
            "Résumé {n}",
            "boarding pass {n}",
            "statement {n}",
        ],
    ),
    kind(
        "docx",
        5,
        ZIP,
        false,
        &["report final v{n}", "Lettre {n}", "notes meeting {n}"],
    ),
    kind(
        "xlsx",
        4,
        ZIP,
        false,
        &["Budget {n}", "export ({n})", "Übersicht {n}"],
    ),
    kind("pptx", 1, ZIP, false, &["slides {n}", "pitch deck v{n}"]),
    kind(
        "zip",
        6,
        ZIP,
        false,
        &["archive-{n}", "project-{n}", "photos ({n})"],
    ),
    kind(
        "mp3",
        4,
        MP3,
        false,
        &["Track {n}", "música {n}", "voice memo {n}"],
    ),
    kind(
        "mp4",
        3,
        MP4,
        false,
        &["VID_2023{n}", "screen recording {n}"],
    ),
    kind(
        "txt",
        6,
        b"",
        true,
        &["notes {n}", "メモ {n}", "todo {n}", "readme {n}"],
    ),
    kind("md", 2, b"", true, &["README {n}", "draft {n}"]),
    kind(
        "csv",
        4,
        b"",
        true,
        &["export-{n}", "transactions {n}", "données {n}"],
    ),
    kind(
        "json",
        4,
        b"",
        true,
        &["data_{n}", "config {n}", "response ({n})"],
    ),
    kind("html", 1, b"", true, &["page {n}", "saved {n}"]),
    kind("py", 1, b"", true, &["script_{n}", "analysis {n}"]),
    kind("dmg", 1, b"", false, &["App-{n}", "Installer {n}"]),
    kind("exe", 2, EXE, false, &["Setup-{n}", "driver_{n}"]),
    kind(
        "",
        4,
        b"",
        false,
        &["file{n}", "LICENSE{n}", "download ({n})", "blob {n}"],
    ),
    kind("", 1, b"", true, &["notes{n}", "Makefile{n}"]),
];

const fn kind(
    ext: &'static str,
    weight: u32,
    magic: &'static [u8],
    text: bool,
    names: &'static [&'static str],
) -> Kind {
    Kind {
        ext,
        weight,
        magic,
        text,
        names,
    }
}

/// Folder names: none is a category name (a file already in `Images/` would be skipped
/// by an organize), some have spaces or non-ASCII letters.
const FOLDER_WORDS: &[&str] = &[
    "Photos",
    "Screenshots",
    "Scans",
    "Invoices",
    "Receipts",
    "Work",
    "Projects",
    "Family",
    "Travel",
    "Taxes",
    "Misc",
    "old",
    "tmp",
    "Backup",
    "Music",
    "Papers",
    "Été 2019",
    "Фотографии",
    "新しいフォルダー",
    "Données",
    "Bilder",
    "Rechnungen",
    "Año nuevo",
    "from phone",
    "Camera Roll",
    "WhatsApp Images",
    "Telegram Desktop",
    "to sort",
    "keep",
    "Unsorted stuff",
];

fn plan(params: &Params) -> Vec<Spec> {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let n = params.files.max(1);
    let folders = plan_folders(&mut rng, (n / 70).max(1));
    let empties = (n / 500).max(1).min(n);
    let extra_target = ((n as f64 * params.dup_fraction).round() as usize).min(n - empties);
    let base = (n - empties - extra_target).max(1);
    let mean = params.mean_kib * 1024.0;
    let sigma: f64 = 1.6;
    // A log-normal with this mean: most files a few KiB, a tail of MiB.
    let mu = mean.ln() - sigma * sigma / 2.0;
    let total_weight: u32 = KINDS.iter().map(|k| k.weight).sum();

    // Names in use per folder (lower-cased), sub-folders included.
    let mut taken: Vec<HashSet<String>> = vec![HashSet::new(); folders.len()];
    let index: HashMap<&str, usize> = folders
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    for folder in &folders[1..] {
        let (parent, name) = folder.rsplit_once('/').unwrap_or(("", folder));
        taken[index[parent]].insert(name.to_lowercase());
    }
    let mut specs: Vec<Spec> = Vec::with_capacity(n);
    // Where each base file went (folder, kind, name without extension), for its copies.
    let mut placed: Vec<(usize, usize, String)> = Vec::with_capacity(base);
    for _ in 0..base {
        let kind = pick_kind(&mut rng, total_weight);
        let size = lognormal(&mut rng, mu, sigma);
        let folder = pick_folder(&mut rng, folders.len());
        let stem = name_stem(&mut rng, &KINDS[kind]);
        let path = place(&folders, &mut taken, folder, &stem, KINDS[kind].ext);
        placed.push((folder, kind, stem));
        specs.push(Spec {
            path,
            size,
            content: Content::Unique {
                seed: rng.random(),
                magic: KINDS[kind].magic,
                text: KINDS[kind].text,
            },
        });
    }
    // Same size, different content: the size step groups them, the first block splits them.
    for _ in 0..n / 50 {
        let a = rng.random_range(0..base);
        let b = rng.random_range(0..base);
        specs[b].size = specs[a].size;
    }
    // Near-copies: same size and same first bytes, so only the full hash splits them.
    let mut near = 0;
    let mut in_pairs = HashSet::new();
    let mut tries = 0;
    while near < n / 100 && tries < n {
        tries += 1;
        let of = rng.random_range(0..base);
        let at = rng.random_range(0..base);
        // Each file in at most one pair, so no later pair changes an earlier one's size.
        if of == at || in_pairs.contains(&of) || in_pairs.contains(&at) {
            continue;
        }
        in_pairs.extend([of, at]);
        if specs[of].size < NEAR_COPY_MIN {
            specs[of].size = NEAR_COPY_MIN + rng.random_range(0..NEAR_COPY_MIN);
        }
        specs[at].size = specs[of].size;
        specs[at].content = Content::NearCopy {
            of,
            salt: rng.random(),
        };
        near += 1;
    }
    // Exact copies: one to three of an original, placed the way copies happen.
    let mut extra = 0;
    let mut copied = HashSet::new();
    while extra < extra_target {
        let of = rng.random_range(0..base);
        if !matches!(specs[of].content, Content::Unique { .. }) || !copied.insert(of) {
            if copied.len() >= base {
                break;
            }
            continue;
        }
        let copies = match rng.random_range(0..10) {
            0..7 => 1,
            7..9 => 2,
            _ => 3,
        }
        .min(extra_target - extra);
        let (folder, kind, stem) = placed[of].clone();
        let ext = KINDS[kind].ext;
        for k in 1..=copies {
            let path = match rng.random_range(0..20) {
                // Downloaded again: `name (1).ext` beside the first.
                0..7 => place(&folders, &mut taken, folder, &format!("{stem} ({k})"), ext),
                // Kept in another folder under the same name.
                7..16 => {
                    let other = pick_folder(&mut rng, folders.len());
                    place(&folders, &mut taken, other, &stem, ext)
                }
                // Renamed.
                _ => {
                    let other = pick_folder(&mut rng, folders.len());
                    let stem = name_stem(&mut rng, &KINDS[kind]);
                    place(&folders, &mut taken, other, &stem, ext)
                }
            };
            specs.push(Spec {
                path,
                size: specs[of].size,
                content: Content::Copy(of),
            });
        }
        extra += copies;
    }
    // Empty files, never duplicates of anything.
    while specs.len() < n {
        let folder = pick_folder(&mut rng, folders.len());
        let stem = format!("empty {}", rng.random_range(0..1000));
        let path = place(&folders, &mut taken, folder, &stem, "txt");
        specs.push(Spec {
            path,
            size: 0,
            content: Content::Empty,
        });
    }
    specs
}

/// Folder paths, depth 1 to 4; index 0 is the tree's root ("").
fn plan_folders(rng: &mut ChaCha8Rng, count: usize) -> Vec<String> {
    let mut folders = vec![(String::new(), 0usize)];
    let mut names: HashSet<String> = HashSet::new();
    let top = ((count as f64).sqrt().ceil() as usize).max(1);
    while folders.len() <= count {
        let parent = if folders.len() <= top {
            0
        } else {
            rng.random_range(0..folders.len())
        };
        let (parent_path, depth) = folders[parent].clone();
        if depth >= 4 {
            continue;
        }
        let word = FOLDER_WORDS.choose(rng).copied().unwrap_or("folder");
        let mut name = match rng.random_range(0..3) {
            0 => word.to_string(),
            1 => format!("{word} {}", rng.random_range(2005..2026)),
            _ => format!("{word} {}", rng.random_range(1..100)),
        };
        let mut k = 2;
        while names.contains(&join(&parent_path, &name)) {
            name = format!("{name} {k}");
            k += 1;
        }
        let path = join(&parent_path, &name);
        names.insert(path.clone());
        folders.push((path, depth + 1));
    }
    folders.into_iter().map(|(p, _)| p).collect()
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

fn pick_kind(rng: &mut ChaCha8Rng, total: u32) -> usize {
    let mut x = rng.random_range(0..total);
    for (i, k) in KINDS.iter().enumerate() {
        if x < k.weight {
            return i;
        }
        x -= k.weight;
    }
    0
}

/// A sixth of the files sit at the top, as in a Downloads folder; the rest anywhere.
fn pick_folder(rng: &mut ChaCha8Rng, folders: usize) -> usize {
    if folders == 1 || rng.random_range(0..6) == 0 {
        0
    } else {
        rng.random_range(1..folders)
    }
}

fn name_stem(rng: &mut ChaCha8Rng, kind: &Kind) -> String {
    let pattern = kind.names.choose(rng).copied().unwrap_or("file {n}");
    pattern.replace("{n}", &rng.random_range(1..5000).to_string())
}

/// A free name in the folder: `stem.ext`, else `stem 2.ext`, …
fn place(
    folders: &[String],
    taken: &mut [HashSet<String>],
    folder: usize,
    stem: &str,
    ext: &str,
) -> String {
    let with_ext = |stem: &str| {
        if ext.is_empty() {
            stem.to_string()
        } else {
            format!("{stem}.{ext}")
        }
    };
    let mut name = with_ext(stem);
    let mut k = 2;
    while !taken[folder].insert(name.to_lowercase()) {
        name = with_ext(&format!("{stem} {k}"));
        k += 1;
    }
    join(&folders[folder], &name)
}

fn lognormal(rng: &mut ChaCha8Rng, mu: f64, sigma: f64) -> u64 {
    // Box–Muller: one standard normal from two uniforms.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    ((mu + sigma * z).exp().round() as u64).clamp(MIN_SIZE, MAX_SIZE)
}

// ---------------------------------------------------------------------------------------
// Writing: every file's bytes from its spec, on all cores.

/// Printable bytes for text files (letters, digits, spaces, punctuation, line breaks).
const TEXT: &[u8; 64] = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n";

fn fill(specs: &[Spec], i: usize, buf: &mut Vec<u8>) {
    let spec = &specs[i];
    match spec.content {
        Content::Empty => buf.clear(),
        Content::Unique { seed, magic, text } => {
            buf.clear();
            buf.resize(spec.size as usize, 0);
            ChaCha8Rng::seed_from_u64(seed).fill(buf.as_mut_slice());
            if text {
                for b in buf.iter_mut() {
                    *b = TEXT[(*b & 63) as usize];
                }
            }
            let m = magic.len().min(buf.len());
            buf[..m].copy_from_slice(&magic[..m]);
        }
        Content::Copy(of) => fill(specs, of, buf),
        Content::NearCopy { of, salt } => {
            fill(specs, of, buf);
            let mut rng = ChaCha8Rng::seed_from_u64(salt);
            let from = buf.len().saturating_sub(NEAR_COPY_TAIL);
            for b in &mut buf[from..] {
                // Never zero: every one of these bytes differs from the original's.
                *b ^= rng.random_range(1..=255u8);
            }
        }
    }
}

/// Writes every file; the size and SHA-256 of each, in `specs` order.
fn write_all(root: &Path, specs: &[Spec]) -> Result<Vec<(u64, String)>> {
    let dirs: HashSet<&str> = specs
        .iter()
        .filter_map(|s| s.path.rsplit_once('/').map(|(d, _)| d))
        .collect();
    fs::create_dir_all(root)?;
    for dir in dirs {
        fs::create_dir_all(root.join(dir))?;
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    // Writing is mostly page-cache copies and hashing: a few more threads than cores.
    let threads = cores() * 2;
    type Written = Vec<(usize, u64, String)>;
    let results: Vec<Result<Written>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<Written> {
                    let mut out = Vec::new();
                    let mut buf = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= specs.len() {
                            return Ok(out);
                        }
                        fill(specs, i, &mut buf);
                        let path = root.join(&specs[i].path);
                        let mut file = fs::File::create(&path)
                            .with_context(|| format!("create {}", path.display()))?;
                        file.write_all(&buf)?;
                        out.push((i, buf.len() as u64, hex::encode(Sha256::digest(&buf))));
                        progress(&done, specs.len(), "written");
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| bail!("a writer thread panicked"))
            })
            .collect()
    });
    let mut written = vec![(0, String::new()); specs.len()];
    for part in results {
        for (i, size, hash) in part? {
            written[i] = (size, hash);
        }
    }
    Ok(written)
}

fn progress(done: &AtomicUsize, total: usize, what: &str) {
    let now = done.fetch_add(1, Ordering::Relaxed) + 1;
    let step = (total / 10).max(1);
    if total >= 50_000 && now.is_multiple_of(step) {
        eprintln!("tree: {now}/{total} {what}");
    }
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// SHA-256 of a file, read in `buf`-sized pieces.
pub fn sha256_file(path: &Path, buf: &mut [u8]) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    loop {
        let n = file.read(buf)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

fn expected_from(manifest: &[Entry]) -> Expected {
    let mut by_hash: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for entry in manifest.iter().filter(|e| e.size > 0) {
        by_hash.entry(&entry.sha256).or_default().push(entry);
    }
    let mut groups = Vec::new();
    let (mut extra_copies, mut extra_bytes) = (0, 0);
    for entries in by_hash.values().filter(|v| v.len() > 1) {
        extra_copies += entries.len() as u64 - 1;
        extra_bytes += (entries.len() as u64 - 1) * entries[0].size;
        let mut paths: Vec<String> = entries.iter().map(|e| e.path.clone()).collect();
        paths.sort();
        groups.push(paths);
    }
    groups.sort();
    Expected {
        files: manifest.len(),
        bytes: manifest.iter().map(|e| e.size).sum(),
        empty_files: manifest.iter().filter(|e| e.size == 0).count(),
        groups,
        extra_copies,
        extra_bytes,
    }
}

fn write_manifest(path: &Path, manifest: &[Entry]) -> Result<()> {
    let mut out = std::io::BufWriter::new(fs::File::create(path)?);
    for e in manifest {
        writeln!(out, "{}\t{}\t{}", e.path, e.size, e.sha256)?;
    }
    out.flush()?;
    Ok(())
}

fn read_manifest(path: &Path) -> Result<Vec<Entry>> {
    let text = fs::read_to_string(path)?;
    text.lines()
        .map(|line| {
            let mut parts = line.split('\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(path), Some(size), Some(sha256)) => Ok(Entry {
                    path: path.to_string(),
                    size: size.parse()?,
                    sha256: sha256.to_string(),
                }),
                _ => bail!("bad manifest line: {line}"),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Checking a tree against the manifest.

#[derive(Default, Debug, Serialize)]
pub struct Verify {
    pub files: usize,
    pub missing: usize,
    pub wrong_size: usize,
    pub wrong_content: usize,
    pub extra: usize,
    /// A few of the paths that differ, to start looking from.
    pub examples: Vec<String>,
}

impl Verify {
    pub fn ok(&self) -> bool {
        self.missing + self.wrong_size + self.wrong_content + self.extra == 0
    }
}

impl std::fmt::Display for Verify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files checked: {} missing, {} of another size, {} with other bytes, {} not in the manifest",
            self.files, self.missing, self.wrong_size, self.wrong_content, self.extra
        )?;
        if !self.examples.is_empty() {
            write!(f, " (e.g. {})", self.examples.join(", "))?;
        }
        Ok(())
    }
}

/// Every manifest path present with its size (and, when `full`, its SHA-256, hashed on
/// all cores), and no other file under `root`.
pub fn verify(root: &Path, manifest: &[Entry], full: bool) -> Result<Verify> {
    #[derive(Default)]
    struct Part {
        missing: usize,
        wrong_size: usize,
        wrong_content: usize,
        examples: Vec<String>,
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let parts: Vec<Part> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..cores())
            .map(|_| {
                scope.spawn(|| {
                    let mut part = Part::default();
                    let mut buf = vec![0u8; 1 << 20];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(entry) = manifest.get(i) else {
                            return part;
                        };
                        let path = root.join(&entry.path);
                        let problem = match fs::metadata(&path) {
                            Err(_) => {
                                part.missing += 1;
                                true
                            }
                            Ok(meta) if !meta.is_file() || meta.len() != entry.size => {
                                part.wrong_size += 1;
                                true
                            }
                            Ok(_) if full => {
                                let same =
                                    sha256_file(&path, &mut buf).is_ok_and(|h| h == entry.sha256);
                                if !same {
                                    part.wrong_content += 1;
                                }
                                !same
                            }
                            Ok(_) => false,
                        };
                        if problem && part.examples.len() < 3 {
                            part.examples.push(entry.path.clone());
                        }
                        if full {
                            progress(&done, manifest.len(), "checked");
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut check = Verify {
        files: manifest.len(),
        ..Verify::default()
    };
    for part in parts {
        check.missing += part.missing;
        check.wrong_size += part.wrong_size;
        check.wrong_content += part.wrong_content;
        check.examples.extend(part.examples);
    }
    let known: HashSet<&str> = manifest.iter().map(|e| e.path.as_str()).collect();
    for path in walk_files(root)? {
        if !known.contains(path.as_str()) {
            check.extra += 1;
            if check.examples.len() < 6 {
                check.examples.push(path);
            }
        }
    }
    Ok(check)
}

/// Relative, `/`-separated paths of every file (anything not a folder) under `root`.
pub fn walk_files(root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("list {}", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            let path = join(&rel, &name);
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), path));
            } else {
                out.push(path);
            }
        }
    }
    Ok(out)
}

/// Removes empty folders that hold no manifest file (left by an organize and its rollback,
/// or by the rename loop); the number removed.
pub fn remove_stray_dirs(root: &Path, manifest: &[Entry]) -> Result<usize> {
    let mut wanted: HashSet<String> = HashSet::new();
    for entry in manifest {
        let mut path = entry.path.as_str();
        while let Some((parent, _)) = path.rsplit_once('/') {
            if !wanted.insert(parent.to_string()) {
                break;
            }
            path = parent;
        }
    }
    // Deepest first, so a folder emptied by removing its children goes too.
    let mut dirs: BTreeMap<(usize, String), PathBuf> = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for entry in fs::read_dir(&dir)?.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let path = join(&rel, &entry.file_name().to_string_lossy());
                dirs.insert(
                    (usize::MAX - path.matches('/').count(), path.clone()),
                    entry.path(),
                );
                stack.push((entry.path(), path));
            }
        }
    }
    let mut removed = 0;
    for ((_, rel), dir) in dirs {
        if !wanted.contains(&rel) && fs::remove_dir(&dir).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_plans_the_same_tree() {
        let params = Params::new(2000, 7, 16.0, 0.1);
        let (a, b) = (plan(&params), plan(&params));
        assert_eq!(a.len(), 2000);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.path == y.path && x.size == y.size)
        );
        let mut buf = Vec::new();
        fill(&a, 5, &mut buf);
        let first = buf.clone();
        fill(&b, 5, &mut buf);
        assert_eq!(first, buf);
    }

    #[test]
    fn copies_are_identical_and_near_copies_differ_only_at_the_end() {
        let specs = plan(&Params::new(5000, 1, 16.0, 0.1));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut saw = (false, false);
        for (i, spec) in specs.iter().enumerate() {
            match spec.content {
                Content::Copy(of) => {
                    fill(&specs, i, &mut a);
                    fill(&specs, of, &mut b);
                    assert_eq!(a, b);
                    saw.0 = true;
                }
                Content::NearCopy { of, .. } => {
                    fill(&specs, i, &mut a);
                    fill(&specs, of, &mut b);
                    assert_eq!(a.len(), b.len());
                    let cut = a.len() - NEAR_COPY_TAIL;
                    assert_eq!(a[..cut], b[..cut]);
                    assert_ne!(a[cut..], b[cut..]);
                    saw.1 = true;
                }
                _ => {}
            }
        }
        assert!(saw.0 && saw.1);
        let paths: HashSet<&str> = specs.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths.len(), specs.len(), "paths are unique");
        assert!(
            specs
                .iter()
                .all(|s| !s.path.split('/').any(|c| c.starts_with('.')))
        );
    }
}
