//! The enumerations stored as TEXT: each value has one spelling in the database, and a
//! value read back that is not one of them is an error, never a silent default.

use std::fmt;
use std::str::FromStr;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// A TEXT value that names no variant of the enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! text_enum {
    ($(
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }
    )+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value as stored and shown in URLs.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $name
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $name
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                Ok(String::from_sql(bytes)?.parse::<$name>()?)
            }
        }
    )+};
}

text_enum! {
    /// What an account may do. Ordered: a moderator may do all a reader may, an admin all
    /// a moderator may.
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        Reader = "reader",
        Moderator = "moderator",
        Admin = "admin",
    }

    /// Where a comment stands.
    pub enum CommentStatus {
        /// Shown to everyone.
        Visible = "visible",
        /// Deleted by its author: a "[deleted]" placeholder while it has replies.
        Deleted = "deleted",
        /// Removed by a moderator: "[removed by a moderator]"; the author sees the reason.
        Removed = "removed",
        /// Held for approval (pre-moderation): only its author and moderators see it.
        Pending = "pending",
        /// Held and then rejected by a moderator.
        Rejected = "rejected",
    }

    /// Why a reader is told about a comment.
    pub enum NotificationKind {
        /// Someone replied to the reader's comment.
        Reply = "reply",
        /// A new top-level comment on an article the reader saved.
        SavedArticle = "saved_article",
        /// The reader's held comment was approved and published.
        Approved = "approved",
        /// The reader's held comment was not approved (with the moderator's reason, if any).
        Rejected = "rejected",
        /// A moderator removed the reader's comment (with the reason).
        Removed = "removed",
    }

    /// What a reader reports a comment for.
    pub enum ReportReason {
        Spam = "spam",
        Harassment = "harassment",
        OffTopic = "off-topic",
        Misinformation = "misinformation",
        Other = "other",
    }

    /// A line of the moderation log.
    pub enum ModAction {
        DismissReports = "dismiss reports",
        RemoveComment = "remove comment",
        RestoreComment = "restore comment",
        ApproveComment = "approve comment",
        RejectComment = "reject comment",
        PinComment = "pin comment",
        UnpinComment = "unpin comment",
        DistinguishComment = "distinguish comment",
        UndistinguishComment = "undistinguish comment",
        LockArticle = "lock article",
        UnlockArticle = "unlock article",
        CreateArticle = "create article",
        EditArticle = "edit article",
        DeleteArticle = "delete article",
        ImportArticles = "import articles",
        BanUser = "ban user",
        UnbanUser = "unban user",
        ChangeRole = "change role",
        ChangeSettings = "change settings",
    }

    /// What a moderation-log line is about.
    pub enum TargetType {
        Comment = "comment",
        Article = "article",
        User = "user",
        Site = "site",
    }

    /// What a single-use account link is for.
    pub enum TokenPurpose {
        Reset = "reset",
        Verify = "verify",
        /// Moves imported comments written with the account's address to it.
        Claim = "claim",
    }

    /// Account emails limited per recipient.
    pub enum MailKind {
        Reset = "reset",
        AddressNotice = "address-notice",
    }

    /// What changed on a thread, as readers watching it live are told.
    pub enum LiveKind {
        /// A comment appeared (posted, or approved).
        Comment = "comment",
        /// Its text changed.
        Edit = "edit",
        /// Deleted, removed or put back.
        Status = "status",
        /// Its score changed.
        Votes = "votes",
        /// The article's comments were closed or reopened.
        Lock = "lock",
    }
}

impl ReportReason {
    /// How the reason is shown.
    pub fn label(self) -> &'static str {
        match self {
            ReportReason::Spam => "Spam",
            ReportReason::Harassment => "Harassment",
            ReportReason::OffTopic => "Off-topic",
            ReportReason::Misinformation => "Misinformation",
            ReportReason::Other => "Other",
        }
    }
}

impl CommentStatus {
    /// Only a visible comment counts in an article's comment count.
    pub fn counts(self) -> bool {
        self == CommentStatus::Visible
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_as_itself_and_unknown_ones_are_errors() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        for status in CommentStatus::ALL {
            assert_eq!(status.to_string().parse::<CommentStatus>().unwrap(), *status);
        }
        for action in ModAction::ALL {
            assert_eq!(action.as_str().parse::<ModAction>().unwrap(), *action);
        }
        let err = "superuser".parse::<Role>().unwrap_err();
        assert_eq!(err.to_string(), "unknown Role \"superuser\"");
        assert!("Reader".parse::<Role>().is_err(), "one spelling");
        assert!(Role::Reader < Role::Moderator && Role::Moderator < Role::Admin);
    }
}
