//! DUPLICATE_CLEANUP: exactly the true duplicate groups, the survivor the keep policy and
//! protected paths choose, the rest moved to the trash — until a purge deletes it for good.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::helpers::{Space, assert_code, contents};

/// Duplicate groups by brute force: SHA-256 of every non-empty file, hidden files aside.
fn brute_force_groups(
    tree: &BTreeMap<String, String>,
    sizes: &HashMap<String, u64>,
) -> Vec<Vec<String>> {
    let mut by_hash: BTreeMap<&String, Vec<String>> = BTreeMap::new();
    for (path, hash) in tree {
        if sizes[path] > 0 && !path.split('/').any(|s| s.starts_with('.')) {
            by_hash.entry(hash).or_default().push(path.clone());
        }
    }
    let mut groups: Vec<Vec<String>> = by_hash.into_values().filter(|g| g.len() > 1).collect();
    for g in &mut groups {
        g.sort();
    }
    groups.sort();
    groups
}

/// Makes the file at `path` (in the space) `secs_ago` seconds old.
fn set_mtime(s: &Space, path: &str, secs_ago: u64) {
    let file = std::fs::File::options()
        .write(true)
        .open(s.path(path))
        .unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago))
        .unwrap();
}

#[tokio::test]
async fn duplicate_cleanup_finds_exactly_the_brute_force_groups_and_rollback_restores_them() {
    let s = Space::new().await;
    let big_a: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let mut big_b = big_a.clone();
    *big_b.last_mut().unwrap() ^= 1; // same size, same first block, different tail
    s.write(&[
        ("d/a.txt", b"same small"),
        ("d/sub/a copy.txt", b"same small"),
        ("d/sub/deeper/a again.txt", b"same small"),
        ("d/other.txt", b"diff small"), // same size, different content
        ("d/big1.bin", &big_a),
        ("d/big2.bin", &big_a),
        ("d/big3.bin", &big_b),
        ("d/empty1", b""),
        ("d/empty2", b""),
        ("d/unique.dat", b"only one of me"),
        ("d/.hidden copy.txt", b"same small"),
    ]);
    // Ages: the kept copy under OLDEST must be the oldest one.
    set_mtime(&s, "d/sub/a copy.txt", 3000);
    set_mtime(&s, "d/a.txt", 2000);
    set_mtime(&s, "d/sub/deeper/a again.txt", 1000);
    let before = s.tree();
    let sizes: HashMap<String, u64> = before
        .keys()
        .map(|p| (p.clone(), std::fs::metadata(s.path(p)).unwrap().len()))
        .collect();
    let expected = brute_force_groups(&before, &sizes);
    assert_eq!(expected.len(), 2);

    let op = s.run("DUPLICATE_CLEANUP", "d", json!({})).await;

    assert_eq!(op["status"], "COMPLETED", "{op}");
    assert_eq!(op["duplicatesFound"], 3, "{op}");
    assert_eq!(op["spaceSavedBytes"], 2 * 10 + 20_000, "{op}");
    let id = op["id"].as_str().unwrap();

    let body = s
        .gql(
            "query($id: ID!) { duplicateGroups(operationId: $id) { totalCount edges { node { hash sizeBytes kept { originalPath } files { originalPath newPath isDuplicate status } } } } }",
            json!({ "id": id }),
        )
        .await;
    let groups = body["data"]["duplicateGroups"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let mut found: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            let mut paths: Vec<String> = g["node"]["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["originalPath"].as_str().unwrap().to_string())
                .collect();
            paths.sort();
            paths
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
    let small = groups
        .iter()
        .find(|g| g["node"]["sizeBytes"] == 10)
        .unwrap();
    assert_eq!(
        small["node"]["kept"]["originalPath"], "d/sub/a copy.txt",
        "OLDEST keeps the oldest"
    );

    let after = s.tree();
    assert!(after.contains_key("d/sub/a copy.txt"));
    assert!(!after.contains_key("d/a.txt"));
    assert!(after.contains_key(&format!(".trash/{id}/d/a.txt")));
    assert!(
        after.contains_key("d/big3.bin")
            && after.contains_key("d/empty1")
            && after.contains_key("d/empty2")
    );
    assert_eq!(contents(&after), contents(&before), "moved, not deleted");

    let report = s
        .gql("query($id: ID!) { operationReport(id: $id) { duplicatesFound spaceSavedBytes filesFailed skipped { reason files } statuses { status files } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        report["data"]["operationReport"]["duplicatesFound"], 3,
        "{report}"
    );
    assert_eq!(report["data"]["operationReport"]["filesFailed"], 0);

    let done = s.rollback_and_wait(&op).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(s.tree(), before);
    assert!(
        !s.exists(&format!(".trash/{id}")),
        "the emptied trash folder is gone"
    );
}

#[tokio::test]
async fn keep_policies_and_protected_paths_choose_the_survivor() {
    let s = Space::new().await;
    s.write(&[
        ("p/x/long/name.txt", b"dup"),
        ("p/short.txt", b"dup"),
        ("p/keep/this.txt", b"dup"),
    ]);
    set_mtime(&s, "p/x/long/name.txt", 100);
    set_mtime(&s, "p/short.txt", 50);
    set_mtime(&s, "p/keep/this.txt", 10);

    let newest = s
        .dry_run("DUPLICATE_CLEANUP", "p", json!({ "keep": "NEWEST" }))
        .await;
    assert_eq!(s.kept_paths(&newest).await, ["p/keep/this.txt"]);

    let shortest = s
        .dry_run("DUPLICATE_CLEANUP", "p", json!({ "keep": "SHORTEST_PATH" }))
        .await;
    assert_eq!(s.kept_paths(&shortest).await, ["p/short.txt"]);

    let protected = s
        .run(
            "DUPLICATE_CLEANUP",
            "p",
            json!({ "protectedPaths": ["p/x"] }),
        )
        .await;
    assert_eq!(protected["duplicatesFound"], 2, "{protected}");
    assert!(s.exists("p/x/long/name.txt"));
    assert!(!s.exists("p/short.txt") && !s.exists("p/keep/this.txt"));

    // The copy that stays reads as kept, with why, not as skipped.
    let records = s.records(&protected).await;
    let kept: Vec<&Value> = records.iter().filter(|r| r["status"] == "KEPT").collect();
    assert_eq!(kept.len(), 1, "{records:?}");
    assert_eq!(kept[0]["originalPath"], "p/x/long/name.txt");
    assert_eq!(kept[0]["errorMessage"], "kept: under a protected path");
    assert!(
        records.iter().all(|r| r["status"] != "SKIPPED"),
        "{records:?}"
    );
    assert_eq!(protected["filesSkipped"], 0, "{protected}");
    assert_eq!(
        protected["filesTotal"], 2,
        "the kept copy is not work to do: {protected}"
    );
    let report = s
        .gql(
            "query($id: ID!) { operationReport(id: $id) { skipped { reason files } statuses { status files } } }",
            json!({ "id": protected["id"] }),
        )
        .await;
    let report = &report["data"]["operationReport"];
    assert_eq!(report["skipped"], json!([]), "{report}");
    assert!(
        report["statuses"]
            .as_array()
            .unwrap()
            .contains(&json!({ "status": "KEPT", "files": 1 })),
        "{report}"
    );
}

#[tokio::test]
async fn purge_trash_deletes_for_good_and_ends_rollback() {
    let s = Space::new().await;
    s.write(&[("t/a.txt", b"twin"), ("t/b.txt", b"twin")]);
    let op = s.run("DUPLICATE_CLEANUP", "t", json!({})).await;
    let trashed = format!(".trash/{}/t/b.txt", op["id"].as_str().unwrap());
    assert!(s.exists(&trashed));

    let purged = s.purge_trash(&op).await;

    assert!(purged["id"].is_string(), "{purged}");
    assert!(!s.exists(&trashed));
    assert!(s.exists("t/a.txt"));
    assert_code(
        &s.mutation("purgeTrash", "operationId", &op).await,
        "CONFLICT",
    );
    assert_code(
        &s.mutation("rollbackOperation", "id", &op).await,
        "CONFLICT",
    );
}

/// Choosing the copy to keep before applying a cleanup's plan: the chosen one stays,
/// the one the policy picked goes to the trash in its place, and rollback undoes it.
#[tokio::test]
async fn the_copy_a_user_chooses_is_the_one_kept() {
    let s = Space::new().await;
    s.write(&[
        ("p/a.txt", b"dup"),
        ("p/b.txt", b"dup"),
        ("p/c.txt", b"dup"),
        ("p/solo.txt", b"solo"),
    ]);
    set_mtime(&s, "p/a.txt", 100);
    set_mtime(&s, "p/b.txt", 50);
    set_mtime(&s, "p/c.txt", 10);
    let before = s.tree();
    let plan = s.dry_run("DUPLICATE_CLEANUP", "p", json!({})).await;
    assert_eq!(s.kept_paths(&plan).await, ["p/a.txt"]);
    let records = s.records(&plan).await;
    let c = records
        .iter()
        .find(|r| r["originalPath"] == "p/c.txt")
        .unwrap();
    let body = s
        .gql(
            "mutation($id: ID!, $k: [ID!]) { applyPlan(id: $id, keep: $k) { id } }",
            json!({ "id": plan["id"], "k": [c["id"]] }),
        )
        .await;
    let applied = s.wait(&body["data"]["applyPlan"]).await;
    assert_eq!(applied["status"], "COMPLETED", "{applied}");
    assert!(s.exists("p/c.txt") && !s.exists("p/a.txt") && !s.exists("p/b.txt"));
    assert_eq!(applied["duplicatesFound"], 2, "{applied}");
    let kept: Vec<Value> = s
        .records(&applied)
        .await
        .into_iter()
        .filter(|r| r["status"] == "KEPT")
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["originalPath"], "p/c.txt");
    assert_eq!(kept[0]["errorMessage"], "kept: your choice");
    s.rollback_and_wait(&applied).await;
    assert_eq!(s.tree(), before);

    // One copy per group; only copies in a group.
    let plan = s.dry_run("DUPLICATE_CLEANUP", "p", json!({})).await;
    let records = s.records(&plan).await;
    let id_of =
        |path: &str| records.iter().find(|r| r["originalPath"] == path).unwrap()["id"].clone();
    for keep in [json!([id_of("p/b.txt"), id_of("p/c.txt")])] {
        let body = s
            .gql(
                "mutation($id: ID!, $k: [ID!]) { applyPlan(id: $id, keep: $k) { id } }",
                json!({ "id": plan["id"], "k": keep }),
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
    }
}
