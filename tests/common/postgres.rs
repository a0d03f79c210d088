//! A new, empty PostgreSQL database per test (or per cluster), on the server that
//! `TEST_DATABASE_URL` names: `#[path = "../common/postgres.rs"] mod postgres;`.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

/// Databases of earlier runs older than this are dropped when a new one is made: tests
/// do not drop their own (a failing one is worth a look), so they would pile up.
const KEEP_FOR_SECS: u64 = 2 * 60 * 60;

/// Creates `<prefix>_<unique>` on the server of `base` and returns its URL (with
/// `base`'s query string, if any).
pub async fn fresh_database(base: &str, prefix: &str) -> Result<String, String> {
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(base)
        .await
        .map_err(|e| format!("connect to TEST_DATABASE_URL: {e}"))?;
    drop_stale(&admin, prefix).await;
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

/// Drops `<prefix>_<v7 uuid>` databases made more than `KEEP_FOR_SECS` ago. One still
/// in use is left alone (PostgreSQL refuses to drop it), so concurrent runs are safe.
async fn drop_stale(admin: &DatabaseConnection, prefix: &str) {
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database",
        ))
        .await
    else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let made = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('_'))
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .and_then(|id| id.get_timestamp())
            .map(|t| t.to_unix().0);
        if made.is_some_and(|made| made + KEEP_FOR_SECS < now) {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                .await
                .ok();
        }
    }
}
