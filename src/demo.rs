//! The sample articles `serve --demo` loads into a new database.

use crate::db::articles::{self, ImportSummary};
use crate::db::DbConn;
use crate::import;

pub const ARTICLES_JSON: &str = include_str!("../demo/articles.json");

/// Loads the demo articles unless the database has (or ever had) articles.
pub fn seed(conn: &mut DbConn) -> anyhow::Result<Option<ImportSummary>> {
    let items = import::parse(ARTICLES_JSON.as_bytes())?;
    Ok(articles::seed_demo(conn, &items)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_file_is_valid() {
        let items = crate::import::parse(super::ARTICLES_JSON.as_bytes()).unwrap();
        assert!(items.len() > crate::views::articles::PAGE_SIZE as usize, "enough for two pages");
        assert!(items[0].title.starts_with("Meta (again) denies"));
    }
}
