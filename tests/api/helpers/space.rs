//! `Space`: the arrange step the engine tests share — a freshly booted app, one signed-up
//! user and that user's storage folder — and the calls that run operations in it.

use std::{collections::BTreeMap, path::PathBuf};

use organizer::config::Config;
use serde_json::Value;

use super::{Account, TestApp, snapshot, spawn_app_with, user_dir, write_tree};

/// A fresh app with "ada" signed up; `root` is her storage folder on disk.
pub struct Space {
    pub app: TestApp,
    pub user: Account,
    pub root: PathBuf,
}

/// An operation, named by its id or by the JSON the API returned for it.
pub trait OperationId {
    fn operation_id(&self) -> &str;
}

impl OperationId for str {
    fn operation_id(&self) -> &str {
        self
    }
}

impl OperationId for String {
    fn operation_id(&self) -> &str {
        self
    }
}

impl OperationId for Value {
    fn operation_id(&self) -> &str {
        self["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not an operation: {self}"))
    }
}

impl Space {
    /// The test defaults.
    pub async fn new() -> Space {
        Space::with(|_| {}).await
    }

    /// The test defaults, changed by `customize` (e.g. `|c| c.workers = 0`).
    pub async fn with(customize: impl FnOnce(&mut Config)) -> Space {
        let app = spawn_app_with(customize).await;
        let user = app.signup("ada").await;
        let root = user_dir(&app, &user);
        Space { app, user, root }
    }

    /// Stops the server and boots a new one on the same database and folders, with the
    /// configuration changed by `customize`; the user and her tokens stay valid.
    pub async fn restart(self, customize: impl FnOnce(&mut Config)) -> Space {
        let Space {
            mut app,
            user,
            root,
        } = self;
        customize(&mut app.config);
        let app = app.restart().await;
        Space { app, user, root }
    }

    pub fn token(&self) -> &str {
        &self.user.access_token
    }

    // ---- The files on disk ----

    /// Writes files (creating folders) under the user's storage folder.
    pub fn write(&self, files: &[(&str, &[u8])]) {
        write_tree(&self.root, files);
    }

    /// Where `path` (relative to the storage folder) is on disk.
    pub fn path(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    pub fn exists(&self, path: &str) -> bool {
        self.path(path).exists()
    }

    /// The bytes of the file at `path`.
    pub fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.path(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
    }

    /// Every file of the storage folder: relative path → SHA-256 of its content.
    pub fn tree(&self) -> BTreeMap<String, String> {
        snapshot(&self.root)
    }

    // ---- The API, as the user ----

    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.app.gql(Some(self.token()), query, variables).await
    }

    /// `startOperation`; the whole response, refusals included.
    pub async fn try_start(&self, kind: &str, root: &str, options: Value) -> Value {
        self.app
            .start_operation(self.token(), kind, root, false, options)
            .await
    }

    /// Starts an operation (not a dry run) without waiting; the operation as started.
    pub async fn start(&self, kind: &str, root: &str, options: Value) -> Value {
        let body = self.try_start(kind, root, options).await;
        returned(body, "startOperation")
    }

    /// Runs an operation to its end (COMPLETED, FAILED or CANCELLED); the final operation.
    pub async fn run(&self, kind: &str, root: &str, options: Value) -> Value {
        self.app
            .run_operation(self.token(), kind, root, false, options)
            .await
    }

    /// Runs a dry run (a plan) to its end; the final operation.
    pub async fn dry_run(&self, kind: &str, root: &str, options: Value) -> Value {
        self.app
            .run_operation(self.token(), kind, root, true, options)
            .await
    }

    /// The operation as the API shows it now (null when the user cannot see it).
    pub async fn operation(&self, op: &(impl OperationId + ?Sized)) -> Value {
        self.app.operation(self.token(), op.operation_id()).await
    }

    /// Waits until the operation ends; the final operation.
    pub async fn wait(&self, op: &(impl OperationId + ?Sized)) -> Value {
        self.app
            .wait_operation(self.token(), op.operation_id())
            .await
    }

    /// Every file record of the operation, in order.
    pub async fn records(&self, op: &(impl OperationId + ?Sized)) -> Vec<Value> {
        self.app.records(self.token(), op.operation_id()).await
    }

    /// The original paths of the files a cleanup keeps.
    pub async fn kept_paths(&self, cleanup: &Value) -> Vec<String> {
        self.app.kept_paths(self.token(), cleanup).await
    }

    /// A mutation taking an operation id (`field(arg: id)`); the whole response, refusals
    /// included.
    pub async fn mutation(
        &self,
        field: &str,
        arg: &str,
        op: &(impl OperationId + ?Sized),
    ) -> Value {
        self.app
            .op_mutation(self.token(), field, arg, op.operation_id())
            .await
    }

    /// `rollbackOperation`; the ROLLBACK operation as started.
    pub async fn rollback(&self, op: &(impl OperationId + ?Sized)) -> Value {
        let body = self.mutation("rollbackOperation", "id", op).await;
        returned(body, "rollbackOperation")
    }

    /// Rolls the operation back and waits for the rollback to end; the final rollback.
    pub async fn rollback_and_wait(&self, op: &(impl OperationId + ?Sized)) -> Value {
        let rollback = self.rollback(op).await;
        self.wait(&rollback).await
    }

    /// `applyPlan`; the operation that carries the plan out, as started.
    pub async fn apply_plan(&self, plan: &(impl OperationId + ?Sized)) -> Value {
        let body = self.mutation("applyPlan", "id", plan).await;
        returned(body, "applyPlan")
    }

    /// `cancelOperation`; the operation as the cancel left it.
    pub async fn cancel(&self, op: &(impl OperationId + ?Sized)) -> Value {
        let body = self.mutation("cancelOperation", "id", op).await;
        returned(body, "cancelOperation")
    }

    /// `purgeTrash`; the cleanup whose trash is gone.
    pub async fn purge_trash(&self, cleanup: &(impl OperationId + ?Sized)) -> Value {
        let body = self.mutation("purgeTrash", "operationId", cleanup).await;
        returned(body, "purgeTrash")
    }
}

/// `data.<field>` of a mutation's response; panics with the response when it was refused.
fn returned(body: Value, field: &str) -> Value {
    let op = body["data"][field].clone();
    assert!(op["id"].is_string(), "{field} refused: {body}");
    op
}
