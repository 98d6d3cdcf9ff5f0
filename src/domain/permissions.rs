//! Who may do what: one function per action, asked by the views (to decide what to
//! show) and by the services and their transactions (to enforce it, on the rows as
//! locked). A rule changes here and nowhere else.

use time::{Duration, PrimitiveDateTime};

use super::{CommentStatus, Role, UserId};

/// Why an action is refused. The message is shown to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("you need to log in first")]
    NotSignedIn,
    #[error("your account is banned")]
    Banned,
    #[error("comments on this article are closed")]
    Locked,
    #[error("only the author may do that")]
    NotAuthor,
    #[error("you cannot vote on your own comment")]
    OwnVote,
    #[error("you cannot report your own comment")]
    OwnReport,
    #[error("the comment is deleted, removed or not yet approved")]
    NotVisible,
    #[error("the time to edit this comment is over")]
    EditWindowOver,
    /// The author may not erase what a moderator removed: moderators keep it, with its
    /// reports, and nobody else sees it.
    #[error("a moderator removed this comment; it is kept for the moderators and shown to nobody")]
    RemovedByModerator,
    #[error("only moderators may do that")]
    NotModerator,
    #[error("only administrators may do that")]
    NotAdmin,
    #[error("you cannot ban yourself")]
    BanSelf,
    #[error("you can ban only readers (and, as an administrator, moderators)")]
    BanPeer,
}

/// Who is acting, as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub role: Role,
    /// Banned now: may read and manage the account, nothing else.
    pub banned: bool,
}

/// What the rules look at in a comment.
#[derive(Debug, Clone, Copy)]
pub struct CommentFacts {
    pub author_id: UserId,
    pub status: CommentStatus,
    pub created_at: PrimitiveDateTime,
    /// Its article's comments are closed.
    pub locked: bool,
}

type Verdict = Result<(), Denied>;

fn active(actor: Option<&Actor>) -> Result<&Actor, Denied> {
    let actor = actor.ok_or(Denied::NotSignedIn)?;
    if actor.banned {
        return Err(Denied::Banned);
    }
    Ok(actor)
}

/// A new top-level comment on an article.
/// Whether the article is closed is checked first, so that a visitor is told it is
/// closed rather than asked to log in.
pub fn may_comment(actor: Option<&Actor>, article_locked: bool) -> Verdict {
    if article_locked {
        return Err(Denied::Locked);
    }
    active(actor).map(|_| ())
}

/// A reply to `parent`.
/// The thread's state is checked before the reader's, so that a visitor (to whom a
/// "Reply" link leads through the login form) is refused for a closed thread too.
pub fn may_reply(actor: Option<&Actor>, parent: &CommentFacts) -> Verdict {
    if parent.locked {
        return Err(Denied::Locked);
    }
    if parent.status != CommentStatus::Visible {
        return Err(Denied::NotVisible);
    }
    may_comment(actor, parent.locked)
}

/// An up- or downvote (or taking one back).
pub fn may_vote(actor: Option<&Actor>, comment: &CommentFacts) -> Verdict {
    let actor = active(actor)?;
    if comment.status != CommentStatus::Visible {
        return Err(Denied::NotVisible);
    }
    if comment.author_id == actor.id {
        return Err(Denied::OwnVote);
    }
    if comment.locked {
        return Err(Denied::Locked);
    }
    Ok(())
}

/// A report to the moderators.
pub fn may_report(actor: Option<&Actor>, comment: &CommentFacts) -> Verdict {
    let actor = active(actor)?;
    if comment.author_id == actor.id {
        return Err(Denied::OwnReport);
    }
    if comment.status != CommentStatus::Visible {
        return Err(Denied::NotVisible);
    }
    Ok(())
}

/// A new text for the author's own comment, within `window` of posting.
pub fn may_edit(actor: Option<&Actor>, comment: &CommentFacts, now: PrimitiveDateTime, window: Duration) -> Verdict {
    let actor = active(actor)?;
    if comment.author_id != actor.id {
        return Err(Denied::NotAuthor);
    }
    if !matches!(comment.status, CommentStatus::Visible | CommentStatus::Pending) {
        return Err(Denied::NotVisible);
    }
    if comment.locked {
        return Err(Denied::Locked);
    }
    if now - comment.created_at > window {
        return Err(Denied::EditWindowOver);
    }
    Ok(())
}

/// The author deleting their own comment.
pub fn may_delete(actor: Option<&Actor>, comment: &CommentFacts) -> Verdict {
    let actor = active(actor)?;
    if comment.author_id != actor.id {
        return Err(Denied::NotAuthor);
    }
    match comment.status {
        CommentStatus::Deleted => Err(Denied::NotVisible),
        CommentStatus::Removed => Err(Denied::RemovedByModerator),
        _ => Ok(()),
    }
}

