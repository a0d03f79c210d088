//! Bytes in and out: uploads of many small files and of one large file, and the download
//! of that large file, each against what the same disk does without the server, in the
//! same invocation: a one-thread loop writing the same small files, `dd` writing the
//! large one, and nginx serving it (`sendfile`) on loopback; `sync` before each timed
//! step, so no step pays for writing back another's bytes. Every answer is checked: the
//! stored files hash as the sources, the downloaded bytes as the file.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    client::{Api, Session},
    report::{Check, Transfer, TransferRow},
    server::Deployment,
};

const SMALL_FILES: usize = 10_000;
const SMALL_PER_REQUEST: usize = 100;
const SMALL_MEAN: usize = 18 * 1024;
const LARGE_BYTES: u64 = 1 << 30;
/// Downloads timed per side; the median is reported.
const DOWNLOADS: usize = 3;

const UPLOAD: &str = "mutation($path: String!, $files: [Upload!]!) { uploadFiles(path: $path, files: $files) { path sizeBytes } }";

pub async fn run(
    deployment: &Deployment,
    api: &Api,
    session: &Session,
    work: &Path,
    checks: &mut Vec<Check>,
) -> Result<Transfer> {
    let scratch = work.join(format!("transfer-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&scratch)?;
    let _cleanup = Cleanup(scratch.clone());
    let space = deployment.user_dir(&session.user_id);
    let mut rows = Vec::new();

    // Many small files, 100 to a request, one request at a time.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    let small: Vec<(String, Vec<u8>)> = (0..SMALL_FILES)
        .map(|i| {
            let len = rng.random_range(SMALL_MEAN / 2..SMALL_MEAN * 3 / 2);
            let mut bytes = vec![0u8; len];
            rng.fill_bytes(&mut bytes);
            (format!("file {i:05}.bin"), bytes)
        })
        .collect();
    let small_bytes: u64 = small.iter().map(|(_, b)| b.len() as u64).sum();
    let loop_dir = scratch.join("loop");
    std::fs::create_dir_all(&loop_dir)?;
    settle();
    let started = Instant::now();
    for (name, bytes) in &small {
        std::fs::write(loop_dir.join(name), bytes)?;
    }
    let baseline = started.elapsed().as_secs_f64();
    settle();
    let started = Instant::now();
    for chunk in small.chunks(SMALL_PER_REQUEST) {
        let body = upload(api, session, "transfer/small", chunk).await?;
        if body["data"]["uploadFiles"].as_array().map(Vec::len) != Some(chunk.len()) {
            bail!("an upload of small files failed: {body}");
        }
    }
    let ours = started.elapsed().as_secs_f64();
    settle();
    let stored_ok = small.iter().all(|(name, bytes)| {
        std::fs::read(space.join("transfer/small").join(name))
            .ok()
            .as_deref()
            == Some(bytes)
    });
    checks.push(Check::new(
        "upload of 10,000 small files: each stored file is its source, byte for byte",
        stored_ok,
        format!("{} files", small.len()),
    ));
    rows.push(TransferRow::new(
        "upload, 10,000 files of ~18 KiB, 100 a request",
        small_bytes,
        ours,
        "a one-thread loop writing the same files",
        baseline,
    ));
    drop(small);

    // One large file.
    let source = scratch.join("large.bin");
    let source_hash = write_large(&source)?;
    let dd_out = scratch.join("dd.bin");
    settle();
    let started = Instant::now();
    let dd = Command::new("dd")
        .arg(format!("if={}", source.display()))
        .arg(format!("of={}", dd_out.display()))
        .args(["bs=1M", "status=none"])
        .status()
        .context("dd")?;
    let baseline = started.elapsed().as_secs_f64();
    if !dd.success() {
        bail!("dd failed");
    }
    std::fs::remove_file(&dd_out)?;
    settle();
    let started = Instant::now();
    let body = upload_file(api, session, "transfer/large", &source).await?;
    let ours = started.elapsed().as_secs_f64();
    if body["data"]["uploadFiles"][0]["sizeBytes"].as_u64() != Some(LARGE_BYTES) {
        bail!("the large upload failed: {body}");
    }
    let stored = space.join("transfer/large/large.bin");
    let stored_hash = hash_file(&stored)?;
    checks.push(Check::new(
        "upload of 1 GiB: the stored file hashes as its source",
        stored_hash == source_hash,
        format!("sha256 {}", &stored_hash[..16]),
    ));
    rows.push(TransferRow::new(
        "upload, one 1 GiB file",
        LARGE_BYTES,
        ours,
        "dd bs=1M to the same disk",
        baseline,
    ));

    // Its download, against nginx serving the same file.
    let url = api.url("/files/transfer/large/large.bin");
    let mut ours_times = Vec::new();
    for _ in 0..DOWNLOADS {
        let started = Instant::now();
        let got = fetch(&url, Some(&session.token)).await?;
        ours_times.push(started.elapsed().as_secs_f64());
        if got != LARGE_BYTES {
            bail!("the download stopped at {got} bytes");
        }
    }
    let downloaded_hash = fetch_hash(&url, &session.token).await?;
    checks.push(Check::new(
        "download of 1 GiB: the bytes hash as the file",
        downloaded_hash == source_hash,
        format!("sha256 {}", &downloaded_hash[..16]),
    ));
    match Nginx::start(&scratch, &space) {
        Ok(nginx) => {
            let url = format!("http://127.0.0.1:{}/transfer/large/large.bin", nginx.port);
            let mut times = Vec::new();
            for _ in 0..DOWNLOADS {
                let started = Instant::now();
                let got = fetch(&url, None).await?;
                times.push(started.elapsed().as_secs_f64());
                if got != LARGE_BYTES {
                    bail!("nginx served {got} bytes");
                }
            }
            rows.push(TransferRow::new(
                "download, one 1 GiB file (GET /files/…)",
                LARGE_BYTES,
                median(&mut ours_times),
                "nginx on loopback (sendfile)",
                median(&mut times),
            ));
        }
        Err(err) => {
            checks.push(Check::new(
                "download baseline (nginx)",
                false,
                format!("{err:#}"),
            ));
        }
    }
    let _ = std::fs::remove_dir_all(space.join("transfer"));
    Ok(Transfer { rows })
}

async fn upload(
    api: &Api,
    session: &Session,
    folder: &str,
    files: &[(String, Vec<u8>)],
) -> Result<Value> {
    let mut form = form(folder, files.len());
    for (i, (name, bytes)) in files.iter().enumerate() {
        form = form.part(
            i.to_string(),
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone()),
        );
    }
    send(api, session, form).await
}

async fn upload_file(api: &Api, session: &Session, folder: &str, path: &Path) -> Result<Value> {
    let file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    let body =
        reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
    let part = reqwest::multipart::Part::stream_with_length(body, len).file_name("large.bin");
    send(api, session, form(folder, 1).part("0", part)).await
}

fn form(folder: &str, files: usize) -> reqwest::multipart::Form {
    let operations = json!({
        "query": UPLOAD,
        "variables": { "path": folder, "files": vec![Value::Null; files] },
    });
    let map: serde_json::Map<String, Value> = (0..files)
        .map(|i| (i.to_string(), json!([format!("variables.files.{i}")])))
        .collect();
    reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", Value::Object(map).to_string())
}

async fn send(api: &Api, session: &Session, form: reqwest::multipart::Form) -> Result<Value> {
    let response = reqwest::Client::new()
        .post(api.url("/graphql"))
        .bearer_auth(&session.token)
        .multipart(form)
        .timeout(Duration::from_secs(600))
        .send()
        .await?;
    Ok(response.json().await?)
}

/// Reads a whole response, counting its bytes (not hashing: that would time the client).
async fn fetch(url: &str, token: Option<&str>) -> Result<u64> {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let mut response = request.send().await?.error_for_status()?;
    let mut got = 0u64;
    while let Some(chunk) = response.chunk().await? {
        got += chunk.len() as u64;
    }
    Ok(got)
}

async fn fetch_hash(url: &str, token: &str) -> Result<String> {
    let mut response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = response.chunk().await? {
        hasher.update(&chunk);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// 1 GiB of seeded random bytes; its SHA-256.
fn write_large(path: &Path) -> Result<String> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1 << 30);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..(LARGE_BYTES >> 20) {
        rng.fill_bytes(&mut block);
        hasher.update(&block);
        out.write_all(&block)?;
    }
    out.flush()?;
    Ok(hex::encode(hasher.finalize()))
}

fn hash_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&block[..n]);
    }
}

/// Writes back what earlier steps left dirty, so that no step pays for another's writes.
fn settle() {
    let _ = Command::new("sync").status();
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// nginx serving `root` on a free loopback port, stopped when dropped.
struct Nginx {
    child: std::process::Child,
    port: u16,
}

impl Nginx {
    fn start(scratch: &Path, root: &Path) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let prefix = scratch.join("nginx");
        std::fs::create_dir_all(prefix.join("logs"))?;
        let conf = prefix.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off;\nmaster_process off;\nuser root;\nworker_processes 1;\n\
                 error_log {prefix}/logs/error.log;\npid {prefix}/nginx.pid;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{ sendfile on; tcp_nopush on; access_log off;\n\
                 client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n\
                 fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;\n\
                 server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n",
                prefix = prefix.display(),
                root = root.display(),
            ),
        )?;
        let binary = ["/usr/sbin/nginx", "nginx"]
            .into_iter()
            .find(|b| Command::new(b).arg("-v").output().is_ok())
            .context("nginx is not installed (apt-get install nginx)")?;
        let child = Command::new(binary)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf)
            .spawn()
            .context("start nginx")?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { child, port });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("nginx did not listen on {port}")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
