//! SQLite: a search reads the trigram table within the user's live ids. The count comes
//! from the trigram table alone; a first page by name reads the first hits in id order
//! (a build numbered the live files in name order) and the few rows added or renamed
//! since, instead of sorting every hit. Other searches join and sort every hit.

use chrono::{DateTime, Utc};
use entity::search_indexes;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Statement, Value};
use uuid::Uuid;

use super::{Bounds, Query, Sort, Sql, Window, filters, ids, order};
use crate::storage::FileMeta;

/// Hits read per step while following a run of equal names past a page's end.
const TIE_STEP: i64 = 256;

#[derive(FromQueryResult)]
struct Hit {
    id: i64,
    path: String,
    sort_key: String,
    size_bytes: i64,
    modified_at: Option<DateTime<Utc>>,
}

impl Hit {
    fn file(self) -> FileMeta {
        FileMeta {
            path: self.path,
            is_dir: false,
            size: self.size_bytes.max(0) as u64,
            modified: self.modified_at,
        }
    }
}

pub async fn find(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    query: &Query<'_>,
    window: Window,
) -> anyhow::Result<(Vec<FileMeta>, u64)> {
    // Names hold no control characters; the trigram table ends each with two.
    if query.words.chars().any(char::is_control) {
        return Ok((Vec::new(), 0));
    }
    let Some(owner) = ids::find_owner(db, user_id).await? else {
        return Ok((Vec::new(), 0));
    };
    let Some(words) = match_expression(db, query.words).await? else {
        return Ok((Vec::new(), 0));
    };
    let live = owner.live;
    match window {
        Window::Page { offset, limit }
            if query.folder.is_empty()
                && query.bounds == Bounds::default()
                && query.sort == Sort::Name =>
        {
            let total = match one_letter(query.words) {
                Some(bit) => count_letter(db, user_id, bit, live).await?,
                None => count(db, &words, live).await?,
            };
            if offset >= total {
                return Ok((Vec::new(), total));
            }
            let page = first_by_name(db, user_id, &words, live, offset + limit).await?;
            let files = page
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(Hit::file)
                .collect();
            Ok((files, total))
        }
        _ => joined(db, &words, live, query, window).await,
    }
}

/// The trigram query for the words: the phrase itself, or for one or two letters every
/// trigram that starts with them (each name is indexed with two `\x01` after it, so
/// every place a short word occurs starts a trigram). None when nothing can match.
async fn match_expression(
    db: &impl ConnectionTrait,
    words: &str,
) -> anyhow::Result<Option<String>> {
    if words.chars().count() >= 3 {
        return Ok(Some(phrase(words)));
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT term FROM search_terms WHERE term >= ? AND term < ?",
            [words.into(), format!("{words}\u{10FFFF}").into()],
        ))
        .await?;
    let terms = rows
        .iter()
        .map(|row| row.try_get::<String>("", "term"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((!terms.is_empty()).then(|| {
        terms
            .iter()
            .map(|t| phrase(t))
            .collect::<Vec<_>>()
            .join(" OR ")
    }))
}

fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

async fn count(db: &impl ConnectionTrait, words: &str, live: ids::Span) -> anyhow::Result<u64> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT COUNT(*) AS n FROM search_names WHERE search_names MATCH ? \
             AND rowid > ? AND rowid < ?",
            [words.into(), live.lo.into(), live.hi.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0) as u64)
}

/// The bit of a search for one ASCII letter or digit.
fn one_letter(words: &str) -> Option<i64> {
    match words.as_bytes() {
        [b] => super::sort_key::letter_bit(*b),
        _ => None,
    }
}

/// How many live files hold a letter: from the `(user_id, letters)` index, without the
/// trigrams (their postings for a common letter run to millions).
async fn count_letter(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    bit: i64,
    live: ids::Span,
) -> anyhow::Result<u64> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT COUNT(*) AS n FROM search_entries INDEXED BY idx_search_entries_user_id_letters \
             WHERE user_id = ? AND (letters & ?) != 0 AND id > ? AND id < ?",
            [user_id.into(), bit.into(), live.lo.into(), live.hi.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0) as u64)
}

