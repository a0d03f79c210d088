//! The trash over GraphQL: `trash` lists it, `restoreEntries` puts items back,
//! `emptyTrash` deletes them for good (`operations::trash`).

use async_graphql::{Context, ID, Object, Result, ResultExt, SimpleObject};

use crate::{
    graphql::{
        connection::{Conn, connection, parse_cursor},
        context,
        ids::parse_ids,
        operations::{Operation, OperationType},
        scalars::{BigInt, DateTime},
    },
    operations::trash,
    paging::page_size,
};

/// A file in your trash: put there by a delete or a duplicate cleanup.
#[derive(SimpleObject)]
pub struct TrashItem {
    pub id: ID,
    /// Where it was, and where it is restored to.
    pub original_path: String,
    /// Where it is now, under `.trash/`.
    pub trash_path: String,
    pub size_bytes: BigInt,
    pub deleted_at: DateTime,
    pub operation_id: ID,
    pub operation_type: OperationType,
}

impl From<trash::TrashItem> for TrashItem {
    fn from(item: trash::TrashItem) -> Self {
        let r = item.record;
        Self {
            id: ID(r.id.to_string()),
            trash_path: r.new_path.unwrap_or_default(),
            original_path: r.original_path,
            size_bytes: BigInt(r.file_size_bytes),
            deleted_at: r.updated_at.into(),
            operation_id: ID(r.operation_id.to_string()),
            operation_type: item.operation_type.into(),
        }
    }
}

#[derive(Default)]
pub struct TrashQuery;

#[Object]
impl TrashQuery {
    /// Everything in your trash that you can restore, newest first.
    #[graphql(complexity = "crate::graphql::connection_cost(first, child_complexity)")]
    async fn trash(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<TrashItem>> {
        let caller = context::caller(ctx).await?;
        let after = parse_cursor::<uuid::Uuid>(after.as_deref()).extend()?;
        let page = trash::list(
            context::state(ctx),
            caller.user_id(),
            page_size(first),
            after,
        )
        .await
        .extend()?;
        Ok(connection(
            page,
            after.is_some(),
            |item| item.record.id.to_string(),
            TrashItem::from,
        ))
    }
}

#[derive(Default)]
pub struct TrashMutation;

#[Object]
impl TrashMutation {
    /// Puts trash items back where they were: a `RESTORE` operation. A place taken since
    /// gets the next free name (`name (1).ext`); nothing is overwritten.
    async fn restore_entries(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Operation> {
        let caller = context::caller(ctx).await?;
        let ids = parse_ids("ids", &ids).extend()?;
        trash::restore(context::state(ctx), caller.user_id(), &ids)
            .await
            .map(Operation)
            .extend()
    }

    /// Deletes trash items for good: `ids`, or those in the trash for more than
    /// `olderThanDays`, or (neither given) everything. Returns how many were deleted.
    async fn empty_trash(
        &self,
        ctx: &Context<'_>,
        ids: Option<Vec<ID>>,
        older_than_days: Option<i32>,
    ) -> Result<i32> {
        let caller = context::caller(ctx).await?;
        let ids = ids.map(|ids| parse_ids("ids", &ids)).transpose().extend()?;
        let emptied = trash::empty(
            context::state(ctx),
            caller.user_id(),
            ids.as_deref(),
            older_than_days,
        )
        .await
        .extend()?;
        Ok(i32::try_from(emptied).unwrap_or(i32::MAX))
    }
}
