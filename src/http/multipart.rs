//! Uploads: the GraphQL multipart request, read by us rather than by async-graphql so that
//! everything an anonymous or hostile client sends is bounded before it costs anything.
//!
//! * the credential is checked from the headers *before* a byte of the body is read, and
//!   a declared body larger than what is left of the quota is refused then too;
//! * uploads in flight are bounded per user, per client address and per process
//!   (`Uploads`), and one that sends nothing for `idle` is cut off, so a few accounts
//!   holding stalled uploads cannot take every slot;
//! * a request stores at most `MAX_FILES` files *however they are mapped*: the `map` may
//!   list one part under several paths, and each path is a file stored (and a descriptor
//!   held), so paths are what is counted;
//! * spooled files hold descriptors from a process-wide budget (a share of the open-file
//!   limit), so no mix of requests can run the process out of them;
//! * the bytes spooled are reserved against the quota as they arrive (`Reservation`,
//!   given back on every way out, including a timeout or a client that disconnects).

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{Request, UploadValue};
use axum::body::Body;
use futures::StreamExt;
use tokio::{
    io::AsyncWriteExt,
    sync::{OwnedSemaphorePermit, Semaphore},
};
use uuid::Uuid;

use crate::{
    files::Reservation,
    gate::{Gate, Slot},
    http::request_error::{self, RequestError},
};

/// Files stored by one request (paths in the `map`, not parts).
pub const MAX_FILES: usize = 100;
/// Bytes of the `operations` and `map` fields.
const MAX_JSON_FIELD_BYTES: u64 = 256 * 1024;
/// Upload requests in flight in this process, per user and per client address.
pub const MAX_UPLOADS: usize = 64;
pub const MAX_UPLOADS_PER_USER: usize = 4;
pub const MAX_UPLOADS_PER_ADDRESS: usize = 8;
/// Files up to this size are held in memory, not spooled to disk, up to this much per
/// request (at most `MAX_UPLOADS` requests at once: 512 MiB in the worst case).
const IN_MEMORY_MAX: usize = 1 << 20;
const IN_MEMORY_PER_REQUEST: usize = 8 << 20;
/// Quota is reserved ahead of the bytes by at most this much (fewer database writes).
const RESERVE_AHEAD: i64 = 16 * 1024 * 1024;

/// What uploads in flight hold, shared by every request of the process.
#[derive(Clone)]
pub struct Uploads {
    by_user: Gate<Uuid>,
    by_address: Gate<String>,
    /// Descriptors spooled files may hold, two per stored file (the spooled file and the
    /// copy the resolver reads).
    descriptors: Arc<Semaphore>,
    /// An upload that sends nothing for this long is cut off.
    pub idle: Duration,
    /// Where files are spooled (`Storage::spool_dir`); `None`: the system's temporary
    /// folder.
    spool_dir: Option<std::path::PathBuf>,
}

/// An upload's places: held until its request has run.
pub struct Admitted {
    _user: Slot<Uuid>,
    _address: Slot<String>,
}

impl Uploads {
    pub fn new(idle: Duration, spool_dir: Option<std::path::PathBuf>) -> Self {
        Self {
            by_user: Gate::new(MAX_UPLOADS_PER_USER, MAX_UPLOADS),
            by_address: Gate::new(MAX_UPLOADS_PER_ADDRESS, MAX_UPLOADS),
            descriptors: Arc::new(Semaphore::new(descriptor_budget())),
            idle,
            spool_dir,
        }
    }

    /// Places for one more upload of this user from this address, or `None` when either
    /// (or the process) already has all it may.
    pub fn admit(&self, user: Uuid, address: String) -> Option<Admitted> {
        let user = self.by_user.try_enter(user)?;
        let address = self.by_address.try_enter(address)?;
        Some(Admitted {
            _user: user,
            _address: address,
        })
    }
}

/// A quarter of the open-file limit (the rest is for connections, the database and
/// storage), within 64..=8192.
fn descriptor_budget() -> usize {
    #[cfg(unix)]
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    #[cfg(not(unix))]
    let limit = 4096u64;
    (limit / 4).clamp(64, 8192) as usize
}

/// A read request and what it holds until it has run.
pub struct Spooled {
    pub request: Request,
    pub descriptors: Descriptors,
}

/// Descriptor permits of a request's spooled files, dropped with the request.
pub struct Descriptors {
    _held: Vec<OwnedSemaphorePermit>,
}

/// The body went quiet for longer than the idle bound.
#[derive(Debug, thiserror::Error)]
#[error("no bytes received for too long")]
struct Stalled;

