//! Relay connections: `edges { cursor node }`, `pageInfo` and `totalCount`.

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, Edge, EmptyFields},
};

use crate::{error::AppError, paging::Page};

#[derive(SimpleObject)]
pub struct Total {
    /// How many items match, over all pages.
    pub total_count: i64,
}

pub type Conn<T> = Connection<String, T, Total, EmptyFields>;

/// A page of items as a connection, each item's cursor from `cursor_of`.
pub fn connection<I, T: OutputType>(
    page: Page<I>,
    has_previous: bool,
    cursor_of: impl Fn(&I) -> String,
    node: impl Fn(I) -> T,
) -> Conn<T> {
    let mut conn = Connection::with_additional_fields(
        has_previous,
        page.has_next,
        Total {
            total_count: page.total as i64,
        },
    );
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(cursor_of(&item), node(item))),
    );
    conn
}

/// A cursor that must parse as `T`, or `BAD_USER_INPUT` naming `after`.
pub fn parse_cursor<T: std::str::FromStr>(after: Option<&str>) -> Result<Option<T>, AppError> {
    after
        .map(|cursor| {
            cursor
                .parse()
                .map_err(|_| AppError::bad_input("after", "after is not a cursor from this list"))
        })
        .transpose()
}
