//! How fast a running operation goes: files per second through the current phase and
//! seconds left for the whole operation, measured once, by the engine running it, from
//! the progress it publishes — so every listener, the API and the web app show the same
//! figures (they used to be computed per listener and again in the browser).

use chrono::{DateTime, Utc};
use entity::{operations, states::Phase};

/// Measures from the first event of each phase; keeps `percent` from going down within
/// a run.
#[derive(Default)]
pub struct Pace {
    best_percent: Option<f64>,
    base: Option<Base>,
}

/// The first event seen in the current phase.
#[derive(Clone, Copy)]
struct Base {
    phase: Phase,
    at: DateTime<Utc>,
    done: i64,
    percent: Option<f64>,
}

impl Pace {
    /// Fills in the row's rate and time left (from its phase work and the time it is
    /// written), and holds its percent at the highest this run has reached.
    pub fn observe(&mut self, event: &mut operations::Model) {
        let percent = match (event.percent, self.best_percent) {
            (Some(now), Some(best)) => Some(now.max(best)),
            (now, best) => now.or(best),
        };
        self.best_percent = percent;
        event.percent = percent;
        let done = event.phase_done.unwrap_or(0);
        let base = match self.base {
            Some(base) if base.phase == event.phase && base.done <= done => base,
            _ => {
                let base = Base {
                    phase: event.phase,
                    at: event.updated_at,
                    done,
                    percent,
                };
                self.base = Some(base);
                base
            }
        };
        let seconds = (event.updated_at - base.at).num_milliseconds() as f64 / 1000.0;
        let measured = seconds >= 0.5 && !event.status.is_terminal();
        event.files_per_second =
            (measured && done > base.done).then(|| ((done - base.done) as f64 / seconds).round());
        // Time left from how fast the whole operation's percentage moves in this phase.
        event.seconds_left = match (percent, base.percent) {
            (Some(now), Some(then)) if measured && now > then => {
                Some(((100.0 - now) / ((now - then) / seconds)).ceil() as i64)
            }
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use entity::states::OperationType;

    use super::*;

    fn event(phase: Phase, done: i64, at: DateTime<Utc>) -> operations::Model {
        operations::Model {
            phase,
            files_total: Some(1000),
            files_scanned: 1000,
            files_processed: done,
            phase_done: Some(done),
            phase_total: Some(1000),
            updated_at: at,
            percent: Some(done as f64 / 10.0),
            ..crate::engine::progress::tests::op(OperationType::Organize, false)
        }
    }

    #[test]
    fn rate_and_time_left_come_from_what_the_engine_published_in_this_phase() {
        let mut pace = Pace::default();
        let start = Utc::now();
        let mut first = event(Phase::Moving, 100, start);
        pace.observe(&mut first);
        assert_eq!(first.files_per_second, None, "one event is no rate");
        let mut later = event(Phase::Moving, 300, start + Duration::seconds(2));
        pace.observe(&mut later);
        assert_eq!(later.files_per_second, Some(100.0));
        // 20 % in 2 s: 70 % to go.
        assert_eq!(later.seconds_left, Some(7));
        // A new phase measures afresh.
        let mut next = event(Phase::Finishing, 1000, start + Duration::seconds(3));
        pace.observe(&mut next);
        assert_eq!(next.files_per_second, None);
        // The percent never goes down within a run.
        let mut lower = event(Phase::Finishing, 200, start + Duration::seconds(4));
        pace.observe(&mut lower);
        assert_eq!(lower.percent, Some(100.0));
    }
}
