//! Getting files back out: what `GET /files/{path}` serves, for whom, and how. The
//! transport (`http::files`) turns these answers into a response.
//!
//! User content never runs as the app: a file is an attachment unless a link asked for
//! it inline *and* its type is on the allow-list (images but not SVG, PDF, plain text,
//! audio, video); anything else is `application/octet-stream`, whatever its name says.

use chrono::Utc;
use futures::{Stream, StreamExt, TryStreamExt};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use uuid::Uuid;

use crate::{
    auth::links::{LINK_TTL_SECS, Link},
    engine::TRASH_DIR,
    error::{AppError, AppResult},
    state::AppState,
    storage::{FileMeta, StorageError, UserSpace, paths},
};

/// Characters kept as they are in a path segment of a link.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A signed link to a file or folder of the caller's, good for `LINK_TTL_SECS`.
pub async fn link(state: &AppState, user_id: Uuid, input: &str, inline: bool) -> AppResult<String> {
    let path = paths::normalize("path", input)?;
    find(state, user_id, &path).await?;
    let link = Link {
        user_id,
        path,
        expires: Utc::now().timestamp() + LINK_TTL_SECS,
        inline,
    };
    let signature = state.links.sign(&link);
    Ok(format!(
        "{}?u={}&exp={}{}&sig={signature}",
        href(&link.path),
        link.user_id,
        link.expires,
        if inline { "&inline=1" } else { "" },
    ))
}

/// The path part of a file's URL.
pub fn href(path: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    format!("/files/{}", segments.join("/"))
}

/// The file or folder at `path` (normalized) in the user's space, or `NOT_FOUND`.
pub async fn find(state: &AppState, user_id: Uuid, path: &str) -> AppResult<FileMeta> {
    let space = state.storage.space(user_id);
    space.stat(path).await?.ok_or(AppError::NotFound("file"))
}

/// How a file is served.
#[derive(Debug, PartialEq, Eq)]
pub struct Presentation {
    pub content_type: String,
    pub inline: bool,
}

/// Its type, by name, and whether it may be shown inline (only when asked).
pub fn present(path: &str, inline_asked: bool) -> Presentation {
    let guessed = mime_guess::from_path(path).first_or_octet_stream();
    let essence = guessed.essence_str();
    let safe = match (guessed.type_(), guessed.subtype().as_str()) {
        (mime_guess::mime::IMAGE, "svg") => false,
        (mime_guess::mime::IMAGE | mime_guess::mime::AUDIO | mime_guess::mime::VIDEO, _) => true,
        _ => matches!(essence, "application/pdf" | "text/plain"),
    };
    let content_type = match essence {
        _ if !safe => "application/octet-stream".to_string(),
        "text/plain" => "text/plain; charset=utf-8".to_string(),
        other => other.to_string(),
    };
    Presentation {
        content_type,
        inline: safe && inline_asked,
    }
}

/// A strong validator for a file's current content: its size and modified time.
pub fn etag(file: &FileMeta) -> String {
    let modified = file.modified.map(|m| m.timestamp_micros()).unwrap_or(0);
    format!("\"{:x}-{:x}\"", file.size, modified)
}

/// A folder as a zip stream: each file is read and written in turn (stored, not
/// compressed: most files people keep are compressed already), so memory holds one
/// chunk, never the folder. The trash is left out of a download of the whole space.
pub fn zip(space: UserSpace, folder: String) -> impl Stream<Item = std::io::Result<bytes::Bytes>> {
    zip_with(space, folder, "", Vec::new())
}

/// `zip`, each file's name after `prefix`, and `extra` entries (name, bytes) at the end.
pub fn zip_with(
    space: UserSpace,
    folder: String,
    prefix: &'static str,
    extra: Vec<(String, Vec<u8>)>,
) -> impl Stream<Item = std::io::Result<bytes::Bytes>> {
    use async_zip::{Compression, ZipEntryBuilder, base::write::ZipFileWriter};
    use futures::AsyncWriteExt;

    let (writer, reader) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        let result: anyhow::Result<()> = async {
            let mut zip = ZipFileWriter::with_tokio(writer);
            let mut files = std::pin::pin!(space.walk(&folder));
            while let Some(file) = files.try_next().await? {
                let inside = file
                    .path
                    .strip_prefix(&folder)
                    .unwrap_or(&file.path)
                    .trim_start_matches('/')
                    .to_string();
                if folder.is_empty() && paths::is_within(&file.path, TRASH_DIR) {
                    continue;
                }
                let mut entry =
                    ZipEntryBuilder::new(format!("{prefix}{inside}").into(), Compression::Stored)
                        .unix_permissions(0o644);
                if let Some(modified) = file.modified {
                    entry = entry.last_modification_date((&modified).into());
                }
                // A file moved or deleted since the walk met it (an operation running
                // meanwhile) is left out, not a broken zip: its first bytes are read
                // before its entry begins.
                let opened = space.read_range(&file.path, 0..file.size).await;
                let mut bytes = match opened {
                    Ok(bytes) => Box::pin(bytes),
                    Err(err) if StorageError::of(&err) == StorageError::NotFound => continue,
                    Err(err) => return Err(err),
                };
                let first = match bytes.next().await {
                    Some(Err(err)) if StorageError::of(&err) == StorageError::NotFound => continue,
                    first => first.transpose()?,
                };
                let mut out = zip.write_entry_stream(entry).await?;
                if let Some(chunk) = first {
                    out.write_all(&chunk).await?;
                }
                while let Some(chunk) = bytes.next().await {
                    out.write_all(&chunk?).await?;
                }
                out.close().await?;
            }
            for (name, bytes) in extra {
                let entry =
                    ZipEntryBuilder::new(name.into(), Compression::Stored).unix_permissions(0o644);
                zip.write_entry_whole(entry, &bytes).await?;
            }
            zip.close().await?;
            Ok(())
        }
        .await;
        // The client sees a cut-off zip (no central directory), never a whole-looking one.
        if let Err(err) = result {
            tracing::warn!(error = %format!("{err:#}"), "a folder download stopped");
        }
    });
    tokio_util::io::ReaderStream::new(reader)
}

