//! A full disk: storage on a small tmpfs. An upload larger than the free space is
//! `INSUFFICIENT_STORAGE` (not an internal error), leaves no partial file and no quota
//! drift, and the server goes on answering. Needs root to mount (CI runs as root);
//! elsewhere it says why it skipped.

use std::{path::Path, process::Command, time::Duration};

use serde_json::json;

use crate::helpers::{assert_code, spawn_app_with};

/// A tmpfs of `megabytes` at `dir`, unmounted when dropped; `None` (with the reason
/// printed) where mounting is not allowed.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    // The reason for a skip is for whoever reads the test output.
    #[allow(clippy::print_stderr)]
    fn mount(dir: &Path, megabytes: u32) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Self(dir.to_path_buf())),
            Ok(out) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs here ({})",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(err) => {
                eprintln!("skipped: cannot run mount ({err})");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn an_upload_larger_than_the_free_space_is_insufficient_storage_and_leaves_nothing() {
    let mount = tempfile::tempdir().unwrap();
    let Some(_tmpfs) = Tmpfs::mount(mount.path(), 8) else {
        return;
    };
    let storage = mount.path().join("storage");
    let app = spawn_app_with(|c| {
        c.storage_url = Some(format!("fs://{}", storage.display()));
    })
    .await;
    let ada = app.signup("ada").await;
    let small = app
        .upload(&ada.access_token, "in", &[("small.txt", b"12345")])
        .await;
    assert!(small["data"]["uploadFiles"].is_array(), "{small}");

    let big = vec![1u8; 12 * 1024 * 1024];
    let body = app
        .upload(&ada.access_token, "in", &[("big.bin", &big)])
        .await;
    assert_code(&body, "INSUFFICIENT_STORAGE");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains(&*mount.path().to_string_lossy()),
        "{message}"
    );

    // No partial file (removed as the write failed), usage exactly what is stored.
    let folder = storage.join("users").join(&ada.id).join("in");
    for _ in 0..50 {
        if std::fs::read_dir(&folder).unwrap().count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["small.txt"]);
    let me = app
        .gql(
            Some(&ada.access_token),
            "{ me { storageUsedBytes } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["data"]["me"]["storageUsedBytes"]
            .to_string()
            .trim_matches('"'),
        "5",
        "{me}"
    );
    // Room again once space is freed: an upload that fits goes through.
    let again = app
        .upload(&ada.access_token, "in", &[("next.txt", b"678")])
        .await;
    assert!(again["data"]["uploadFiles"].is_array(), "{again}");
}
