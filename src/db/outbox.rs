//! Messages kept when no SMTP server is configured.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::schema::outbox;
use super::{now, DbConn};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Message {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: PrimitiveDateTime,
}

pub fn push(conn: &mut DbConn, recipient: &str, subject: &str, body: &str) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::recipient.eq(recipient),
            outbox::subject.eq(subject),
            outbox::body.eq(body),
            outbox::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Newest first.
pub fn list(conn: &mut DbConn, offset: i64, limit: i64) -> QueryResult<Vec<Message>> {
    outbox::table.order(outbox::id.desc()).offset(offset).limit(limit).select(Message::as_select()).load(conn)
}
