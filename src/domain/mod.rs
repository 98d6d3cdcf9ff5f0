//! The product's vocabulary, below the services and above the database.
//!
//! ```text
//! ids.rs          ArticleId, CommentId, UserId …: typed i64 ids (diesel, serde, Display)
//! kinds.rs        Role, CommentStatus, NotificationKind, ReportReason, ModAction …:
//!                 enums stored as TEXT; an unknown stored value is an error
//! values.rs       Username, Email, NewPassword, Slug, DisplayName, CommentBody, ModReason,
//!                 BanLength, Report: values that exist only once parsed
//! quotes.rs       what a comment quotes of its article (a takeaway, a summary passage)
//! permissions.rs  may_vote, may_edit, may_reply, may_ban …: one function per action,
//!                 asked by the views (what to show) and the services (what to allow)
//! ```
//!
//! Nothing here touches the database or HTTP by itself: these are plain values that
//! `db/` stores, `service/` reasons about and `web/` and `views/` show.

pub mod ids;
pub mod kinds;
pub mod permissions;
pub mod quotes;
pub mod values;

pub use ids::{ArticleId, CommentId, NotificationId, ReportId, UserId};
pub use kinds::{
    CommentStatus, LiveKind, MailKind, ModAction, NotificationKind, ReportReason, Role, TargetType, TokenPurpose,
    UnknownValue,
};
pub use permissions::{Actor, CommentFacts, Denied};
pub use values::{BanLength, Bio, CommentBody, DisplayName, Email, ModReason, NewPassword, Report, Slug, Username};
