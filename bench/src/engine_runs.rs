//! The engine through the public API only: a duplicate-cleanup dry run checked group by
//! group against the manifest, then a real organize and its rollback, after which the
//! tree must be byte for byte what the manifest says. Each is timed from sending the
//! mutation until the terminal event arrives on an `operationProgress` subscription.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fs,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::{
    client::{Api, Frame, PROGRESS_FIELDS, Session, Ws, int_at, is_terminal, str_at},
    report::{Check, Engine, Run},
    server::Deployment,
    tree::{self, Tree},
};

/// The tree lent to the user's storage space for a while: moved there by one rename (the
/// same filesystem) and moved back when dropped, whatever happened in between.
pub struct TreeLease {
    home: PathBuf,
    lent: PathBuf,
}

impl TreeLease {
    pub fn take(tree: &Tree, deployment: &Deployment, session: &Session) -> Result<Self> {
        Self::lend(&tree.root, deployment, session, "tree")
    }

    /// Lends the folder `home` to the user's space as `name`.
    pub fn lend(
        home: &Path,
        deployment: &Deployment,
        session: &Session,
        name: &str,
    ) -> Result<Self> {
        let space = deployment.user_dir(&session.user_id);
        fs::create_dir_all(&space)?;
        let lent = space.join(name);
        fs::rename(home, &lent)
            .with_context(|| format!("move {} into {}", home.display(), space.display()))?;
        Ok(Self {
            home: home.to_path_buf(),
            lent,
        })
    }
}

impl Drop for TreeLease {
    fn drop(&mut self) {
        if let Err(e) = fs::rename(&self.lent, &self.home) {
            eprintln!(
                "could not move the tree back from {} to {}: {e}",
                self.lent.display(),
                self.home.display()
            );
        }
    }
}

pub const START: &str = "mutation($i: StartOperationInput!) { startOperation(input: $i) { id } }";
const ROLLBACK: &str = "mutation($id: ID!) { rollbackOperation(id: $id) { id } }";
const OPERATION: &str = "query($id: ID!) { operation(id: $id) { id type status dryRun filesTotal filesScanned filesProcessed filesSkipped duplicatesFound spaceSavedBytes errorMessage createdAt startedAt completedAt } }";
const REPORT: &str = "query($id: ID!) { operationReport(id: $id) { statuses { status files } skipped { reason files } filesFailed } }";
const GROUPS: &str = "query($id: ID!, $after: String) { duplicateGroups(operationId: $id, first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { hash sizeBytes files { originalPath } } } } }";

/// One operation, timed through the API.
pub struct Timed {
    pub id: String,
    pub run: Run,
    pub operation: Value,
}

