//! How work and progress travel between processes: the job queue (operation ids for the
//! workers) and the progress bus (events for the subscribers). Each has an in-process
//! implementation for the embedded deployment; a shared one (Redis) joins behind the same
//! enums for scale-out. This layer knows nothing of the engine that runs the jobs.

pub mod bus;
pub mod hub;
pub mod queue;
