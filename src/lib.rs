//! Organizer: a GraphQL backend that sorts people's files into folders, cleans up
//! duplicates and undoes either. `main.rs` is a thin shell over this library so that the
//! tests boot exactly what production boots (`startup::Application`).

pub mod auth;
pub mod config;
pub mod db;
pub mod downloads;
pub mod engine;
pub mod error;
pub mod files;
pub mod gate;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod lifecycle;
pub mod mail;
pub mod metrics;
pub mod operations;
pub mod paging;
pub mod redis;
pub mod rules;
pub mod search;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
