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
    storage::{FileMeta, UserSpace, paths},
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
                let mut entry = ZipEntryBuilder::new(inside.into(), Compression::Stored)
                    .unix_permissions(0o644);
                if let Some(modified) = file.modified {
                    entry = entry.last_modification_date((&modified).into());
                }
                let mut out = zip.write_entry_stream(entry).await?;
                let mut bytes = std::pin::pin!(space.read_range(&file.path, 0..file.size).await?);
                while let Some(chunk) = bytes.next().await {
                    out.write_all(&chunk?).await?;
                }
                out.close().await?;
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
