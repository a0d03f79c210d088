//! SQLite: where a user's rows live among the ids. Each user has a tag; their rows take
//! ids in `tag << 32 ..`, live files in the lower half and trashed ones in the upper, so
//! the trigram table answers "this user's live files" by a range of ids alone (no row
//! read per hit), and a build can number the live rows in name order. Ids only grow
//! within a half (the next is the largest plus one, taken inside the writing statement,
//! under SQLite's one writer).

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::engine::TRASH_DIR;

const HALF: i64 = 1 << 31;

/// A half of a user's ids: `lo < id < hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub lo: i64,
    pub hi: i64,
}

impl Span {
    /// The SQL for the largest id taken in the span (or `lo`): the next ids follow it.
    pub fn last_taken(self) -> String {
        format!(
            "(SELECT COALESCE(MAX(id), {lo}) FROM search_entries WHERE id > {lo} AND id < {hi})",
            lo = self.lo,
            hi = self.hi
        )
    }
}

/// The user's ids for live files and for the trash.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub live: Span,
    pub trash: Span,
}

impl Owner {
    fn of(tag: i64) -> Self {
        let live = tag << 32;
        Self {
            live: Span {
                lo: live,
                hi: live + HALF,
            },
            trash: Span {
                lo: live + HALF,
                hi: live + 2 * HALF,
            },
        }
    }

    /// The half a file at `path` takes.
    pub fn span_of(&self, path: &str) -> Span {
        if in_trash(path) {
            self.trash
        } else {
            self.live
        }
    }
}

pub fn in_trash(path: &str) -> bool {
    path.strip_prefix(TRASH_DIR)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// The user's ids, if they were given a tag (none yet: no rows either).
pub async fn find_owner(db: &impl ConnectionTrait, user_id: Uuid) -> anyhow::Result<Option<Owner>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT tag FROM search_owners WHERE user_id = ?",
            [user_id.into()],
        ))
        .await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "tag"))
        .transpose()?
        .map(Owner::of))
}

/// The user's ids, giving them a tag on first use.
pub async fn owner(db: &impl ConnectionTrait, user_id: Uuid) -> anyhow::Result<Owner> {
    if let Some(owner) = find_owner(db, user_id).await? {
        return Ok(owner);
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO search_owners (user_id) VALUES (?) ON CONFLICT (user_id) DO NOTHING",
        [user_id.into()],
    ))
    .await?;
    find_owner(db, user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no search tag for the user"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_do_not_overlap_between_users() {
        let (a, b) = (Owner::of(1), Owner::of(2));
        assert!(a.live.hi <= a.trash.lo && a.trash.hi <= b.live.lo);
        assert_eq!(a.span_of(".trash/op/x.txt"), a.trash);
        assert_eq!(a.span_of(".trashy/x.txt"), a.live);
        assert_eq!(a.span_of("Docs/x.txt"), a.live);
    }
}
