//! Comment writes racing each other: many pairs in flight at once (a reply to a
//! comment while a sibling reply is deleted, a report, vote, edit or removal while the
//! author deletes, a parent and its child deleted together) answer no 5xx (a 503 would
//! mean the lock order is wrong and the retry merely hid it), and the counters agree
//! with the rows afterwards.

use afterword::db::schema::{articles, comment_votes, comments};
use diesel::prelude::*;
use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{generated_articles, Backend, TestApp, SEED_SLUG};

both_backends!(
    replies_race_the_deletion_of_a_sibling,
    reports_votes_edits_and_removals_race_the_authors_delete,
    a_parent_and_its_child_deleted_at_once,
    posts_arriving_together_each_get_their_own_answer,
    a_post_whose_write_fails_fails_alone,
);

async fn start(backend: Backend) -> TestApp {
    TestApp::builder(backend)
        .with_seed_article()
        .configure(|c| {
            c.workers = 2;
            c.pool_size = 8;
            c.connections_per_address = 10_000;
        })
        .start()
        .await
}

/// A logged-in client and its CSRF token, for sending many forms without fetching a
/// token each time.
struct Author {
    client: reqwest::Client,
    token: String,
}

impl Author {
    async fn new(app: &TestApp, name: &str, role: &str) -> Author {
        let client = app.signup_as(name, role).await;
        let token = app.csrf_token(&client).await;
        Author { client, token }
    }

