//! Builds the web app (`web/`, React + Vite) and embeds `web/dist` in the binary.
//!
//! `npm ci` runs when `node_modules` is missing or older than the lockfile, `npm run build`
//! when any source is newer than the last build. Without npm (or with
//! `ORGANIZER_SKIP_WEB=1`) the Rust build still succeeds: the binary then serves a page
//! saying how to build the app at `/`, and async-graphql's own GraphiQL at `/graphql`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::SystemTime,
};

/// What the web build reads. `web/src` is watched entry by entry (below) so that the
/// code the build itself generates there (`src/gql`, `src/generated`) does not make every
/// later cargo run rebuild.
const INPUTS: &[&str] = &[
    "web/public",
    "web/scripts",
    "web/index.html",
    "web/graphiql.html",
    "web/package.json",
    "web/package-lock.json",
    "web/vite.config.ts",
    "web/codegen.ts",
    "web/tsconfig.json",
    "web/csp.mjs",
    "schema.graphql",
];

fn main() {
    let sources: Vec<String> = fs::read_dir("web/src")
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|name| name != "gql" && name != "generated")
                .map(|name| format!("web/src/{name}"))
                .collect()
        })
        .unwrap_or_default();
    // Only paths that exist: cargo takes a missing one as changed on every run, which
    // made it rebuild this crate each time (`web/public` was listed but never existed).
    for input in INPUTS
        .iter()
        .copied()
        .chain(sources.iter().map(String::as_str))
        .filter(|input| Path::new(input).exists())
    {
        println!("cargo:rerun-if-changed={input}");
    }
    println!("cargo:rerun-if-env-changed=ORGANIZER_SKIP_WEB");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let web = root.join("web");
    let dist = web.join("dist");
    let skip = std::env::var("ORGANIZER_SKIP_WEB").is_ok_and(|v| v == "1");
    let built = if skip {
        println!("cargo:warning=ORGANIZER_SKIP_WEB=1: the web app is not built or embedded");
        false
    } else {
        match build_web(&root, &web, &dist) {
            Ok(()) => true,
            Err(why) => {
                println!(
                    "cargo:warning=the web app was not built ({why}); `/` will say how to build it"
                );
                false
            }
        }
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let files = if built { list(&dist) } else { Vec::new() };
    let mut code = String::from(
        "/// Files of `web/dist`, by path relative to it.\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for file in &files {
        let rel = file.strip_prefix(&dist).expect("listed under dist");
        let rel = rel.to_string_lossy().replace('\\', "/");
        code.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(out.join("web_assets.rs"), code).expect("write web_assets.rs");
}

fn build_web(root: &Path, web: &Path, dist: &Path) -> Result<(), String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().is_err() {
        // A build made elsewhere (the Dockerfile's web stage) is used as it is.
        if dist.join("index.html").exists() && dist.join("graphiql.html").exists() {
            println!("cargo:warning=npm is not installed: embedding the existing web/dist");
            return Ok(());
        }
        return Err("npm is not installed".into());
    }
    let lock = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    if newest(&[lock]) > modified(&installed) {
        run(Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(web))?;
    }
    let mut inputs: Vec<PathBuf> = INPUTS.iter().map(|i| root.join(i)).collect();
    inputs.push(root.join("web/src"));
    let stamp = dist.join("index.html");
    if newest(&inputs) > modified(&stamp) || !dist.join("graphiql.html").exists() {
        run(Command::new(npm).args(["run", "build"]).current_dir(web))?;
    }
    if !stamp.exists() {
        return Err("npm run build made no dist/index.html".into());
    }
    Ok(())
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("could not run npm: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let tail: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .rev()
        .take(15)
        .collect();
    for line in tail.iter().rev() {
        println!("cargo:warning=npm: {line}");
    }
    Err(format!("{command:?} failed"))
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of the paths and everything under them.
fn newest(paths: &[PathBuf]) -> Option<SystemTime> {
    let mut newest = None;
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(path) = stack.pop() {
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if let Ok(time) = meta.modified() {
            newest = newest.max(Some(time));
        }
    }
    newest
}

fn list(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            if let Ok(entries) = fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
