//! Several instances of the site on one database, as behind a load balancer: what must
//! agree (lockouts, sessions, comment limits) holds whichever instance a request
//! reaches, and instances start together, or beside one that serves, without a race.

use afterword::auth::ratelimit::RateLimitConfig;
use afterword::db::connection::{with_startup_lock, ConnectionManager, DbError};
use afterword::db::schema::{articles, comment_posts, comments, settings, users};
use afterword::db::DbUrl;
use afterword::{App, Config};
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{generated_articles, Backend, TestApp, TestDb, PASSWORD, SEED_SLUG};

both_backends!(
    a_lockout_on_one_instance_holds_on_the_other,
    a_ban_on_one_instance_ends_the_session_on_the_other,
    what_an_instance_keeps_of_a_reader_follows_changes_through_the_other,
    comment_limits_hold_across_instances,
    posts_at_once_through_two_instances_stay_within_the_limit,
    two_instances_start_together_on_an_empty_database,
    a_new_instance_is_not_ready_until_it_has_migrated_while_the_old_one_serves,
);

/// Ten wrong passwords for one account from one network lock that network out: five
/// through each instance are enough, and the lockout holds on both.
async fn a_lockout_on_one_instance_holds_on_the_other(backend: Backend) {
    let a = TestApp::builder(backend)
        .configure(|c| {
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            c.rate_limits = RateLimitConfig { logins_per_account: 10, ..RateLimitConfig::off() };
        })
        .start()
        .await;
    let b = a.second_instance().await;
    a.signup("ann").await;
    const ATTACKER: &str = "203.0.113.9";
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        let status = app.login_from(ATTACKER, "ann", "wrong guess").await.status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for (name, app) in [("A", &a), ("B", &b)] {
        let refused = app.login_from(ATTACKER, "ann", PASSWORD).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "the right password on {name}");
        let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=15 * 60).contains(&retry), "Retry-After {retry} on {name}");
        assert!(refused.text().await.unwrap().contains("Too many wrong passwords from your network"));
    }
    // Other networks, the owner's among them, still log in, through either instance.
    assert_eq!(b.login_from("198.51.100.3", "ann", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(a.login_from("198.51.100.4", "ann", PASSWORD).await.status(), StatusCode::SEE_OTHER);
}

/// A session made through A works on B; a ban through A ends it on B at once.
async fn a_ban_on_one_instance_ends_the_session_on_the_other(backend: Backend) {
    let a = TestApp::builder(backend).with_seed_article().start().await;
    let b = a.second_instance().await;
    let ann = a.signup("ann").await;
    let moe = a.signup_as("moe", "moderator").await;
    assert_eq!(b.page_as(&ann, "/settings").await.0, StatusCode::OK, "B knows A's session");
    b.comment(&ann, SEED_SLUG, "Posted through B", None).await;

    let ban = a.post_form(&moe, "/mod/users/ann/ban", &[("reason", "Trolling"), ("duration", "7d")]).await;
    assert_eq!(ban.status(), StatusCode::SEE_OTHER);

    let (status, _) = b.page_as(&ann, "/settings").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "B no longer knows the session");
    let refused = b.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "Still here?")]).await;
    let location = refused.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(location.starts_with("/login"), "{} {location}", refused.status());
    let count: i64 = b.with_conn(|c| comments::table.count().get_result(c).unwrap()).await;
    assert_eq!(count, 1, "nothing was posted after the ban");
}

