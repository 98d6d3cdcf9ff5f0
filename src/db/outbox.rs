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
    pub html_body: Option<String>,
    /// One `Name: value` a line.
    pub headers: String,
    /// kept | queued | sending | sent | failed
    pub state: String,
}

/// Where a message stands: `Kept` (no SMTP server: the outbox is where it ends) or
/// queued for SMTP, then sending, then sent or failed.
pub const KEPT: &str = "kept";
pub const QUEUED: &str = "queued";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// Keeps `mail` (all its parts and headers) in state `state` (`KEPT` or `QUEUED`);
/// call inside the transaction that decides to send it.
pub fn push_mail(conn: &mut DbConn, mail: &crate::mail::Mail, state: &str, at: PrimitiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::recipient.eq(&mail.to),
            outbox::subject.eq(&mail.subject),
            outbox::body.eq(&mail.text),
            outbox::html_body.eq(mail.html.as_deref()),
            outbox::headers.eq(mail.headers_text()),
            outbox::state.eq(state),
            outbox::created_at.eq(at),
        ))
        .returning(outbox::id)
        .get_result(conn)
}

/// The oldest message queued for SMTP, marked `SENDING` (a conditional update: of two
/// instances, one claims it); `None` when nothing is queued.
pub fn claim_queued(conn: &mut DbConn) -> QueryResult<Option<Message>> {
    loop {
        let next: Option<Message> = outbox::table
            .filter(outbox::state.eq(QUEUED))
            .order(outbox::id)
            .select(Message::as_select())
            .first(conn)
            .optional()?;
        let Some(message) = next else { return Ok(None) };
        let claimed = diesel::update(outbox::table.filter(outbox::id.eq(message.id)).filter(outbox::state.eq(QUEUED)))
            .set(outbox::state.eq(SENDING))
            .execute(conn)?;
        if claimed == 1 {
            return Ok(Some(Message { state: SENDING.to_owned(), ..message }));
        }
    }
}

/// Records how sending a claimed message ended (`SENT` or `FAILED`).
pub fn set_state(conn: &mut DbConn, id: i64, state: &str) -> QueryResult<()> {
    diesel::update(outbox::table.find(id)).set(outbox::state.eq(state)).execute(conn)?;
    Ok(())
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