/// Reads a multipart GraphQL request: `operations`, `map`, then the files (spooled to
/// anonymous temporary files, deleted when dropped), reserving their bytes in
/// `reservation` as they arrive.
pub async fn read(
    body: Body,
    boundary: &str,
    max_bytes: usize,
    uploads: &Uploads,
    reservation: &mut Reservation,
) -> Result<Spooled, RequestError> {
    let max_bytes = max_bytes as u64;
    let limits = multer::SizeLimit::new()
        .whole_stream(max_bytes)
        .per_field(max_bytes)
        .for_field("operations", MAX_JSON_FIELD_BYTES)
        .for_field("map", MAX_JSON_FIELD_BYTES);
    let idle = uploads.idle;
    let stream =
        tokio_stream::StreamExt::timeout(body.into_data_stream(), idle).map(|item| match item {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(err)) => Err(Box::new(err) as Box<dyn std::error::Error + Send + Sync>),
            Err(_) => Err(Box::new(Stalled) as Box<dyn std::error::Error + Send + Sync>),
        });
    let mut multipart = multer::Multipart::with_constraints(
        stream,
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let mut request: Option<Request> = None;
    let mut map: Option<HashMap<String, Vec<String>>> = None;
    let mut files: Vec<(Vec<String>, UploadValue)> = Vec::new();
    let mut descriptors = Vec::new();
    let mut spooled_bytes: i64 = 0;
    let mut held_in_request = 0usize;
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
                let parsed: HashMap<String, Vec<String>> =
                    serde_json::from_slice(&bytes).map_err(|_| {
                        RequestError::Malformed(
                            "`map` must be a JSON object of arrays of variable paths".into(),
                        )
                    })?;
                if parsed.values().map(Vec::len).sum::<usize>() > MAX_FILES {
                    return Err(RequestError::TooManyFiles(MAX_FILES));
                }
                map = Some(parsed);
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
                let Some(map) = map.as_mut() else {
                    return Err(RequestError::Malformed(
                        "`map` must come before the files".into(),
                    ));
                };
                let paths = map.remove(name).unwrap_or_default();
                if paths.is_empty() {
                    // A file nothing refers to is read past, never stored.
                    while field.chunk().await.map_err(multipart_error)?.is_some() {}
                    continue;
                }
                let content_type = field.content_type().map(ToString::to_string);
                let permits = u32::try_from(paths.len() * 2).unwrap_or(u32::MAX);
                descriptors.push(
                    uploads
                        .descriptors
                        .clone()
                        .acquire_many_owned(permits)
                        .await
                        .map_err(RequestError::internal)?,
                );
                // Small files are held in memory and handed on as an in-memory file (one
                // write, to their place); larger ones are spooled on the storage's disk and
                // linked into place there (`Storage::spool_dir`): written once either way.
                let mut held: Vec<u8> = Vec::new();
                let mut spooled: Option<tokio::fs::File> = None;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    // Every mapped path stores these bytes once more.
                    spooled_bytes += chunk.len() as i64 * paths.len() as i64;
                    reserve_for(reservation, spooled_bytes).await?;
                    if spooled.is_none()
                        && held.len() + chunk.len() <= IN_MEMORY_MAX
                        && held_in_request + held.len() + chunk.len() <= IN_MEMORY_PER_REQUEST
                    {
                        held.extend_from_slice(&chunk);
                        continue;
                    }
                    let file = match &mut spooled {
                        Some(file) => file,
                        None => {
                            let mut file = spool(uploads.spool_dir.clone()).await?;
                            file.write_all(&std::mem::take(&mut held))
                                .await
                                .map_err(RequestError::internal)?;
                            spooled.insert(file)
                        }
                    };
                    file.write_all(&chunk)
                        .await
                        .map_err(RequestError::internal)?;
                }
                let content = match spooled {
                    Some(mut file) => {
                        file.flush().await.map_err(RequestError::internal)?;
                        let mut content = file.into_std().await;
                        std::io::Seek::rewind(&mut content).map_err(RequestError::internal)?;
                        content
                    }
                    None => {
                        held_in_request += held.len();
                        in_memory(&held).map_err(RequestError::internal)?
                    }
                };
                files.push((
                    paths,
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
    let map = map.ok_or_else(|| RequestError::Malformed("no `map` field".into()))?;
    if let Some(missing) = map.keys().next() {
        return Err(RequestError::Malformed(format!(
            "`map` names a file that was not sent: {:?}",
            truncate(missing)
        )));
    }
    for (mut paths, upload) in files {
        // Every path but the last gets its own descriptor of the spooled file (they share
        // its offset: the reader rewinds before each copy); the last takes the original.
        let last = paths.pop().expect("only mapped files are spooled");
        for path in paths {
            let copy = upload.try_clone().map_err(RequestError::internal)?;
            request.set_upload(&path, copy);
        }
        request.set_upload(&last, upload);
    }
    Ok(Spooled {
        request,
        descriptors: Descriptors { _held: descriptors },
    })
}

/// A spooled file: unnamed, in `dir` when given (else the system's temporary folder),
/// gone when closed.
async fn spool(dir: Option<std::path::PathBuf>) -> Result<tokio::fs::File, RequestError> {
    let file = tokio::task::spawn_blocking(move || match dir {
        Some(dir) => tempfile::tempfile_in(dir),
        None => tempfile::tempfile(),
    })
    .await
    .map_err(RequestError::internal)?
    .map_err(RequestError::internal)?;
    Ok(tokio::fs::File::from_std(file))
}

/// A small upload as a file that lives in memory (`memfd` on Linux; elsewhere an
/// unnamed temporary file), read from the start.
fn in_memory(bytes: &[u8]) -> std::io::Result<std::fs::File> {
    use std::io::{Seek, Write};
    #[cfg(target_os = "linux")]
    let mut file = std::fs::File::from(rustix::fs::memfd_create(
        "upload",
        rustix::fs::MemfdFlags::CLOEXEC,
    )?);
    #[cfg(not(target_os = "linux"))]
    let mut file = tempfile::tempfile()?;
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file)
}

/// Holds at least `spooled` bytes in the reservation, reserving ahead where the quota
/// allows so a large file costs a few database writes, not one per chunk.
async fn reserve_for(reservation: &mut Reservation, spooled: i64) -> Result<(), RequestError> {
    if spooled <= reservation.bytes() {
        return Ok(());
    }
    let ahead = spooled + spooled.min(RESERVE_AHEAD);
    if reservation.grow_to(ahead).await.is_ok() {
        return Ok(());
    }
    reservation.grow_to(spooled).await?;
    Ok(())
}

fn multipart_error(err: multer::Error) -> RequestError {
    match err {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            RequestError::TooLarge
        }
        multer::Error::StreamReadFailed(cause) if cause.is::<Stalled>() => RequestError::Stalled,
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