/// Reports, the approval queue, removing, pinning, locking threads.
pub fn may_moderate(actor: Option<&Actor>) -> Verdict {
    if active(actor)?.role < Role::Moderator {
        return Err(Denied::NotModerator);
    }
    Ok(())
}

/// Articles, roles and the site's settings.
pub fn may_administer(actor: Option<&Actor>) -> Verdict {
    if active(actor)?.role < Role::Admin {
        return Err(Denied::NotAdmin);
    }
    Ok(())
}

/// Banning (or unbanning) the account `target` of role `target_role`: moderators ban
/// readers, administrators also moderators; nobody themselves.
pub fn may_ban(actor: Option<&Actor>, target: UserId, target_role: Role) -> Verdict {
    may_moderate(actor)?;
    let actor = actor.ok_or(Denied::NotSignedIn)?;
    if target == actor.id {
        return Err(Denied::BanSelf);
    }
    if target_role >= actor.role {
        return Err(Denied::BanPeer);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: PrimitiveDateTime = time::macros::datetime!(2026-12-01 12:00);

    fn reader(id: i64) -> Actor {
        Actor { id: UserId(id), role: Role::Reader, banned: false }
    }

    fn comment_by(id: i64) -> CommentFacts {
        CommentFacts {
            author_id: UserId(id),
            status: CommentStatus::Visible,
            created_at: NOW - Duration::minutes(5),
            locked: false,
        }
    }

    #[test]
    fn readers_act_on_others_comments_and_edit_their_own_in_time() {
        let (ann, bob) = (reader(1), reader(2));
        let bobs = comment_by(2);
        assert_eq!(may_vote(Some(&ann), &bobs), Ok(()));
        assert_eq!(may_vote(Some(&bob), &bobs), Err(Denied::OwnVote));
        assert_eq!(may_vote(None, &bobs), Err(Denied::NotSignedIn));
        assert_eq!(may_report(Some(&bob), &bobs), Err(Denied::OwnReport));
        assert_eq!(may_reply(Some(&bob), &bobs), Ok(()));
        assert_eq!(may_edit(Some(&bob), &bobs, NOW, Duration::minutes(15)), Ok(()));
        assert_eq!(may_edit(Some(&bob), &bobs, NOW, Duration::minutes(1)), Err(Denied::EditWindowOver));
        assert_eq!(may_edit(Some(&ann), &bobs, NOW, Duration::minutes(15)), Err(Denied::NotAuthor));
        assert_eq!(may_delete(Some(&bob), &bobs), Ok(()));
        let removed = CommentFacts { status: CommentStatus::Removed, ..bobs };
        assert_eq!(may_delete(Some(&bob), &removed), Err(Denied::RemovedByModerator));
        assert_eq!(may_vote(Some(&ann), &removed), Err(Denied::NotVisible));
    }

    #[test]
    fn a_banned_reader_and_a_closed_thread_allow_nothing_new() {
        let banned = Actor { banned: true, ..reader(1) };
        let bobs = comment_by(2);
        for verdict in [
            may_vote(Some(&banned), &bobs),
            may_reply(Some(&banned), &bobs),
            may_report(Some(&banned), &bobs),
            may_comment(Some(&banned), false),
        ] {
            assert_eq!(verdict, Err(Denied::Banned));
        }
        let closed = CommentFacts { locked: true, ..bobs };
        assert_eq!(may_reply(Some(&reader(1)), &closed), Err(Denied::Locked));
        assert_eq!(may_reply(None, &closed), Err(Denied::Locked), "no Reply link for visitors either");
        assert_eq!(may_reply(None, &bobs), Err(Denied::NotSignedIn));
        assert_eq!(may_vote(Some(&reader(1)), &closed), Err(Denied::Locked));
        assert_eq!(may_edit(Some(&reader(2)), &closed, NOW, Duration::hours(1)), Err(Denied::Locked));
    }

    #[test]
    fn bans_go_down_the_roles_only() {
        let moe = Actor { id: UserId(5), role: Role::Moderator, banned: false };
        let ada = Actor { id: UserId(6), role: Role::Admin, banned: false };
        assert_eq!(may_ban(Some(&moe), UserId(1), Role::Reader), Ok(()));
        assert_eq!(may_ban(Some(&moe), UserId(7), Role::Moderator), Err(Denied::BanPeer));
        assert_eq!(may_ban(Some(&ada), UserId(7), Role::Moderator), Ok(()));
        assert_eq!(may_ban(Some(&moe), UserId(5), Role::Reader), Err(Denied::BanSelf));
        assert_eq!(may_ban(Some(&reader(1)), UserId(2), Role::Reader), Err(Denied::NotModerator));
        assert_eq!(may_moderate(Some(&moe)), Ok(()));
        assert_eq!(may_administer(Some(&moe)), Err(Denied::NotAdmin));
    }
}
