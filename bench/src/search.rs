//! Search by name through `files(search:)` on the whole tree: the first search (which
//! builds the user's index from one walk), then each query many times, timed from
//! sending the request to the answer, its `totalCount` checked against the manifest.
//! The baseline is what a search cost without an index: one walk of the tree matching
//! names (as `find -iname` does), in the same invocation.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::{
    client::{Api, Session, int_at},
    engine_runs::TreeLease,
    report::{Check, Search, SearchQuery},
    server::Deployment,
    tree::Tree,
};

/// Times each query is asked (after one unmeasured ask).
const REPEATS: usize = 21;

const QUERY: &str =
    "query($s: String!) { files(search: $s, first: 50) { totalCount edges { node { path } } } }";

pub async fn run(
    deployment: &Deployment,
    api: &Api,
    session: &Session,
    tree: &Tree,
    checks: &mut Vec<Check>,
) -> Result<Search> {
    let queries = pick_queries(tree);
    let _lease = TreeLease::take(tree, deployment, session)?;
    // The first search starts building the index (and, if that takes more than a few
    // seconds, is answered by reading the folder); wait until the server says it is built.
    let started = Instant::now();
    api.gql(Some(&session.token), QUERY, json!({ "s": queries[0] }))
        .await
        .context("the first search")?;
    let built = || {
        (0..deployment.api_ports().len())
            .any(|i| deployment.log_tail(i, 200).contains("search index built"))
    };
    while !built() {
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("the search index was not built within 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let first_search_seconds = started.elapsed().as_secs_f64();

    let mut measured = Vec::new();
    for words in &queries {
        let expected = tree
            .manifest
            .iter()
            .filter(|e| {
                name_of(&e.path)
                    .to_lowercase()
                    .contains(&words.to_lowercase())
            })
            .count() as i64;
        let mut times = Vec::with_capacity(REPEATS);
        let mut total = 0;
        for i in 0..=REPEATS {
            let sent = Instant::now();
            let data = api
                .gql(Some(&session.token), QUERY, json!({ "s": words }))
                .await
                .with_context(|| format!("search {words:?}"))?;
            if i > 0 {
                times.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            total = int_at(&data, &["files", "totalCount"]);
        }
        checks.push(Check::new(
            &format!("search {words:?}: totalCount is the manifest's count"),
            total == expected,
            format!("{total} found, {expected} expected"),
        ));
        times.sort_by(f64::total_cmp);
        let baseline_ms = walk_matching(&tree_path(deployment, session), words)?;
        measured.push(SearchQuery {
            words: words.clone(),
            matches: total as u64,
            median_ms: times[times.len() / 2],
            p95_ms: times[(times.len() * 95 / 100).min(times.len() - 1)],
            walk_ms: baseline_ms,
        });
    }
    Ok(Search {
        files: tree.manifest.len(),
        first_search_seconds,
        queries: measured,
    })
}

fn tree_path(deployment: &Deployment, session: &Session) -> std::path::PathBuf {
    deployment.user_dir(&session.user_id).join("tree")
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A rare name (one file's whole name), a common word, an extension, two letters found
/// nowhere and two found often, one letter (in half of all names) and nothing at all,
/// taken from the manifest so that every tree has them.
fn pick_queries(tree: &Tree) -> Vec<String> {
    let names: Vec<&str> = tree.manifest.iter().map(|e| name_of(&e.path)).collect();
    let rare = names[names.len() / 2].to_string();
    let word = names[names.len() / 3]
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| w.len() >= 4)
        .unwrap_or("file")
        .to_string();
    vec![
        rare,
        word,
        ".pdf".into(),
        "ab".into(),
        "in".into(),
        "e".into(),
        "zqxjv".into(),
    ]
}

/// Milliseconds one walk of the tree takes to find the names holding `words`.
fn walk_matching(root: &Path, words: &str) -> Result<f64> {
    let words = words.to_lowercase();
    let started = Instant::now();
    let mut found = 0usize;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else if entry
                .file_name()
                .to_string_lossy()
                .to_lowercase()
                .contains(&words)
            {
                found += 1;
            }
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    std::hint::black_box(found);
    Ok(ms)
}
