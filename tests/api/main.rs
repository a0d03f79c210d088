//! Integration tests: each test boots the real server (`startup::Application`) on a random
//! port with a fresh database — a SQLite file in a temporary folder, or a new PostgreSQL
//! database when `TEST_DATABASE_URL` is set — and talks HTTP to it.

mod helpers;
#[path = "../common/multipart.rs"]
mod multipart;
#[path = "../common/postgres.rs"]
mod postgres;

mod account_admin;
mod account_mail;
mod accounts;
mod api_keys;
mod cancel_resume;
mod cleanup;
mod compose;
mod downloads;
mod file_actions;
mod files;
mod full_disk;
mod http_surface;
mod input_bounds;
mod isolation;
mod limits;
mod metrics;
mod migrations;
mod operations_api;
mod organize;
mod plans;
mod races;
mod readme;
mod request_bounds;
mod rollback;
#[cfg(feature = "s3")]
mod s3;
mod schema;
mod search;
mod subscriptions;
mod trash;
mod upload_bounds;
