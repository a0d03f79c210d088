//! Uploads: the GraphQL multipart request, read by us rather than by async-graphql so that
//! everything an anonymous or hostile client sends is bounded before it costs anything.
//!
//! * the credential is checked from the headers *before* a byte of the body is read;
//! * uploads in flight are bounded per user and per process (`UploadGate`), so no one can
//!   hold many temporary files open;
//! * a request has at most `MAX_FILES` files, each at most the upload limit, and small
//!   `operations` / `map` fields; anything else is refused as soon as it is seen.

use std::collections::HashMap;

use async_graphql::{Request, UploadValue};
use axum::body::Body;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::http::{
    gate::Gate,
    request_error::{self, RequestError},
};

/// Files in one request.
pub const MAX_FILES: usize = 100;
/// Bytes of the `operations` and `map` fields.
const MAX_JSON_FIELD_BYTES: u64 = 256 * 1024;
/// Upload requests in flight in this process, and per user.
pub const MAX_UPLOADS: usize = 16;
pub const MAX_UPLOADS_PER_USER: usize = 4;

/// Uploads in flight, per user and in total; a slot is held while a request's body is
/// read and run.
pub type UploadGate = Gate<Uuid>;

pub fn upload_gate() -> UploadGate {
    Gate::new(MAX_UPLOADS_PER_USER, MAX_UPLOADS)
}

/// Reads a multipart GraphQL request: `operations`, `map`, then the files (spooled to
/// anonymous temporary files, deleted when dropped).
pub async fn read(body: Body, boundary: &str, max_bytes: usize) -> Result<Request, RequestError> {
    let max_bytes = max_bytes as u64;
    let limits = multer::SizeLimit::new()
        .whole_stream(max_bytes)
        .per_field(max_bytes)
        .for_field("operations", MAX_JSON_FIELD_BYTES)
        .for_field("map", MAX_JSON_FIELD_BYTES);
    let mut multipart = multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let mut request: Option<Request> = None;
    let mut map: Option<HashMap<String, Vec<String>>> = None;
    let mut files: Vec<(String, UploadValue)> = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("operations") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                let parsed: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|_| RequestError::Malformed("`operations` is not JSON".into()))?;
                request = Some(request_error::parse_request(parsed)?);
            }
            Some("map") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                map = Some(serde_json::from_slice(&bytes).map_err(|_| {
                    RequestError::Malformed(
                        "`map` must be a JSON object of arrays of variable paths".into(),
                    )
                })?);
            }
            Some(name) => {
                // Browsers and curl send `"` in a file name as `%22` (the HTML form
                // encoding); a name with a real quote is far more common than one with a
                // literal `%22`. Line breaks (`%0A`, `%0D`) stay encoded: control
                // characters are not allowed in names.
                let Some(filename) = field.file_name().map(|n| n.replace("%22", "\"")) else {
                    return Err(RequestError::Malformed(format!(
                        "unexpected field {:?}: only `operations`, `map` and files",
                        truncate(name)
                    )));
                };
                if files.len() >= MAX_FILES {
                    return Err(RequestError::TooManyFiles(MAX_FILES));
                }
                let name = name.to_string();
                let content_type = field.content_type().map(ToString::to_string);
                let temp = tokio::task::spawn_blocking(tempfile::tempfile)
                    .await
                    .map_err(|err| RequestError::Internal(err.into()))?
                    .map_err(|err| RequestError::Internal(err.into()))?;
                let mut file = tokio::fs::File::from_std(temp);
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    file.write_all(&chunk)
                        .await
                        .map_err(|err| RequestError::Internal(err.into()))?;
                }
                file.flush()
                    .await
                    .map_err(|err| RequestError::Internal(err.into()))?;
                let mut content = file.into_std().await;
                std::io::Seek::rewind(&mut content)
                    .map_err(|err| RequestError::Internal(err.into()))?;
                files.push((
                    name,
                    UploadValue {
                        filename,
                        content_type,
                        content,
                    },
                ));
            }
            None => return Err(RequestError::Malformed("a part without a name".into())),
        }
    }
    let mut request =
        request.ok_or_else(|| RequestError::Malformed("no `operations` field".into()))?;
    let mut map = map.ok_or_else(|| RequestError::Malformed("no `map` field".into()))?;
    for (name, upload) in files {
        let Some(paths) = map.remove(&name) else {
            continue; // a file nothing refers to is dropped (and its temporary file with it)
        };
        for path in paths {
            let copy = upload
                .try_clone()
                .map_err(|err| RequestError::Internal(err.into()))?;
            request.set_upload(&path, copy);
        }
    }
    if let Some(missing) = map.keys().next() {
        return Err(RequestError::Malformed(format!(
            "`map` names a file that was not sent: {:?}",
            truncate(missing)
        )));
    }
    Ok(request)
}

fn multipart_error(err: multer::Error) -> RequestError {
    match err {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            RequestError::TooLarge
        }
        // The body stopped arriving or broke off: nothing to tell the client beyond that.
        multer::Error::StreamReadFailed(_) => {
            RequestError::Malformed("the request body could not be read to its end".into())
        }
        _ => RequestError::Malformed("not a valid multipart body".into()),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}
