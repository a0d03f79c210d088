//! A new, empty PostgreSQL database per test (or per cluster), on the server that
//! `TEST_DATABASE_URL` names: `#[path = "../common/postgres.rs"] mod postgres;`.

use sea_orm::{ConnectionTrait, Database};

/// Creates `<prefix>_<unique>` on the server of `base` and returns its URL (with
/// `base`'s query string, if any).
pub async fn fresh_database(base: &str, prefix: &str) -> Result<String, String> {
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(base)
        .await
        .map_err(|e| format!("connect to TEST_DATABASE_URL: {e}"))?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .map_err(|e| format!("create test database: {e}"))?;
    admin.close().await.ok();
    let (without_query, query) = match base.split_once('?') {
        Some((url, query)) => (url, format!("?{query}")),
        None => (base, String::new()),
    };
    let server = without_query
        .rsplit_once('/')
        .map_or(without_query, |(server, _)| server);
    Ok(format!("{server}/{name}{query}"))
}