/// An instance keeps what it read of a signed-in reader (account, unread count, own
/// votes and saved state); a change through the other instance shows on its very next
/// view.
async fn what_an_instance_keeps_of_a_reader_follows_changes_through_the_other(backend: Backend) {
    use crate::common::html::Page;
    let a = TestApp::builder(backend).with_seed_article().start().await;
    let b = a.second_instance().await;
    let ann = a.signup("ann").await;
    let bob = a.signup("bob").await;
    let article = format!("/articles/{SEED_SLUG}");
    let first = a.comment(&ann, SEED_SLUG, "Ann's comment", None).await;
    let other = a.comment(&bob, SEED_SLUG, "Bob's comment", None).await;
    // Each view twice: the second from what B keeps.
    let view = |client: &reqwest::Client| {
        let (b, client, article) = (&b, client.clone(), article.clone());
        async move {
            let (status, _) = b.page_as(&client, &article).await;
            assert_eq!(status, StatusCode::OK);
            let (status, body) = b.page_as(&client, &article).await;
            assert_eq!(status, StatusCode::OK);
            Page::parse(&body)
        }
    };
    let page = view(&ann).await;
    assert_eq!(page.text(".whoami"), "ann");
    assert_eq!(page.count(".inbox-link .badge"), 0);
    a.comment(&bob, SEED_SLUG, "A reply through A", Some(first)).await;
    assert_eq!(view(&ann).await.texts(".inbox-link .badge").concat(), "1 unread", "a reply through A");
    a.vote(&ann, other, 1).await;
    assert_eq!(view(&ann).await.attr(&format!("#comment-{other} .vote.up"), "aria-pressed"), "true", "a vote");
    let saved = a.post_form(&ann, &format!("/articles/{SEED_SLUG}/save"), &[("action", "save")]).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(view(&ann).await.attr(".save-button", "aria-pressed"), "true", "saved through A");
    // Another session of hers ends this one, through A.
    let (elsewhere, login) = a.login("ann", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let ended = a.post_form(&elsewhere, "/settings/sessions", &[]).await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert_eq!(view(&ann).await.count(".whoami"), 0, "the session ended through A");
}

/// Three comments a minute and four a day: posts through A and B count together,
/// deleting a comment does not give its post back, and the refusal says how long to
/// wait.
async fn comment_limits_hold_across_instances(backend: Backend) {
    let limits = RateLimitConfig {
        comments_per_minute: 3,
        comments_per_day: 4,
        new_account_comments_per_minute: 3,
        new_account_comments_per_day: 4,
        ..RateLimitConfig::off()
    };
    let a = TestApp::builder(backend).with_seed_article().configure(|c| c.rate_limits = limits).start().await;
    let b = a.second_instance().await;
    let ann = a.signup("ann").await;
    let path = format!("/articles/{SEED_SLUG}/comments");

    let first = a.comment(&ann, SEED_SLUG, "one", None).await;
    b.comment(&ann, SEED_SLUG, "two", None).await;
    a.comment(&ann, SEED_SLUG, "three", None).await;
    for (name, app) in [("B", &b), ("A", &a)] {
        let refused = app.post_form(&ann, &path, &[("body", "four")]).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "a fourth within the minute on {name}");
        let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry} on {name}");
    }
    // Another account is not limited by ann's posts.
    let bob = b.signup("bob").await;
    b.comment(&bob, SEED_SLUG, "bob's", None).await;

    // Deleting a comment does not give its post back.
    assert_eq!(
        a.post_form(&ann, &format!("/comments/{first}/delete"), &[("confirm", "yes")]).await.status(),
        StatusCode::SEE_OTHER
    );
    let refused = b.post_form(&ann, &path, &[("body", "four")]).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "still three within the minute");

    // Two minutes later the minute's limit has room, the day's one more.
    let ann_id = a.with_conn_blocking_user_id("ann");
    let earlier = afterword::db::now() - time::Duration::minutes(2);
    a.with_conn(move |c| {
        diesel::update(comment_posts::table.filter(comment_posts::user_id.eq(ann_id)))
            .set(comment_posts::posted_at.eq(earlier))
            .execute(c)
            .unwrap()
    })
    .await;
    b.comment(&ann, SEED_SLUG, "four", None).await;
    let refused = a.post_form(&ann, &path, &[("body", "five")]).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "a fifth within the day");
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((23 * 3600..=24 * 3600).contains(&retry), "Retry-After {retry}: until the oldest post is a day old");
    // A refused post stores nothing, and counts for nothing.
    let (posts, theirs): (i64, i64) = a
        .with_conn(move |c| {
            let posts = comment_posts::table.filter(comment_posts::user_id.eq(ann_id)).count().get_result(c).unwrap();
            let theirs = comments::table.filter(comments::author_id.eq(ann_id)).count().get_result(c).unwrap();
            (posts, theirs)
        })
        .await;
    assert_eq!((posts, theirs), (4, 3));
}