/// What a signed export link names instead of a path (no path holds a NUL).
pub const EXPORT_MARK: &str = "\0export";

/// A signed link to `GET /export`: the whole account as a zip, good for `LINK_TTL_SECS`.
pub fn export_link(state: &AppState, user_id: Uuid) -> String {
    let link = Link {
        user_id,
        path: EXPORT_MARK.to_string(),
        expires: Utc::now().timestamp() + LINK_TTL_SECS,
        inline: false,
    };
    let signature = state.links.sign(&link);
    format!(
        "/export?u={}&exp={}&sig={signature}",
        link.user_id, link.expires
    )
}

/// Everything of an account: its files under `files/` (the trash left out) and
/// `account.json` (the profile, the rules and every operation).
pub async fn export(
    state: &AppState,
    user_id: Uuid,
) -> AppResult<(
    String,
    impl Stream<Item = std::io::Result<bytes::Bytes>> + use<>,
)> {
    use entity::{category_rules, operations, users};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let user = users::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    let rules = category_rules::Entity::find()
        .filter(category_rules::Column::UserId.eq(user_id))
        .all(&state.db)
        .await?;
    let operations = operations::Entity::find()
        .filter(operations::Column::UserId.eq(user_id))
        .order_by_asc(operations::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let account = serde_json::json!({
        "exportedAt": Utc::now(),
        "user": {
            "id": user.id,
            "email": user.email,
            "username": user.username,
            "fullName": user.full_name,
            "subscriptionTier": user.subscription_tier,
            "storageQuotaGb": user.storage_quota_gb,
            "storageUsedBytes": user.storage_used_bytes,
            "emailVerified": user.is_verified,
            "createdAt": user.created_at,
        },
        "categoryRules": rules.iter().map(|r| serde_json::json!({
            "id": r.id,
            "name": r.name,
            "category": r.category,
            "extensions": r.extensions,
            "nameGlob": r.name_glob,
            "minSizeBytes": r.min_size_bytes,
            "maxSizeBytes": r.max_size_bytes,
            "priority": r.priority,
            "createdAt": r.created_at,
        })).collect::<Vec<_>>(),
        "operations": operations.iter().map(|o| serde_json::json!({
            "id": o.id,
            "type": o.operation_type,
            "status": o.status,
            "rootPath": o.root_path,
            "dryRun": o.is_dry_run,
            "filesScanned": o.files_scanned,
            "filesProcessed": o.files_processed,
            "filesSkipped": o.files_skipped,
            "duplicatesFound": o.duplicates_found,
            "spaceSavedBytes": o.space_saved_bytes,
            "errorMessage": o.error_message,
            "createdAt": o.created_at,
            "startedAt": o.started_at,
            "completedAt": o.completed_at,
            "rollbackOf": o.rollback_of,
        })).collect::<Vec<_>>(),
    });
    let json = serde_json::to_vec_pretty(&account).map_err(|e| AppError::Internal(e.into()))?;
    let name = format!("organizer-export-{}.zip", user.username);
    tracing::info!(%user_id, operations = operations.len(), "account export started");
    Ok((
        name,
        zip_with(
            state.storage.space(user_id),
            String::new(),
            "files/",
            vec![("account.json".into(), json)],
        ),
    ))
}

/// The name a download is saved under.
pub fn file_name(path: &str, folder: bool) -> String {
    let name = match paths::name(path) {
        "" => "files",
        name => name,
    };
    if folder {
        format!("{name}.zip")
    } else {
        name.to_string()
    }
}

/// `Content-Disposition` for `name` (RFC 6266: an ASCII fallback and the UTF-8 name).
pub fn disposition(name: &str, inline: bool) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        utf8_percent_encode(name, SEGMENT)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_types_are_shown_inline_and_unsafe_ones_are_bytes() {
        assert_eq!(
            present("a/cat.png", true),
            Presentation {
                content_type: "image/png".into(),
                inline: true
            }
        );
        assert!(!present("a/cat.png", false).inline, "only when asked");
        for unsafe_name in [
            "x.svg", "x.html", "x.htm", "x.js", "x.xhtml", "x.xml", "noext",
        ] {
            assert_eq!(
                present(unsafe_name, true),
                Presentation {
                    content_type: "application/octet-stream".into(),
                    inline: false
                },
                "{unsafe_name}"
            );
        }
        assert_eq!(
            present("n.txt", true).content_type,
            "text/plain; charset=utf-8"
        );
        assert!(present("d.pdf", true).inline);
        assert!(present("v.mp4", true).inline);
    }

    #[test]
    fn names_are_quoted_safely() {
        assert_eq!(
            disposition("résumé \"final\".pdf", false),
            "attachment; filename=\"r_sum_ _final_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"
        );
        assert_eq!(href("a b/c#d.txt"), "/files/a%20b/c%23d.txt");
        assert_eq!(file_name("", true), "files.zip");
    }
}
