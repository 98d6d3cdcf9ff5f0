//! The data layer: every SQL statement of the application lives below this module.

pub mod articles;
pub mod comments;
pub mod connection;
pub mod digests;
pub mod embed;
pub mod imports;
pub mod introspect;
pub mod isso;
pub mod listener;
pub mod live;
pub mod logins;
pub mod moderation;
pub mod notifications;
pub mod outbox;
pub mod saved;
pub mod schema;
pub mod search;
pub mod settings;
pub mod site;
pub mod storage;
pub mod takeaways;
pub mod threads;
pub mod tokens;
pub mod users;
pub mod votes;

pub use connection::{
    connect, connect_with, open_migrated, run_migrations, with_startup_lock, write_transaction, Backend, DbConn,
    DbError, DbHealth, DbPool, DbUrl, Pooled, TRUST_ANSWER,
};

/// A `LIKE … ESCAPE '!'` pattern matching any text that holds `text` in lower case,
/// with `%`, `_` and `!` in it taken as themselves.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

/// The current time in UTC, as stored in `Timestamp` columns.
pub fn now() -> time::PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    time::PrimitiveDateTime::new(now.date(), now.time())
}

/// The duplicate a unique constraint refused (often a race lost to a simultaneous
/// request): the constraint's name, or the database's message when it gives none.
/// `None` for every other error.
pub fn duplicate(err: &diesel::result::Error) -> Option<&str> {
    match err {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, info) => {
            Some(info.constraint_name().unwrap_or(info.message()))
        }
        _ => None,
    }
}

/// Which page of a list to load: its number (from 1) and how many rows it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: u32,
    pub size: i64,
}

impl PageRequest {
    pub fn new(number: u32, size: i64) -> PageRequest {
        PageRequest { number: number.max(1), size }
    }

    /// The first row of the page.
    pub fn offset(self) -> i64 {
        i64::from(self.number - 1) * self.size
    }

    /// How many rows to ask for: one more than the page shows, which tells whether
    /// another page follows.
    pub fn limit(self) -> i64 {
        self.size + 1
    }

    /// The page made of `rows`, loaded with [`offset`](Self::offset) and
    /// [`limit`](Self::limit).
    pub fn page<T>(self, mut rows: Vec<T>) -> Page<T> {
        let has_more = rows.len() as i64 > self.size;
        rows.truncate(usize::try_from(self.size).unwrap_or(0));
        Page { items: rows, number: self.number, has_more }
    }
}

/// One page of a list, and whether another follows.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub number: u32,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// None for an empty page past the first: an address past the end is missing (404).
    pub fn existing(self) -> Option<Page<T>> {
        (self.number == 1 || !self.items.is_empty()).then_some(self)
    }
}

#[cfg(test)]
mod page_tests {
    use super::PageRequest;

    #[test]
    fn a_page_asks_for_one_row_more_and_knows_whether_another_follows() {
        let request = PageRequest::new(3, 10);
        assert_eq!((request.offset(), request.limit()), (20, 11));
        let full = request.page((0..11).collect());
        assert_eq!((full.items.len(), full.has_more), (10, true));
        let last = request.page((0..4).collect());
        assert_eq!((last.items.len(), last.has_more), (4, false));
        assert!(request.page(Vec::<i32>::new()).existing().is_none(), "past the end");
        assert!(PageRequest::new(1, 10).page(Vec::<i32>::new()).existing().is_some(), "an empty first page exists");
    }
}

#[cfg(test)]
mod pattern_tests {
    #[test]
    fn like_wildcards_in_the_text_are_taken_as_themselves() {
        assert_eq!(super::contains_pattern("Ann"), "%ann%");
        assert_eq!(super::contains_pattern("50%_off!"), "%50!%!_off!!%");
    }
}