/// Eight posts by one account at once, through two instances and on two articles, with
/// a limit of three a minute: exactly three get through.
async fn posts_at_once_through_two_instances_stay_within_the_limit(backend: Backend) {
    let limits =
        RateLimitConfig { comments_per_minute: 3, new_account_comments_per_minute: 3, ..RateLimitConfig::off() };
    let a = TestApp::builder(backend)
        .with_articles(generated_articles(2))
        .configure(|c| c.rate_limits = limits)
        .start()
        .await;
    let b = a.second_instance().await;
    let ann = a.signup("ann").await;
    let slugs: Vec<String> =
        a.with_conn(|c| articles::table.select(articles::slug).order(articles::id).load(c).unwrap()).await;
    assert_eq!(slugs.len(), 2);
    let token = a.csrf_token(&ann).await;
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..8 {
        let app = if i % 2 == 0 { &a } else { &b };
        let url = app.url(&format!("/articles/{}/comments", slugs[i / 2 % 2]));
        let (client, token) = (ann.clone(), token.clone());
        posts.spawn(async move {
            let body = format!("at once {i}");
            let form = [("body", body.as_str()), ("csrf_token", token.as_str())];
            client.post(url).form(&form).send().await.unwrap().status()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = posts.join_next().await {
        statuses.push(status.unwrap());
    }
    let passed = statuses.iter().filter(|s| **s == StatusCode::SEE_OTHER).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((passed, refused), (3, 5), "{statuses:?}");
    let stored: i64 = a.with_conn(|c| comments::table.count().get_result(c).unwrap()).await;
    assert_eq!(stored, 3);
}

/// Two instances start at the same moment on a database without tables: both migrate
/// and seed under the start-up lock (one does the work, the other finds it done), both
/// serve, and they share one CSRF key.
async fn two_instances_start_together_on_an_empty_database(backend: Backend) {
    let db = TestDb::new(backend);
    let (a, b) = tokio::join!(
        TestApp::builder(backend).demo().start_on(db.clone()),
        TestApp::builder(backend).demo().start_on(db.clone()),
    );
    for app in [&a, &b] {
        let (status, body) = app.page("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("Meta (again) denies"), "the demo articles are served");
        assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    }
    let demo = afterword::import::parse(afterword::demo::ARTICLES_JSON.as_bytes()).unwrap();
    let (count, keys): (i64, i64) = a
        .with_conn(|c| {
            let count = articles::table.count().get_result(c).unwrap();
            let keys = settings::table.filter(settings::key.eq("csrf_key")).count().get_result(c).unwrap();
            (count, keys)
        })
        .await;
    assert_eq!((count, keys), (demo.len() as i64, 1), "the demo articles once, one key");
    // A form served by A is accepted by B: the key is the same.
    let client = a.new_client();
    let token = a.csrf_token(&client).await;
    let form = [("username", "ann"), ("email", "ann@example.com"), ("password", PASSWORD), ("csrf_token", &token)];
    let response = client.post(b.url("/signup")).header("origin", &b.address).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let accounts: i64 = b.with_conn(|c| users::table.count().get_result(c).unwrap()).await;
    assert_eq!(accounts, 1);
}

/// A rolling upgrade: while the old instance serves, a new one starts on the same
/// database. Until it has migrated (here: while another process holds the start-up
/// lock, as one does while migrating) its address answers, but as not ready: `/readyz`
/// 503, `/healthz` 200 `starting`, pages 503 with `Retry-After`. Then it serves.
async fn a_new_instance_is_not_ready_until_it_has_migrated_while_the_old_one_serves(backend: Backend) {
    let old = TestApp::builder(backend).with_seed_article().start().await;
    // Another process takes the start-up lock and holds it.
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let url = old.db.url.clone();
    let holder = std::thread::spawn(move || {
        let manager = ConnectionManager::new(DbUrl::parse(&url).unwrap()).unwrap();
        with_startup_lock(&manager, |_| {
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Ok::<(), DbError>(())
        })
        .unwrap();
    });
    locked_rx.await.unwrap();

    let mut config = Config::new(old.db.url.clone());
    config.bind = "127.0.0.1:0".to_owned();
    config.workers = 1;
    config.pool_size = 2;
    config.rate_limits = RateLimitConfig::off();
    let starting = App::bind(config).await.expect("the new instance binds");
    let new_address = format!("http://127.0.0.1:{}", starting.port());
    let ready = tokio::spawn(starting.ready());

    // One connection per request: the stand-in closes each.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    let get = |path: &str, json: bool| {
        let mut request = client.get(format!("{new_address}{path}"));
        if json {
            request = request.header("accept", "application/json");
        }
        request.send()
    };
    let readyz = get("/readyz", false).await.unwrap();
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(readyz.text().await.unwrap(), "starting\n");
    let healthz = get("/healthz", false).await.unwrap();
    assert_eq!((healthz.status(), healthz.text().await.unwrap()), (StatusCode::OK, "starting\n".to_owned()));
    let page = get(&format!("/articles/{SEED_SLUG}"), false).await.unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.headers()["retry-after"], "1");
    let json = get("/", true).await.unwrap();
    assert_eq!(json.status(), StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = json.json().await.unwrap();
    assert_eq!(json["code"], "unavailable");
    // The old instance serves meanwhile.
    assert_eq!(old.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(old.page(&format!("/articles/{SEED_SLUG}")).await.0, StatusCode::OK);
    assert!(!ready.is_finished(), "the new instance waits for the lock");

    release_tx.send(()).unwrap();
    let new = ready.await.unwrap().expect("the new instance starts");
    let handle = new.handle();
    tokio::spawn(new.run_until_stopped());
    let readyz = get("/readyz", false).await.unwrap();
    assert_eq!((readyz.status(), readyz.text().await.unwrap()), (StatusCode::OK, "ready\n".to_owned()));
    let (status, body) = {
        let r = get(&format!("/articles/{SEED_SLUG}"), false).await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Meta (again) denies"));
    handle.stop(false).await;
    holder.join().unwrap();
}
