//! Signed-in readers share one rendering of a thread: each reader's page is the shared
//! thread with their own parts (votes, their edit and delete buttons) filled in, and it
//! must be exactly the page rendered for them alone, in every encoding.

use std::io::Read;

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(
    a_shared_thread_is_each_readers_own_page,
    a_shared_thread_follows_every_change,
    what_is_kept_of_a_reader_follows_every_change,
);

fn article() -> String {
    format!("/articles/{SEED_SLUG}")
}

/// The page as `client` gets it, plain and gzip-compressed (decompressed), checked equal.
async fn both_encodings(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let plain = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK, "{path}");
    let plain = plain.text().await.unwrap();
    let gzip = client.get(app.url(path)).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip", "{path}");
    let packed = gzip.bytes().await.unwrap();
    let mut unpacked = String::new();
    flate2::read::GzDecoder::new(&packed[..]).read_to_string(&mut unpacked).expect("one valid gzip member");
    assert_eq!(unpacked, plain, "{path}: gzip and plain differ");
    assert!(packed.len() * 2 < plain.len(), "{path}: {} of {} bytes", packed.len(), plain.len());
    plain
}

async fn a_shared_thread_is_each_readers_own_page(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cat = app.signup("cat").await;
    let mona = app.signup_as("mona", "moderator").await;
    // Enough text for the thread to span several shared chunks.
    let filler = "A long thought about the article, with more words than usual. ".repeat(8);
    let mut ids = Vec::new();
    for n in 0..30 {
        let author = if n % 3 == 0 { &bob } else { &ann };
        ids.push(app.comment(author, SEED_SLUG, &format!("Comment {n}. {filler}"), None).await);
    }
    let reply = app.comment(&cat, SEED_SLUG, "Cat's reply", Some(ids[20])).await;
    for (client, id, value) in [(&bob, ids[1], 1), (&bob, ids[16], -1), (&cat, ids[29], 1), (&ann, reply, 1)] {
        assert_eq!(app.vote(client, id, value).await.status(), StatusCode::SEE_OTHER);
    }
    // A bystander warms the shared thread first.
    let dan = app.signup("dana").await;
    let dan_page = both_encodings(&app, &dan, &article()).await;

    for (name, client) in [("ann", &ann), ("bob", &bob), ("cat", &cat), ("dana", &dan), ("mona", &mona)] {
        let shared = both_encodings(&app, client, &article()).await;
        // A query string no page reads is answered without any shared rendering.
        let alone = app.page_as(client, &format!("{}?from=elsewhere", article())).await.1;
        // The save button comes back to the address asked, query and all.
        let alone = alone.replace("?from=elsewhere", "");
        let (shared, alone) = (without_tokens(&shared), without_tokens(&alone));
        if let Some(at) = shared
            .bytes()
            .zip(alone.bytes())
            .position(|(a, b)| a != b)
            .or_else(|| (shared.len() != alone.len()).then_some(shared.len().min(alone.len())))
        {
            let around = |s: &str| s.get(at.saturating_sub(200)..(at + 200).min(s.len())).unwrap_or("").to_owned();
            panic!(
                "{name}'s page differs from its own rendering at {at}:\n{}\n---\n{}",
                around(&shared),
                around(&alone)
            );
        }
    }

    let page = Page::parse(&app.page_as(&bob, &article()).await.1);
    let pressed = |page: &Page, id: i64, which: &str| {
        page.attr(&format!("#comment-{id} > details > .comment-actions .vote.{which}"), "aria-pressed")
    };
    assert_eq!(pressed(&page, ids[1], "up"), "true");
    assert_eq!(pressed(&page, ids[16], "down"), "true");
    assert_eq!(pressed(&page, ids[29], "up"), "false", "cat's vote is not bob's");
    assert_eq!(page.count(&format!("#comment-{} > details > .comment-actions .edit-link", ids[0])), 1, "his own");
    assert_eq!(page.count(&format!("#comment-{} > details > .comment-actions .edit-link", ids[1])), 0, "ann's");
    let dan_page = Page::parse(&dan_page);
    assert_eq!(dan_page.count(".edit-link"), 0);
    assert_eq!(dan_page.count(".vote[aria-pressed=\"true\"]"), 0);
    assert_eq!(dan_page.count(".report-link"), 31);
    let mona_page = Page::parse(&app.page_as(&mona, &article()).await.1);
    assert_eq!(mona_page.count(".mod-actions a[href^=\"/mod/comments/\"]"), 31, "a moderator's links");
    assert_eq!(dan_page.count(".mod-actions a[href^=\"/mod/comments/\"]"), 0);
}

