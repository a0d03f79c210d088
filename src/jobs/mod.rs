//! Running operations in the background: the job queue, the progress bus and the workers.
//! Each interface has an in-process implementation for the embedded deployment; a shared
//! one (Redis) joins behind the same enums for scale-out.

pub mod bus;
pub mod queue;
pub mod worker;
