//! The product's vocabulary, below the services and above the database.
//!
//! ```text
//! ids.rs          ArticleId, CommentId, UserId …: typed i64 ids (diesel, serde, Display)
//! kinds.rs        Role, CommentStatus, NotificationKind, ReportReason, ModAction …:
//!                 enums stored as TEXT; an unknown stored value is an error
//! ```
//!
//! Nothing here touches the database or HTTP by itself: these are plain values that
//! `db/` stores, `service/` reasons about and `web/` and `views/` show.

pub mod ids;
pub mod kinds;

pub use ids::{ArticleId, CommentId, NotificationId, ReportId, UserId};
pub use kinds::{
    CommentStatus, MailKind, ModAction, NotificationKind, ReportReason, Role, TargetType, TokenPurpose, UnknownValue,
};