/// Sends `mutation` (whose one field returns an operation), follows the operation on
/// `operationProgress` until its terminal event, and gathers its figures.
pub async fn timed(
    deployment: &mut Deployment,
    api: &Api,
    session: &Session,
    mutation: &str,
    variables: Value,
    files: usize,
) -> Result<Timed> {
    let mut ws = Ws::connect(api.port, &session.token).await?;
    deployment.reset_peaks();
    let started = Instant::now();
    let data = api.gql(Some(&session.token), mutation, variables).await?;
    let field = data
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    let id = str_at(&data, &[&field, "id"])?;
    ws.subscribe(
        "progress",
        &format!("subscription($id: ID!) {{ operationProgress(id: $id) {{ {PROGRESS_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await?;
    let mut events = 0;
    let mut ended = None;
    let mut phases: Vec<(String, f64)> = Vec::new();
    loop {
        // The server pings every 20 s, so a minute of silence means it is gone.
        match ws.next(Duration::from_secs(60)).await {
            Ok(Frame::Next { payload, .. }) => {
                events += 1;
                let progress = &payload["operationProgress"];
                let phase = progress["phase"].as_str().unwrap_or_default();
                if phases.last().is_none_or(|(last, _)| last != phase) {
                    phases.push((phase.to_string(), started.elapsed().as_secs_f64()));
                }
                if is_terminal(progress["status"].as_str().unwrap_or_default()) {
                    ended.get_or_insert(started.elapsed());
                }
            }
            Ok(Frame::Complete) => break,
            Err(e) => {
                deployment.check_alive()?;
                return Err(e.context(format!("following operation {id}")));
            }
        }
        deployment.check_alive()?;
    }
    let seconds = ended
        .context("the subscription completed without a terminal event")?
        .as_secs_f64();
    let peak_rss_mib = deployment.peaks();
    ws.close().await;
    let operation = api
        .gql(Some(&session.token), OPERATION, json!({ "id": id }))
        .await?["operation"]
        .clone();
    let report = api
        .gql(Some(&session.token), REPORT, json!({ "id": id }))
        .await?["operationReport"]
        .clone();
    let rows = report["statuses"]
        .as_array()
        .map(|s| s.iter().map(|s| int_at(s, &["files"])).sum::<i64>())
        .unwrap_or(0);
    Ok(Timed {
        id,
        run: Run {
            seconds,
            files_per_second: files as f64 / seconds,
            events,
            rows,
            peak_rss_mib,
            phases,
            status: operation["status"].as_str().unwrap_or_default().to_string(),
            report,
        },
        operation,
    })
}

pub fn start_input(kind: &str, dry_run: bool) -> Value {
    json!({ "i": { "type": kind, "rootPath": "tree", "dryRun": dry_run } })
}

pub async fn run(
    deployment: &mut Deployment,
    api: &Api,
    session: &mut Session,
    tree: &Tree,
    group_check: bool,
    checks: &mut Vec<Check>,
) -> Result<Engine> {
    let files = tree.manifest.len();
    let mut engine = Engine::default();
    let lease = TreeLease::take(tree, deployment, session)?;

    // Duplicate cleanup, dry run.
    session.refresh(api).await?;
    eprintln!("engine: duplicate cleanup dry run on {files} files");
    let dedupe = timed(
        deployment,
        api,
        session,
        START,
        start_input("DUPLICATE_CLEANUP", true),
        files,
    )
    .await?;
    let op = &dedupe.operation;
    let found = int_at(op, &["duplicatesFound"]) as u64;
    let saved = int_at(op, &["spaceSavedBytes"]) as u64;
    checks.push(Check::new(
        "dedupe: status COMPLETED",
        dedupe.run.status == "COMPLETED",
        match op["errorMessage"].as_str() {
            Some(error) => format!("{}: {error}", dedupe.run.status),
            None => dedupe.run.status.clone(),
        },
    ));
    checks.push(Check::new(
        "dedupe: duplicatesFound = extra copies in the manifest",
        found == tree.expected.extra_copies,
        format!("{found} found, {} expected", tree.expected.extra_copies),
    ));
    checks.push(Check::new(
        "dedupe: spaceSavedBytes = their bytes",
        saved == tree.expected.extra_bytes,
        format!("{saved} found, {} expected", tree.expected.extra_bytes),
    ));
    if group_check {
        let started = Instant::now();
        session.refresh(api).await?;
        let (ok, detail) = check_groups(api, session, &dedupe.id, tree).await?;
        eprintln!(
            "engine: groups compared in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        checks.push(Check::new(
            "dedupe: every group (hash → paths) = the manifest's",
            ok,
            detail,
        ));
        engine.groups_checked = true;
    }
    engine.dedupe = Some(dedupe.run);

    // Organize for real, then roll it back.
    session.refresh(api).await?;
    eprintln!("engine: organize");
    let organize = timed(
        deployment,
        api,
        session,
        START,
        start_input("ORGANIZE", false),
        files,
    )
    .await?;
    checks.push(Check::new(
        "organize: COMPLETED, no file failed",
        organize.run.status == "COMPLETED" && int_at(&organize.run.report, &["filesFailed"]) == 0,
        format!(
            "{}, processed {}, skipped {}, failed {}",
            organize.run.status,
            int_at(&organize.operation, &["filesProcessed"]),
            int_at(&organize.operation, &["filesSkipped"]),
            int_at(&organize.run.report, &["filesFailed"])
        ),
    ));
    session.refresh(api).await?;
    eprintln!("engine: rollback");
    let rollback = timed(
        deployment,
        api,
        session,
        ROLLBACK,
        json!({ "id": organize.id }),
        files,
    )
    .await?;
    checks.push(Check::new(
        "rollback: COMPLETED, nothing skipped or failed",
        rollback.run.status == "COMPLETED"
            && int_at(&rollback.operation, &["filesSkipped"]) == 0
            && int_at(&rollback.run.report, &["filesFailed"]) == 0,
        format!(
            "{}, processed {}, skipped {}, failed {}",
            rollback.run.status,
            int_at(&rollback.operation, &["filesProcessed"]),
            int_at(&rollback.operation, &["filesSkipped"]),
            int_at(&rollback.run.report, &["filesFailed"])
        ),
    ));
    engine.organize = Some(organize.run);
    engine.rollback = Some(rollback.run);
    drop(lease);

    eprintln!("engine: checking every byte of the tree");
    let started = Instant::now();
    let check = tree::verify(&tree.root, &tree.manifest, true)?;
    let leftover = tree::remove_stray_dirs(&tree.root, &tree.manifest)?;
    eprintln!(
        "engine: tree checked in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    engine.empty_folders_left = leftover;
    let restored = check.ok();
    checks.push(Check::new(
        "rollback: the tree is byte for byte the manifest",
        restored,
        check.to_string(),
    ));
    Ok(engine)
}

/// Pages through the operation's duplicate groups and compares them with the manifest:
/// the same sets of paths, each under the SHA-256 the manifest has for them.
async fn check_groups(
    api: &Api,
    session: &Session,
    id: &str,
    tree: &Tree,
) -> Result<(bool, String)> {
    let sha: HashMap<&str, &str> = tree
        .manifest
        .iter()
        .map(|e| (e.path.as_str(), e.sha256.as_str()))
        .collect();
    let mut got: BTreeMap<Vec<String>, String> = BTreeMap::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let data = api
            .gql(
                Some(&session.token),
                GROUPS,
                json!({ "id": id, "after": after }),
            )
            .await?;
        pages += 1;
        let connection = &data["duplicateGroups"];
        for edge in connection["edges"].as_array().into_iter().flatten() {
            let node = &edge["node"];
            let mut paths: Vec<String> = node["files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["originalPath"].as_str())
                .map(|p| p.strip_prefix("tree/").unwrap_or(p).to_string())
                .collect();
            paths.sort();
            got.insert(paths, node["hash"].as_str().unwrap_or_default().to_string());
        }
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(String::from);
    }
    let expected: BTreeSet<&Vec<String>> = tree.expected.groups.iter().collect();
    let missing: Vec<&&Vec<String>> = expected
        .iter()
        .filter(|g| !got.contains_key(g.as_slice()))
        .collect();
    let unexpected: Vec<&Vec<String>> = got.keys().filter(|g| !expected.contains(g)).collect();
    let wrong_hash = got
        .iter()
        .filter(|(paths, hash)| {
            paths
                .first()
                .is_some_and(|p| sha.get(p.as_str()) != Some(&hash.as_str()))
        })
        .count();
    let mut detail = format!(
        "{} groups in {pages} pages; {} expected; {} missing, {} unexpected, {} under another hash",
        got.len(),
        expected.len(),
        missing.len(),
        unexpected.len(),
        wrong_hash
    );
    if let Some(g) = missing.first() {
        detail.push_str(&format!("; missing e.g. {g:?}"));
    }
    if let Some(g) = unexpected.first() {
        detail.push_str(&format!("; unexpected e.g. {g:?}"));
    }
    Ok((
        missing.is_empty() && unexpected.is_empty() && wrong_hash == 0,
        detail,
    ))
}