/// The first `need` hits by name (sort key, then path). Every one of them is among: the
/// first `need` hits of the ordered ids (whose last has key `T`), the hits right after
/// those with key `T` too (equal keys have neighbouring ids), and the hits outside the
/// ordered ids with a key up to `T`.
async fn first_by_name(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    words: &str,
    live: ids::Span,
    need: u64,
) -> anyhow::Result<Vec<Hit>> {
    let (from, until) = search_indexes::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|i| (i.ordered_from, i.ordered_until))
        .filter(|(from, until)| *from > live.lo && from <= until && *until < live.hi)
        .unwrap_or((0, 0));
    let mut hits = Vec::new();
    let mut bound = None;
    if from > 0 {
        hits = hits_in(db, words, (from - 1, until + 1), None, Some(need as i64)).await?;
        if hits.len() as u64 == need {
            let last = hits.last().expect("need > 0");
            let (key, mut after) = (last.sort_key.clone(), last.id);
            loop {
                let next = hits_in(db, words, (after, until + 1), None, Some(TIE_STEP)).await?;
                let full = next.len() as i64 == TIE_STEP;
                let mut ended = !full;
                for hit in next {
                    if hit.sort_key != key {
                        ended = true;
                        break;
                    }
                    after = hit.id;
                    hits.push(hit);
                }
                if ended {
                    break;
                }
            }
            bound = Some(key);
        }
    }
    let outside = if from > 0 {
        vec![(live.lo, from), (until, live.hi)]
    } else {
        vec![(live.lo, live.hi)]
    };
    for range in outside {
        hits.extend(hits_in(db, words, range, bound.as_deref(), None).await?);
    }
    hits.sort_by(|a, b| (&a.sort_key, &a.path).cmp(&(&b.sort_key, &b.path)));
    hits.truncate(need as usize);
    Ok(hits)
}

/// Hits with ids strictly inside `range`: in id order up to `limit`, or all of them with
/// a key up to `bound`.
async fn hits_in(
    db: &impl ConnectionTrait,
    words: &str,
    (above, below): (i64, i64),
    bound: Option<&str>,
    limit: Option<i64>,
) -> anyhow::Result<Vec<Hit>> {
    let mut values: Vec<Value> = vec![words.into(), above.into(), below.into()];
    let mut sql = "SELECT e.id, e.path, e.sort_key, e.size_bytes, e.modified_at \
                   FROM search_names CROSS JOIN search_entries e ON e.id = search_names.rowid \
                   WHERE search_names MATCH ? AND search_names.rowid > ? AND search_names.rowid < ?"
        .to_string();
    if let Some(bound) = bound {
        sql += " AND e.sort_key <= ?";
        values.push(bound.into());
    }
    if let Some(limit) = limit {
        sql += " ORDER BY search_names.rowid LIMIT ?";
        values.push(limit.into());
    }
    Ok(Hit::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        sql,
        values,
    ))
    .all(db)
    .await?)
}

/// Any search: every hit joined, filtered, sorted and paged by the database.
async fn joined(
    db: &impl ConnectionTrait,
    words: &str,
    live: ids::Span,
    query: &Query<'_>,
    window: Window,
) -> anyhow::Result<(Vec<FileMeta>, u64)> {
    let mut sql = Sql::new(DbBackend::Sqlite);
    let from = format!(
        "FROM search_names CROSS JOIN search_entries e ON e.id = search_names.rowid \
         WHERE search_names MATCH {} AND search_names.rowid > {} AND search_names.rowid < {}",
        sql.bind(words),
        sql.bind(live.lo),
        sql.bind(live.hi)
    );
    let filter = format!("{from}{}", filters(&mut sql, query));
    super::page(
        db,
        sql,
        filter,
        order(DbBackend::Sqlite, query.sort),
        window,
    )
    .await
}
