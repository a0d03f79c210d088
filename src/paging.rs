//! A page of a list, as the services return it (the GraphQL layer turns it into a Relay
//! connection), and the page-size rule every list shares.

/// Items per page when `first` is not given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The most items one page holds, whatever `first` asks for.
pub const MAX_PAGE_SIZE: u64 = 100;

pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    pub total: u64,
}

/// Page size: what was asked for, at most `MAX_PAGE_SIZE`, `DEFAULT_PAGE_SIZE` when not given.
pub fn page_size(first: Option<i32>) -> u64 {
    first.map_or(DEFAULT_PAGE_SIZE, |n| {
        u64::try_from(n.max(0)).unwrap_or(0).min(MAX_PAGE_SIZE)
    })
}
