//! README.md is run, not just read: its command-line walk-through (the ```sh blocks
//! between the `walkthrough` markers) runs as written, in order, in one bash, against a
//! real server; and the Node example it shows is the file in `examples/`.

use std::{collections::BTreeMap, path::Path, process::Command, time::Duration};

use crate::helpers::spawn_app;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The fenced blocks of one language between two markers, unindented, in order.
fn blocks(text: &str, language: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut current {
            None if trimmed == format!("```{language}") => current = Some((indent, Vec::new())),
            Some((_, lines)) if trimmed == "```" => {
                out.push(lines.join("\n"));
                current = None;
            }
            Some((indent, lines)) => lines.push(line.get(*indent..).unwrap_or("").to_string()),
            None => {}
        }
    }
    out
}

fn walkthrough(readme: &str) -> String {
    let start = readme
        .find("<!-- walkthrough:start -->")
        .expect("start marker");
    let end = readme.find("<!-- walkthrough:end -->").expect("end marker");
    blocks(&readme[start..end], "sh").join("\n")
}

fn write_file(root: &Path, rel: &str, content: &[u8], secs_ago: u64) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    let time = std::time::SystemTime::now() - Duration::from_secs(secs_ago);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[tokio::test]
async fn the_readme_walkthrough_runs_as_written() {
    for tool in ["bash", "curl", "jq"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        assert!(
            found.status.success(),
            "the README walk-through needs {tool} (.ci/run installs it)"
        );
    }
    let app = spawn_app().await;
    let home = tempfile::tempdir().unwrap();
    let downloads = home.path().join("Downloads");
    // Names a naive loop breaks on, a sub-folder, and a pair of copies (the older kept).
    write_file(&downloads, "holiday, day 1; beach.jpg", b"jpeg bytes", 3000);
    write_file(&downloads, "it's \"quoted\".pdf", b"%PDF-1.4 quoted", 2000);
    write_file(&downloads, "music/song (live).mp3", b"ID3 song", 1000);
    write_file(&downloads, "copy-old.txt", b"the same words", 5000);
    write_file(&downloads, "music/copy-new.txt", b"the same words", 100);
    write_file(&downloads, "notes", b"plain text without an extension", 10);

    let script = walkthrough(&readme()).replace("http://127.0.0.1:8000", &app.url(""));
    let run = tokio::task::spawn_blocking({
        let home = home.path().to_path_buf();
        move || {
            Command::new("timeout")
                .arg("240")
                .args(["bash", "-euo", "pipefail", "-c", &script])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env("HOME", home)
                .env_remove("TOKEN")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the walk-through failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(!stderr.contains("FAILED"), "an upload failed: {stderr}");

    // Where it ends: the tree as uploaded (organize was rolled back), minus the newer copy,
    // which the cleanup trashed and the purge deleted.
    let ada = app
        .data_dir
        .path()
        .join("storage/users")
        .join(ada_id(&app).await);
    let left = tree(&ada.join("inbox"));
    let expected: BTreeMap<String, Vec<u8>> = [
        ("holiday, day 1; beach.jpg", &b"jpeg bytes"[..]),
        ("it's \"quoted\".pdf", b"%PDF-1.4 quoted"),
        ("music/song (live).mp3", b"ID3 song"),
        ("copy-old.txt", b"the same words"),
        ("notes", b"plain text without an extension"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_vec()))
    .collect();
    assert_eq!(left, expected, "\n--- stdout\n{stdout}");
    assert!(
        !ada.join(".trash").exists() || tree(&ada.join(".trash")).is_empty(),
        "{:?}",
        tree(&ada.join(".trash"))
    );
}

async fn ada_id(app: &crate::helpers::TestApp) -> String {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::users::Entity::find()
        .filter(entity::users::Column::Username.eq("ada"))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the walk-through signed ada up")
        .id
        .to_string()
}

#[test]
fn the_node_example_in_the_readme_is_the_file() {
    let file = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/watch-operation.mjs"),
    )
    .unwrap();
    let shown = blocks(&readme(), "js");
    assert!(
        shown
            .iter()
            .any(|block| block.trim_end() == file.trim_end()),
        "README's copy of examples/watch-operation.mjs differs from the file"
    );
}