/// A page with its CSRF tokens blanked: each request may get a fresh one.
fn without_tokens(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    const FIELD: &str = "name=\"csrf_token\" value=\"";
    while let Some(at) = rest.find(FIELD) {
        out.push_str(&rest[..at + FIELD.len()]);
        rest = &rest[at + FIELD.len()..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}

async fn a_shared_thread_follows_every_change(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mona = app.signup_as("mona", "moderator").await;
    let first = app.comment(&ann, SEED_SLUG, "The first comment", None).await;
    let view = |client: reqwest::Client| {
        let app = &app;
        async move { Page::parse(&both_encodings(app, &client, &article()).await) }
    };
    assert_eq!(view(bob.clone()).await.text(&format!("#comment-{first} .comment-body")), "The first comment");
    // A new comment, a vote, an edit, a removal: each shows on the next view.
    let second = app.comment(&ann, SEED_SLUG, "Another one", None).await;
    assert_eq!(view(bob.clone()).await.text(&format!("#comment-{second} .comment-body")), "Another one");
    app.vote(&bob, second, 1).await;
    let page = view(bob.clone()).await;
    assert_eq!(page.text(&format!("#comment-{second} .score")), "1 point");
    assert_eq!(page.attr(&format!("#comment-{second} .vote.up"), "aria-pressed"), "true");
    app.vote(&bob, second, 0).await;
    assert_eq!(view(bob.clone()).await.attr(&format!("#comment-{second} .vote.up"), "aria-pressed"), "false");
    let r = app.post_form(&ann, &format!("/comments/{first}/edit"), &[("body", "Edited words")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(view(bob.clone()).await.text(&format!("#comment-{first} .comment-body")), "Edited words");
    let r = app.post_form(&mona, &format!("/mod/comments/{first}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(view(bob.clone()).await.text(&format!("#comment-{first} .comment-body")), "[removed by a moderator]");
    let own = view(ann.clone()).await;
    assert!(own.text(&format!("#comment-{first} .removed-reason")).contains("Off topic"), "the author sees why");
    // A lock takes the buttons away.
    let r = app.post_form(&mona, &format!("/mod/articles/{SEED_SLUG}/lock"), &[("reason", "Enough")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = view(bob.clone()).await;
    assert_eq!(page.count(".vote"), 0);
    assert_eq!(page.count(".reply-link"), 0);
}

/// What the site keeps in memory of a signed-in reader (their account, session and
/// unread count, and their own parts of a page) follows every change to it, made by
/// them or by others: each shows on the view right after it, though the view before
/// was served from memory.
async fn what_is_kept_of_a_reader_follows_every_change(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mona = app.signup_as("mona", "moderator").await;
    let ada = app.signup_as("ada", "admin").await;
    let first = app.comment(&ann, SEED_SLUG, "Ann's comment", None).await;
    let other = app.comment(&bob, SEED_SLUG, "Bob's comment", None).await;
    // Each view is asked for twice (plain and gzip): the second comes from memory.
    let view = |client: &reqwest::Client| {
        let (app, client) = (&app, client.clone());
        async move { Page::parse(&both_encodings(app, &client, &article()).await) }
    };
    let unread = |page: &Page| page.texts(".inbox-link .badge").concat();
    let ok = |r: reqwest::Response, what: &str| assert_eq!(r.status(), StatusCode::SEE_OTHER, "{what}");

    let page = view(&ann).await;
    assert_eq!(page.text(".whoami"), "ann");
    assert_eq!(unread(&page), "");
    // Others' changes: a reply to her brings a notification, its removal takes it away.
    let reply = app.comment(&bob, SEED_SLUG, "A reply to Ann", Some(first)).await;
    assert_eq!(unread(&view(&ann).await), "1 unread", "a reply");
    ok(app.post_form(&mona, &format!("/mod/comments/{reply}/remove"), &[("reason", "Off topic")]).await, "remove");
    assert_eq!(unread(&view(&ann).await), "", "the reply removed");
    ok(app.post_form(&mona, &format!("/mod/comments/{reply}/restore"), &[]).await, "restore");
    assert_eq!(unread(&view(&ann).await), "1 unread", "the reply restored");
    ok(app.post_form(&ann, "/inbox/read", &[]).await, "read");
    assert_eq!(unread(&view(&ann).await), "", "read");
    // Her own parts: a vote, the article saved.
    app.vote(&ann, other, 1).await;
    assert_eq!(view(&ann).await.attr(&format!("#comment-{other} .vote.up"), "aria-pressed"), "true", "her vote");
    app.vote(&ann, other, 0).await;
    assert_eq!(view(&ann).await.attr(&format!("#comment-{other} .vote.up"), "aria-pressed"), "false", "unvoted");
    let save = format!("/articles/{SEED_SLUG}/save");
    ok(app.post_form(&ann, &save, &[("action", "save")]).await, "save");
    assert_eq!(view(&ann).await.attr(".save-button", "aria-pressed"), "true", "saved");
    ok(app.post_form(&ann, &save, &[("action", "unsave")]).await, "unsave");
    assert_eq!(view(&ann).await.attr(".save-button", "aria-pressed"), "false", "unsaved");
    // Saved by logging in elsewhere to save it: a request that was not yet hers.
    let elsewhere = app.new_client();
    let login = [("login", "ann"), ("password", crate::common::PASSWORD), ("save", SEED_SLUG)];
    ok(app.post_form(&elsewhere, "/login", &login).await, "login to save");
    assert_eq!(view(&ann).await.attr(".save-button", "aria-pressed"), "true", "saved by a login");
    ok(app.post_form(&ann, &save, &[("action", "unsave")]).await, "unsave");
    // The account, changed by moderators and admins: a ban (which ends her sessions),
    // a role.
    let ban = app.post_form(&mona, "/mod/users/ann/ban", &[("reason", "Trolling"), ("duration", "7d")]).await;
    ok(ban, "ban");
    assert_eq!(view(&ann).await.count(".whoami"), 0, "the ban ended her session");
    ok(app.post_form(&mona, "/mod/users/ann/unban", &[]).await, "unban");
    let (ann, login) = app.login("ann", crate::common::PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let page = view(&ann).await;
    assert_eq!(page.text(".whoami"), "ann");
    assert_eq!(page.count(&format!("#comment-{other} .vote")), 2, "her buttons are back");
    ok(app.post_form(&ada, "/admin/users/ann/role", &[("role", "moderator")]).await, "role");
    assert_eq!(view(&ann).await.count(".site-nav a[href='/mod/reports']"), 1, "a moderator now");
    ok(app.post_form(&ada, "/admin/users/ann/role", &[("role", "reader")]).await, "role");
    assert_eq!(view(&ann).await.count(".site-nav a[href='/mod/reports']"), 0, "a reader again");
    // Her session, ended elsewhere: another session of hers changes the password.
    let (elsewhere, login) = app.login("ann", crate::common::PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let changed = app
        .post_form(
            &elsewhere,
            "/settings/password",
            &[("current_password", crate::common::PASSWORD), ("new_password", "an entirely new passphrase")],
        )
        .await;
    ok(changed, "password");
    let page = view(&ann).await;
    assert_eq!(page.count(".whoami"), 0, "the other session ended");
    assert_eq!(view(&elsewhere).await.text(".whoami"), "ann", "the session that changed it stays");
}