    async fn post(&self, app: &TestApp, path: String, fields: Vec<(&'static str, String)>) -> reqwest::Response {
        let mut form = fields;
        form.push(("csrf_token", self.token.clone()));
        self.client.post(app.url(&path)).form(&form).send().await.expect("request sent")
    }

    /// Posts a comment on the seed article (a reply when `parent` is set); returns its id.
    async fn comment(&self, app: &TestApp, body: String, parent: Option<i64>) -> i64 {
        let mut fields = vec![("body", body)];
        if let Some(parent) = parent {
            fields.push(("parent_id", parent.to_string()));
        }
        let response = self.post(app, format!("/articles/{SEED_SLUG}/comments"), fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "posting a comment");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        location.rsplit("#comment-").next().unwrap().parse().expect("the new comment's anchor")
    }

    /// Posts `count` comments at once (replies to `parents[i]` when given); returns their ids.
    async fn comments(&self, app: &TestApp, what: &str, parents: Option<&[i64]>, count: usize) -> Vec<i64> {
        join_all((0..count).map(|i| self.comment(app, format!("{what} {i}"), parents.map(|p| p[i])))).await
    }

    async fn delete(&self, app: &TestApp, id: i64) -> StatusCode {
        self.post(app, format!("/comments/{id}/delete"), vec![("confirm", "yes".to_owned())]).await.status()
    }
}

/// Sends all the requests at once; asserts that none answered 5xx.
async fn all_at_once(what: &str, requests: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = StatusCode> + '_>>>) {
    let statuses = join_all(requests).await;
    let failed: Vec<_> = statuses.iter().filter(|s| s.is_server_error()).collect();
    assert!(failed.is_empty(), "{what}: {} of {} requests answered 5xx: {failed:?}", failed.len(), statuses.len());
}

/// Each comment's `reply_count` is the number of its replies (placeholders of deleted
/// comments included, as they keep threads together), its vote counts are its votes,
/// and the article's `comment_count` is the number of its visible comments.
async fn assert_counters_consistent(app: &TestApp) {
    app.with_conn(|c| {
        let rows: Vec<(i64, Option<i64>, i32, i32, i32)> = comments::table
            .select((comments::id, comments::parent_id, comments::reply_count, comments::upvotes, comments::downvotes))
            .load(c)
            .unwrap();
        let votes: Vec<(i64, i32)> =
            comment_votes::table.select((comment_votes::comment_id, comment_votes::value)).load(c).unwrap();
        for (id, _, replies, up, down) in &rows {
            let children = rows.iter().filter(|r| r.1 == Some(*id)).count() as i32;
            assert_eq!(*replies, children, "reply_count of comment {id}");
            let count = |v: i32| votes.iter().filter(|(cid, value)| cid == id && *value == v).count() as i32;
            assert_eq!((*up, *down), (count(1), count(-1)), "vote counts of comment {id}");
        }
        assert!(votes.iter().all(|(cid, _)| rows.iter().any(|r| r.0 == *cid)), "no vote outlives its comment");
        let visible: i64 = comments::table.filter(comments::status.eq("visible")).count().get_result(c).unwrap();
        let counted: i32 =
            articles::table.filter(articles::slug.eq(SEED_SLUG)).select(articles::comment_count).first(c).unwrap();
        assert_eq!(i64::from(counted), visible, "the article's comment_count");
    })
    .await;
}

async fn replies_race_the_deletion_of_a_sibling(backend: Backend) {
    const PAIRS: usize = 200;
    let app = start(backend).await;
    let ann = Author::new(&app, "ann", "reader").await;
    let bob = Author::new(&app, "bob", "reader").await;
    let parents = ann.comments(&app, "Parent", None, PAIRS).await;
    let replies = ann.comments(&app, "First reply", Some(&parents), PAIRS).await;

    let mut requests: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = StatusCode> + '_>>> = Vec::new();
    for i in 0..PAIRS {
        let (reply, parent) = (replies[i], parents[i]);
        let ann = &ann;
        let bob = &bob;
        let app = &app;
        requests.push(Box::pin(async move { ann.delete(app, reply).await }));
        requests.push(Box::pin(async move {
            let fields = vec![("body", format!("Second reply {i}")), ("parent_id", parent.to_string())];
            bob.post(app, format!("/articles/{SEED_SLUG}/comments"), fields).await.status()
        }));
    }
    all_at_once("delete a reply / reply to its parent", requests).await;

    let (left, second): (i64, i64) = app
        .with_conn(|c| {
            let left =
                comments::table.filter(comments::body_source.like("First reply %")).count().get_result(c).unwrap();
            let second =
                comments::table.filter(comments::body_source.like("Second reply %")).count().get_result(c).unwrap();
            (left, second)
        })
        .await;
    assert_eq!((left, second), (0, PAIRS as i64), "every delete and every reply went through");
    assert_counters_consistent(&app).await;
}

async fn reports_votes_edits_and_removals_race_the_authors_delete(backend: Backend) {
    const EACH: usize = 25;
    let app = start(backend).await;
    let ann = Author::new(&app, "ann", "reader").await;
    let bob = Author::new(&app, "bob", "reader").await;
    let mo = Author::new(&app, "moe", "moderator").await;
    let parents = ann.comments(&app, "Parent", None, 4 * EACH).await;
    // Half of the targets have a reply, so that their delete leaves a placeholder and
    // the others' delete touches their parent.
    let targets = ann.comments(&app, "Target", Some(&parents), 4 * EACH).await;
    let _ = bob.comments(&app, "Under target", Some(&targets[..2 * EACH]), 2 * EACH).await;

    let mut requests: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = StatusCode> + '_>>> = Vec::new();
    for (i, &id) in targets.iter().enumerate() {
        let (ann, bob, mo, app) = (&ann, &bob, &mo, &app);
        requests.push(Box::pin(async move { ann.delete(app, id).await }));
        requests.push(match i % 4 {
            0 => Box::pin(async move {
                bob.post(app, format!("/comments/{id}/report"), vec![("reason", "spam".to_owned())]).await.status()
            }),
            1 => Box::pin(async move {
                bob.post(
                    app,
                    format!("/comments/{id}/vote"),
                    vec![("value", if i % 8 == 1 { "1" } else { "-1" }.to_owned())],
                )
                .await
                .status()
            }),
            2 => Box::pin(async move {
                ann.post(app, format!("/comments/{id}/edit"), vec![("body", format!("Edited {i}"))]).await.status()
            }),
            _ => Box::pin(async move {
                mo.post(app, format!("/mod/comments/{id}/remove"), vec![("reason", "Rule 1".to_owned())]).await.status()
            }),
        });
    }
    all_at_once("report / vote / edit / remove racing a delete", requests).await;
    assert_counters_consistent(&app).await;
}

async fn a_parent_and_its_child_deleted_at_once(backend: Backend) {
    const PAIRS: usize = 50;
    let app = start(backend).await;
    let ann = Author::new(&app, "ann", "reader").await;
    let parents = ann.comments(&app, "Parent", None, PAIRS).await;
    let children = ann.comments(&app, "Child", Some(&parents), PAIRS).await;
    // Every other child has a reply of its own: deleting it leaves a placeholder.
    let _ = ann
        .comments(&app, "Grandchild", Some(&children.iter().step_by(2).copied().collect::<Vec<_>>()), PAIRS / 2)
        .await;

    let mut requests: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = StatusCode> + '_>>> = Vec::new();
    for i in 0..PAIRS {
        let (parent, child, ann, app) = (parents[i], children[i], &ann, &app);
        requests.push(Box::pin(async move { ann.delete(app, parent).await }));
        requests.push(Box::pin(async move { ann.delete(app, child).await }));
    }
    all_at_once("delete a parent and its child", requests).await;

    let live_parents: i64 = app
        .with_conn(|c| {
            comments::table
                .filter(comments::body_source.like("Parent %"))
                .filter(comments::status.eq("visible"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(live_parents, 0, "every parent was deleted");
    assert_counters_consistent(&app).await;
}

/// Posts arriving together are written in one transaction, each in a savepoint of its
/// own: a refused post among them (its article closed, its parent deleted, its author
/// over the limit) gets its own answer and leaves nothing behind, and every other post
/// is stored once. Posts to three articles at once also take the batch's locks in one
/// order on PostgreSQL.
async fn posts_arriving_together_each_get_their_own_answer(backend: Backend) {
    let app = TestApp::builder(backend)
        .with_articles(generated_articles(3))
        .configure(|c| {
            c.workers = 2;
            c.pool_size = 8;
            c.connections_per_address = 10_000;
            c.rate_limits.new_account_comments_per_minute = 5;
        })
        .start()
        .await;
    let slugs: Vec<String> =
        app.with_conn(|c| articles::table.order(articles::id).select(articles::slug).load(c).unwrap()).await;
    let (open_a, open_b, closed) = (slugs[0].clone(), slugs[1].clone(), slugs[2].clone());
    let names = ["ann", "bob", "carl", "dan", "eve", "fay"];
    let mut authors = Vec::new();
    for name in names {
        authors.push(Author::new(&app, name, "reader").await);
    }
    let post = |who: usize, slug: &str, parent: Option<i64>, i: usize| {
        let mut fields = vec![("body", format!("Together {} {i}", names[who]))];
        if let Some(parent) = parent {
            fields.push(("parent_id", parent.to_string()));
        }
        let (author, app, path) = (&authors[who], &app, format!("/articles/{slug}/comments"));
        async move { (who, author.post(app, path, fields).await.status()) }
    };
    // A visible comment to reply to, and one deleted before the replies come.
    let kept = app.comment(&authors[5].client, &open_b, "A comment to reply to", None).await;
    let gone = app.comment(&authors[4].client, &open_a, "A comment deleted at once", None).await;
    assert_eq!(authors[4].delete(&app, gone).await, StatusCode::SEE_OTHER);
    let closing = closed.clone();
    app.with_conn(move |c| {
        diesel::update(articles::table.filter(articles::slug.eq(closing)))
            .set(articles::comments_locked.eq(true))
            .execute(c)
            .unwrap()
    })
    .await;

    let mut requests = Vec::new();
    for i in 0..5 {
        requests.push(Box::pin(post(0, &open_a, None, i)) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>);
        requests.push(Box::pin(post(1, &open_b, None, i)));
        requests.push(Box::pin(post(3, &closed, None, i)));
        requests.push(Box::pin(post(4, &open_a, Some(gone), i)));
        // fay posted once already: four more fit in her minute.
        if i < 4 {
            requests.push(Box::pin(post(5, &open_b, Some(kept), i)));
        }
    }
    for i in 0..12 {
        requests.push(Box::pin(post(2, if i % 2 == 0 { &open_a } else { &open_b }, None, i)));
    }
    let answers = join_all(requests).await;
    let count = |who: usize, status: StatusCode| answers.iter().filter(|(w, s)| *w == who && *s == status).count();
    assert_eq!(count(0, StatusCode::SEE_OTHER), 5, "ann's posts: {answers:?}");
    assert_eq!(count(1, StatusCode::SEE_OTHER), 5, "bob's posts: {answers:?}");
    assert_eq!(count(5, StatusCode::SEE_OTHER), 4, "fay's replies: {answers:?}");
    assert_eq!(
        (count(2, StatusCode::SEE_OTHER), count(2, StatusCode::TOO_MANY_REQUESTS)),
        (5, 7),
        "carl's twelve posts against a limit of five a minute: {answers:?}"
    );
    assert_eq!(count(3, StatusCode::FORBIDDEN), 5, "posts to a closed article: {answers:?}");
    assert_eq!(count(4, StatusCode::BAD_REQUEST), 5, "replies to a deleted comment: {answers:?}");

    let stored: Vec<String> = app
        .with_conn(|c| {
            comments::table
                .filter(comments::body_source.like("Together %"))
                .select(comments::body_source)
                .load(c)
                .unwrap()
        })
        .await;
    let by = |name: &str| stored.iter().filter(|b| b.starts_with(&format!("Together {name} "))).count();
    assert_eq!(stored.len(), 19, "every acknowledged post stored once, nothing else: {stored:?}");
    assert_eq!((by("ann"), by("bob"), by("carl"), by("fay")), (5, 5, 5, 4));
    let posts: i64 = app
        .with_conn(|c| {
            use afterword::db::schema::comment_posts;
            comment_posts::table.count().get_result(c).unwrap()
        })
        .await;
    assert_eq!(posts, 2 + 19, "a refused post gives its place within the limits back");
    let counts: Vec<(i32, i64)> = app
        .with_conn(|c| {
            let ids: Vec<(i64, i32)> =
                articles::table.order(articles::id).select((articles::id, articles::comment_count)).load(c).unwrap();
            ids.into_iter()
                .map(|(id, counted)| {
                    let visible: i64 = comments::table
                        .filter(comments::article_id.eq(id))
                        .filter(comments::status.eq("visible"))
                        .count()
                        .get_result(c)
                        .unwrap();
                    (counted, visible)
                })
                .collect()
        })
        .await;
    for (counted, visible) in counts {
        assert_eq!(i64::from(counted), visible, "each article's comment_count");
    }
    let replies: i32 =
        app.with_conn(move |c| comments::table.find(kept).select(comments::reply_count).first(c).unwrap()).await;
    assert_eq!(replies, 4, "the reply count of the comment replied to");
}

/// A post whose write the database refuses (here a trigger the test adds, standing for
/// any statement that fails) fails alone: the posts written in the same batch are
/// stored once each, with their root, their live event and the article's count.
async fn a_post_whose_write_fails_fails_alone(backend: Backend) {
    use afterword::db::schema::live_events;
    use diesel::connection::SimpleConnection;
    let app = start(backend).await;
    let sql = match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER refuse_explosions BEFORE INSERT ON comments \
             WHEN NEW.body_source LIKE '%Explode%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION refuse_explosions() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.body_source LIKE '%Explode%' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER refuse_explosions BEFORE INSERT ON comments \
             FOR EACH ROW EXECUTE FUNCTION refuse_explosions();"
        }
    };
    app.with_conn(move |c| c.batch_execute(sql).unwrap()).await;
    let mut authors = Vec::new();
    for name in ["ann", "bob", "cat", "dan"] {
        authors.push(Author::new(&app, name, "reader").await);
    }
    let requests = (0..40).map(|i| {
        let body = if i % 10 == 3 { format!("Explode {i}") } else { format!("Fine {i}") };
        let (author, app) = (&authors[i % 4], &app);
        async move {
            let status =
                author.post(app, format!("/articles/{SEED_SLUG}/comments"), vec![("body", body.clone())]).await;
            (body, status.status())
        }
    });
    let answers = join_all(requests).await;
    for (body, status) in &answers {
        if body.starts_with("Fine") {
            assert_eq!(*status, StatusCode::SEE_OTHER, "{body}: {answers:?}");
        } else {
            assert!(*status != StatusCode::SEE_OTHER, "{body} was refused by the database: {answers:?}");
        }
    }
    let stored: Vec<(i64, i64, String)> = app
        .with_conn(|c| {
            comments::table
                .order(comments::id)
                .select((comments::id, comments::root_id, comments::body_source))
                .load(c)
                .unwrap()
        })
        .await;
    let mut bodies: Vec<&str> = stored.iter().map(|(_, _, b)| b.as_str()).collect();
    bodies.sort_unstable();
    let mut expected: Vec<String> = (0..40).filter(|i| i % 10 != 3).map(|i| format!("Fine {i}")).collect();
    expected.sort_unstable();
    assert_eq!(bodies, expected, "every accepted post stored once, no refused one");
    for (id, root, body) in &stored {
        assert_eq!(id, root, "{body}: a top-level comment is its own root");
    }
    let events: i64 = app.with_conn(|c| live_events::table.count().get_result(c).unwrap()).await;
    assert_eq!(events, 36, "one live event per stored comment");
    assert_counters_consistent(&app).await;
}
