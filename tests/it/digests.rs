//! Email digests: readers opt in on the settings page; a run sends each due reader the
//! replies to them and the new top-level comments on the articles they saved, grouped
//! by article, with a one-click unsubscribe; the instance holding the lease sends, and a
//! crash never sends a digest twice.

use afterword::db::outbox::Message;
use afterword::db::schema::{articles, digest_subscriptions, leases, outbox, settings};
use afterword::mail::Mailer;
use afterword::service::digests::{run_due, Report, Run, Site};
use diesel::prelude::*;
use reqwest::StatusCode;
use time::PrimitiveDateTime;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{generated_articles, Backend, TestApp, SEED_SLUG};

both_backends!(
    the_digest_is_off_by_default_and_readers_opt_in,
    a_digest_groups_the_news_by_article,
    nothing_new_sends_nothing_and_unconfirmed_addresses_get_nothing,
    unsubscribing_by_the_link_and_by_one_click_post,
    two_instances_running_at_once_send_each_digest_once,
    the_server_sends_due_digests_on_its_schedule_once,
    a_crash_mid_batch_does_not_resend,
    operators_send_due_digests_from_the_command_line,
    with_smtp_a_digest_is_sent_once_as_multipart_with_its_headers,
);

fn later(days: i64) -> PrimitiveDateTime {
    afterword::db::now() + time::Duration::days(days)
}

/// The site as the digests see it: the app's public address and its key.
async fn site(app: &TestApp) -> Site {
    let key: String =
        app.with_conn(|c| settings::table.find("csrf_key").select(settings::value).first(c).unwrap()).await;
    Site { base_url: app.config.base_url.clone(), key: afterword::auth::csrf::CsrfKey::new(key.into_bytes()) }
}

/// One run of the digests at `now` as `holder`, through the app's pool, as the server's
/// schedule and `afterword send-digests` run it.
async fn run(app: &TestApp, now: PrimitiveDateTime, holder: &str, fail_after: Option<usize>) -> anyhow::Result<Report> {
    let (pool, site, run) = (app.pool.clone(), site(app).await, Run { now, holder: holder.to_owned(), fail_after });
    tokio::task::spawn_blocking(move || run_due(&pool, &Mailer::Outbox, &site, &run)).await.unwrap()
}

/// The digests in the outbox, oldest first.
async fn digests(app: &TestApp) -> Vec<Message> {
    let mut all = app.with_conn(|c| afterword::db::outbox::list(c, 0, 1000).unwrap()).await;
    all.reverse();
    all.retain(|m| m.subject.contains("digest"));
    all
}

fn link_in(body: &str, path: &str) -> String {
    let start = body.find(path).unwrap_or_else(|| panic!("no {path} link in {body}"));
    body[start..].split_whitespace().next().unwrap().to_owned()
}

/// Signs up `name` and confirms the address the way a reader does.
async fn confirmed(app: &TestApp, name: &str) -> reqwest::Client {
    let client = app.signup(name).await;
    assert_eq!(app.post_form(&client, "/settings/verify-email", &[]).await.status(), StatusCode::SEE_OTHER);
    let outbox = app.outbox().await;
    let mail = outbox.iter().rev().find(|m| m.0 == format!("{name}@example.com")).expect("a confirmation mail");
    let link = link_in(&mail.2, "/verify-email/");
    let path = link.trim_start_matches(app.config.base_url.as_str().trim_end_matches('/')).to_owned();
    assert_eq!(app.post_form(&client, &path, &[]).await.status(), StatusCode::OK);
    client
}

async fn choose(app: &TestApp, client: &reqwest::Client, choice: &str) -> reqwest::Response {
    app.post_form(client, "/settings/digest", &[("digest", choice)]).await
}

async fn save(app: &TestApp, client: &reqwest::Client, slug: &str) {
    let r = app.post_form(client, &format!("/articles/{slug}/save"), &[("action", "save"), ("return_to", "/")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn subscriptions(app: &TestApp) -> Vec<(i64, String)> {
    app.with_conn(|c| {
        digest_subscriptions::table
            .order(digest_subscriptions::user_id)
            .select((digest_subscriptions::user_id, digest_subscriptions::frequency))
            .load(c)
            .unwrap()
    })
    .await
}

async fn slugs(app: &TestApp) -> Vec<String> {
    app.with_conn(|c| articles::table.order(articles::id).select(articles::slug).load(c).unwrap()).await
}

/// The unsubscribe path (`/digest/unsubscribe/TOKEN`) of a digest, from its header.
fn unsubscribe_path(app: &TestApp, digest: &Message) -> String {
    let header = digest.headers.lines().find(|l| l.starts_with("List-Unsubscribe: ")).expect("the header");
    let url = header.trim_start_matches("List-Unsubscribe: <").trim_end_matches('>');
    url.trim_start_matches(app.config.base_url.as_str().trim_end_matches('/')).to_owned()
}

async fn the_digest_is_off_by_default_and_readers_opt_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let (status, body) = app.page_as(&ann, "/settings").await;
    assert_eq!(status, StatusCode::OK);
    let page = Page::parse(&body);
    assert_eq!(page.attr("select[name=digest] option[selected]", "value"), "off", "off by default");
    assert!(page.text("#digest-heading + p + p").contains("not confirmed"), "the page says nothing is sent yet");

    // Choosing: daily, then weekly; a value that is no choice is refused, changing nothing.
    assert_eq!(choose(&app, &ann, "daily").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(choose(&app, &ann, "weekly").await.status(), StatusCode::SEE_OTHER);
    let refused = choose(&app, &ann, "hourly").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = Page::parse(&refused.text().await.unwrap());
    assert_eq!(page.text("#field-digest-error"), "Choose off, daily or weekly.");
    let ann_id = app.with_conn_blocking_user_id("ann");
    assert_eq!(subscriptions(&app).await, vec![(ann_id, "weekly".to_owned())], "only Ann's, and weekly");
    let page = Page::parse(&app.page_as(&ann, "/settings").await.1);
    assert_eq!(page.attr("select[name=digest] option[selected]", "value"), "weekly");
    let page = Page::parse(&app.page_as(&bob, "/settings").await.1);
    assert_eq!(page.attr("select[name=digest] option[selected]", "value"), "off", "Bob's is his own");

    // A forged form (no CSRF token) changes nothing; nor does a visitor who is not logged in.
    let forged = ann.post(app.url("/settings/digest")).form(&[("digest", "off")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let anonymous = app.new_client();
    let r = app.post_form(&anonymous, "/settings/digest", &[("digest", "off")]).await;
    assert!(r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::UNAUTHORIZED, "{}", r.status());
    assert_eq!(subscriptions(&app).await.len(), 1);

    // Off removes it.
    assert_eq!(choose(&app, &ann, "off").await.status(), StatusCode::SEE_OTHER);
    assert!(subscriptions(&app).await.is_empty());

    // Several choices at once: every one answered, one row, one of the choices.
    let token = app.csrf_token(&bob).await;
    let sends = ["daily", "weekly", "daily", "weekly", "daily", "weekly"].map(|choice| {
        let request = bob.post(app.url("/settings/digest")).form(&[("digest", choice), ("csrf_token", token.as_str())]);
        async move { request.send().await.unwrap().status() }
    });
    for status in futures_util::future::join_all(sends).await {
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let rows = subscriptions(&app).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1 == "daily" || rows[0].1 == "weekly");
}

async fn a_digest_groups_the_news_by_article(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().with_articles(generated_articles(2)).start().await;
    let all = slugs(&app).await;
    let (first, second, unsaved) = (&all[0], &all[1], &all[2]);
    let ann = confirmed(&app, "ann").await;
    let bob = app.signup("bob").await;
    let cat = app.signup("cat").await;
    assert_eq!(choose(&app, &ann, "daily").await.status(), StatusCode::SEE_OTHER);
    save(&app, &ann, first).await;
    save(&app, &ann, second).await;

    // On an article Ann did not save: her comment, Bob's reply to it (news), and Cat's
    // top-level comment (not news: not saved).
    let ann_there = app.comment(&ann, unsaved, "Ann on the unsaved article", None).await;
    let reply = app.comment(&bob, unsaved, "Bob replies to Ann: 1 < 2 & 3 > 2", Some(ann_there)).await;
    app.comment(&cat, unsaved, "Cat on the unsaved article", None).await;
    // On the first saved article: seven top-level comments by Cat (five shown), Ann's own
    // (not news), a deleted one (not news), and a reply to Cat (not to Ann: not news).
    let mut cats = Vec::new();
    for i in 1..=7 {
        cats.push(app.comment(&cat, first, &format!("Cat's comment number {i} with **bold** words"), None).await);
    }
    app.comment(&ann, first, "Ann's own top-level comment", None).await;
    let gone = app.comment(&bob, first, "Bob says something he takes back", None).await;
    let r = app.post_form(&bob, &format!("/comments/{gone}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.comment(&bob, first, "Bob replies to Cat", Some(cats[0])).await;
    // On the second saved article: one by Bob, with a long body.
    let long = format!("Bob on the second article. {}", "word ".repeat(200));
    let bobs = app.comment(&bob, second, &long, None).await;

    let report = run(&app, later(2), "test", None).await.unwrap();
    assert_eq!((report.leased, report.sent, report.nothing_new), (true, 1, 0), "{report:?}");
    let sent = digests(&app).await;
    assert_eq!(sent.len(), 1);
    let digest = &sent[0];
    assert_eq!(digest.recipient, "ann@example.com");
    assert_eq!(digest.subject, "Your daily Afterword digest: 9 new comments");
    let text = &digest.body;
    let base = app.config.base_url.as_str().trim_end_matches('/');
    // Grouped by article, the busiest first, each with its link.
    let title = |slug: &str| {
        let slug = slug.to_owned();
        app.with_conn(move |c| {
            articles::table.filter(articles::slug.eq(slug)).select(articles::title).first::<String>(c).unwrap()
        })
    };
    let (t_first, t_second, t_unsaved) = (title(first).await, title(second).await, title(unsaved).await);
    crate::common::html::assert_in_order(
        text,
        &[
            &format!("== {t_first} ==\n{base}/articles/{first}"),
            &format!("== {t_unsaved} ==\n{base}/articles/{unsaved}"),
            &format!("== {t_second} ==\n{base}/articles/{second}"),
        ],
    );
    for i in 1..=5 {
        assert!(text.contains(&format!("cat commented:\n  Cat's comment number {i} with bold words")), "{text}");
        assert!(text.contains(&format!("{base}/comments/{}", cats[i - 1])));
    }
    assert!(!text.contains("number 6"), "five comments an article");
    assert!(text.contains(&format!("… and 2 more comments: {base}/articles/{first}")), "{text}");
    assert!(text.contains("bob replied to you:\n  Bob replies to Ann: 1 < 2 & 3 > 2"), "{text}");
    assert!(text.contains(&format!("{base}/comments/{reply}")));
    assert!(text.contains(&format!("{base}/comments/{bobs}")));
    for not_news in ["Ann's own", "takes back", "Bob replies to Cat", "Cat on the unsaved", "Ann on the unsaved"] {
        assert!(!text.contains(not_news), "{not_news} is not news: {text}");
    }
    // A bounded excerpt, cut at a word.
    let excerpt = text.lines().find(|l| l.contains("Bob on the second article")).unwrap().trim();
    assert!(excerpt.chars().count() <= 200 && excerpt.ends_with('…'), "{excerpt}");

    // The HTML part says the same, escaped; the headers offer the one-click unsubscribe.
    let html = digest.html_body.as_deref().expect("an HTML part");
    assert!(html.contains("Bob replies to Ann: 1 &lt; 2 &amp; 3 &gt; 2"), "escaped: {html}");
    assert!(html.contains(&format!("href=\"{base}/comments/{reply}\"")));
    let path = unsubscribe_path(&app, digest);
    assert!(path.starts_with("/digest/unsubscribe/"), "{path}");
    assert!(digest.headers.contains(&format!("List-Unsubscribe: <{base}{path}>\n")), "{}", digest.headers);
    assert!(digest.headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"));
    assert!(text.contains(&format!("Unsubscribe with one click: {base}{path}")), "and the text has the link");

    // The next day nothing is new: nothing is sent.
    let report = run(&app, later(4), "test", None).await.unwrap();
    assert_eq!((report.sent, report.nothing_new), (0, 1));
    assert_eq!(digests(&app).await.len(), 1);
}

async fn nothing_new_sends_nothing_and_unconfirmed_addresses_get_nothing(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = confirmed(&app, "ann").await;
    let bob = app.signup("bob").await;
    assert_eq!(choose(&app, &ann, "weekly").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(choose(&app, &bob, "daily").await.status(), StatusCode::SEE_OTHER);

    // Not due yet: nothing at all.
    let report = run(&app, later(0), "test", None).await.unwrap();
    assert_eq!((report.sent, report.nothing_new, report.unconfirmed), (0, 0, 0));

    // Bob's address is not confirmed: a reply to him is not mailed. Ann has nothing new.
    let bobs = app.comment(&bob, SEED_SLUG, "Bob's comment", None).await;
    app.comment(&ann, SEED_SLUG, "Ann replies to Bob", Some(bobs)).await;
    let report = run(&app, later(8), "test", None).await.unwrap();
    assert_eq!((report.sent, report.nothing_new, report.unconfirmed), (0, 1, 1), "{report:?}");
    assert!(digests(&app).await.is_empty());
    // Neither is due again before its next period.
    let report = run(&app, later(8), "test", None).await.unwrap();
    assert_eq!((report.sent, report.nothing_new, report.unconfirmed), (0, 0, 0), "{report:?}");
    assert!(digests(&app).await.is_empty());
}

async fn unsubscribing_by_the_link_and_by_one_click_post(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = confirmed(&app, "ann").await;
    let bob = confirmed(&app, "bob").await;
    for client in [&ann, &bob] {
        assert_eq!(choose(&app, client, "daily").await.status(), StatusCode::SEE_OTHER);
        save(&app, client, SEED_SLUG).await;
    }
    let cat = app.signup("cat").await;
    app.comment(&cat, SEED_SLUG, "Cat starts a thread", None).await;
    assert_eq!(run(&app, later(2), "test", None).await.unwrap().sent, 2);
    let sent = digests(&app).await;
    let path_of = |to: &str| unsubscribe_path(&app, sent.iter().find(|m| m.recipient == to).unwrap());
    let (ann_path, bob_path) = (path_of("ann@example.com"), path_of("bob@example.com"));
    assert_ne!(ann_path, bob_path);

    // A mail client's request: no cookie, no Origin, no CSRF token.
    let mail_client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // Opening the link asks, and changes nothing.
    let r = mail_client.get(app.url(&ann_path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = Page::parse(&r.text().await.unwrap());
    assert!(page.text("h1").contains("Unsubscribe"));
    assert!(page.text(".auth-card").contains("ann"));
    assert_eq!(page.attr("form", "action"), ann_path);
    assert_eq!(subscriptions(&app).await.len(), 2, "GET changes nothing");

    // Not genuine: 404, nothing changed: a made-up token, another reader's id with Ann's
    // signature, a token cut short.
    let (ann_id, bob_id) = (app.with_conn_blocking_user_id("ann"), app.with_conn_blocking_user_id("bob"));
    let forged = ann_path.replace(&format!("/{ann_id}."), &format!("/{bob_id}."));
    let one_click = [("List-Unsubscribe", "One-Click")];
    for bad in ["/digest/unsubscribe/1.AAAA", forged.as_str(), &ann_path[..ann_path.len() - 3]] {
        assert_eq!(mail_client.get(app.url(bad)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{bad}");
        let r = mail_client.post(app.url(bad)).form(&one_click).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    // Without the one-click body: refused with the reason.
    let r = mail_client.post(app.url(&ann_path)).form(&[("other", "x")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("List-Unsubscribe=One-Click"));
    assert_eq!(subscriptions(&app).await.len(), 2);

    // The RFC 8058 POST unsubscribes at once.
    let r = mail_client.post(app.url(&ann_path)).form(&one_click).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(subscriptions(&app).await, vec![(bob_id, "daily".to_owned())]);
    let page = Page::parse(&mail_client.get(app.url(&ann_path)).send().await.unwrap().text().await.unwrap());
    assert!(page.text("[role=status]").contains("No digest is sent"), "the link says so now");
    assert_eq!(page.count("form[action^='/digest/']"), 0);
    // Twice: the same answer.
    let r = mail_client.post(app.url(&ann_path)).form(&one_click).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&ann, "/settings").await.1);
    assert_eq!(page.attr("select[name=digest] option[selected]", "value"), "off");

    // Some mail clients post multipart/form-data: Bob's works too.
    let form = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let r = mail_client.post(app.url(&bob_path)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(subscriptions(&app).await.is_empty());

    // The page's own button (a form without JavaScript) does the same, logged in or not.
    assert_eq!(choose(&app, &ann, "weekly").await.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&ann, &ann_path).await.1);
    let button = "form[action^='/digest/'] input[type=hidden]";
    let field = (page.attr(button, "name"), page.attr(button, "value"));
    let r = ann.post(app.url(&ann_path)).form(&[(field.0.as_str(), field.1.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(subscriptions(&app).await.is_empty());
    // Nothing else was sent meanwhile.
    assert_eq!(digests(&app).await.len(), 2);
}

/// Readers `names`, confirmed, each with a daily digest and news on a saved article.
async fn readers_with_news(app: &TestApp, names: &[&str]) {
    for name in names {
        let client = confirmed(app, name).await;
        assert_eq!(choose(app, &client, "daily").await.status(), StatusCode::SEE_OTHER);
        save(app, &client, SEED_SLUG).await;
    }
    let writer = app.signup("writer").await;
    app.comment(&writer, SEED_SLUG, "News for everyone", None).await;
}

/// Each address gets exactly one digest.
fn assert_once_each(sent: &[Message], names: &[&str]) {
    let mut recipients: Vec<&str> = sent.iter().map(|m| m.recipient.as_str()).collect();
    recipients.sort_unstable();
    let mut expected: Vec<String> = names.iter().map(|n| format!("{n}@example.com")).collect();
    expected.sort_unstable();
    assert_eq!(recipients, expected.iter().map(String::as_str).collect::<Vec<_>>());
}

async fn two_instances_running_at_once_send_each_digest_once(backend: Backend) {
    let a = TestApp::builder(backend).with_seed_article().start().await;
    let b = a.second_instance().await;
    let names = ["ann", "bob", "cat", "dan", "eve", "fay"];
    readers_with_news(&a, &names).await;
    let now = later(2);
    // Both instances, several times each, at once.
    let mut runs = Vec::new();
    for i in 0..3 {
        for (app, name) in [(&a, "a"), (&b, "b")] {
            let (pool, site, run) =
                (app.pool.clone(), site(app).await, Run { now, holder: format!("{name}{i}"), fail_after: None });
            runs.push(tokio::task::spawn_blocking(move || run_due(&pool, &Mailer::Outbox, &site, &run)));
        }
    }
    let mut sent = 0;
    for r in runs {
        sent += r.await.unwrap().expect("a run succeeds or leaves it to the lease holder").sent;
    }
    assert_eq!(sent, names.len());
    assert_once_each(&digests(&a).await, &names);
    // The lease was given back.
    let holder: Option<String> =
        a.with_conn(|c| leases::table.find("digests").select(leases::holder).first(c).unwrap()).await;
    assert_eq!(holder, None);
}

async fn the_server_sends_due_digests_on_its_schedule_once(backend: Backend) {
    let fast = |c: &mut afterword::Config| c.digest_interval = Some(std::time::Duration::from_millis(50));
    let a = TestApp::builder(backend).with_seed_article().configure(fast).start().await;
    let b = a.second_instance_with(fast).await;
    let names = ["ann", "bob", "cat"];
    readers_with_news(&a, &names).await;
    make_due(&a).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while digests(&a).await.len() < names.len() {
        assert!(std::time::Instant::now() < deadline, "the schedule sent {:?}", digests(&a).await.len());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Many more ticks of both instances: nothing more.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_once_each(&digests(&b).await, &names);
}

/// A day passes, as far as the digests know: every digest is due now.
async fn make_due(app: &TestApp) {
    app.with_conn(|c| {
        let day = time::Duration::days(1);
        let rows: Vec<(i64, PrimitiveDateTime, PrimitiveDateTime)> = digest_subscriptions::table
            .select((digest_subscriptions::user_id, digest_subscriptions::since, digest_subscriptions::next_due_at))
            .load(c)
            .unwrap();
        for (user, since, due) in rows {
            diesel::update(digest_subscriptions::table.find(user))
                .set((digest_subscriptions::since.eq(since - day), digest_subscriptions::next_due_at.eq(due - day)))
                .execute(c)
                .unwrap();
        }
    })
    .await;
}

fn send_digests(database_url: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(["send-digests", "--base-url", "https://news.example/"])
        .env("DATABASE_URL", database_url)
        .env_remove("SMTP_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

async fn operators_send_due_digests_from_the_command_line(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let names = ["ann", "bob"];
    readers_with_news(&app, &names).await;
    let url = app.db.url.clone();
    let run = |url: String| async move { tokio::task::spawn_blocking(move || send_digests(&url)).await.unwrap() };

    // Nothing due yet.
    let out = run(url.clone()).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "digests: 0 sent, 0 with nothing new, 0 to unconfirmed addresses (not sent)\n"
    );

    // Due, but another instance holds the lease: the command leaves it to it.
    make_due(&app).await;
    app.with_conn(|c| {
        diesel::update(leases::table.find("digests"))
            .set((leases::holder.eq("another"), leases::expires_at.eq(later(1))))
            .execute(c)
            .unwrap()
    })
    .await;
    let out = run(url.clone()).await;
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("another instance is sending"));
    assert!(digests(&app).await.is_empty());

    // Once the lease is free: sent, with links to the public address given.
    app.with_conn(|c| {
        diesel::update(leases::table.find("digests")).set(leases::expires_at.eq(later(-1))).execute(c).unwrap()
    })
    .await;
    let out = run(url.clone()).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("digests: 2 sent,"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let sent = digests(&app).await;
    assert_once_each(&sent, &names);
    assert!(sent.iter().all(|m| m.headers.contains("List-Unsubscribe: <https://news.example/digest/unsubscribe/")));
    assert!(sent[0].body.contains("https://news.example/comments/"), "{}", sent[0].body);
    // The site accepts the command's unsubscribe links (one key for both).
    let path = unsubscribe_path(&app, &sent[0]).replace("https://news.example", "");
    let r = app.new_client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // And again: nothing more.
    let out = run(url).await;
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("digests: 0 sent,"));
    assert_eq!(digests(&app).await.len(), 2);
}

async fn a_crash_mid_batch_does_not_resend(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let names = ["ann", "bob", "cat", "dan", "eve"];
    readers_with_news(&app, &names).await;
    let now = later(2);

    // The third reader's transaction fails after writing its outbox row: it is rolled
    // back, and the run stops there holding the lease, as a crashed instance would.
    let crashed = run(&app, now, "crashing", Some(2)).await;
    assert!(crashed.is_err(), "the injected failure ends the run");
    let sent = digests(&app).await;
    assert_eq!(sent.len(), 2, "the first two were committed; the third's row went with its transaction");
    let first_two: Vec<String> = sent.iter().map(|m| m.recipient.clone()).collect();

    // Another instance at once: the crashed one still holds the lease, so nothing.
    let report = run(&app, now, "other", None).await.unwrap();
    assert_eq!((report.leased, report.sent), (false, 0));
    // Once the lease expires, the rest are sent, and only the rest.
    let report = run(&app, now + time::Duration::minutes(6), "other", None).await.unwrap();
    assert_eq!((report.leased, report.sent), (true, 3), "{report:?}");
    let sent = digests(&app).await;
    assert_once_each(&sent, &names);
    assert!(sent[2..].iter().all(|m| !first_two.contains(&m.recipient)));
    // And again: nothing.
    let report = run(&app, now + time::Duration::minutes(12), "other", None).await.unwrap();
    assert_eq!(report.sent, 0);
    let count: i64 =
        app.with_conn(|c| outbox::table.filter(outbox::subject.like("%digest%")).count().get_result(c).unwrap()).await;
    assert_eq!(count, names.len() as i64);
}

/// A minimal SMTP server on a free port: it accepts every message and keeps its data.
fn fake_smtp() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let _ = stream.write_all(b"220 fake ESMTP\r\n");
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "DATA" => {
                            let _ = stream.write_all(b"354 go on\r\n");
                            let mut data = String::new();
                            loop {
                                let mut part = String::new();
                                if reader.read_line(&mut part).unwrap_or(0) == 0 || part == ".\r\n" {
                                    break;
                                }
                                data.push_str(&part);
                            }
                            kept.lock().unwrap().push(data);
                            b"250 kept\r\n"
                        }
                        "QUIT" => {
                            let _ = stream.write_all(b"221 bye\r\n");
                            return;
                        }
                        _ => b"250 fine\r\n",
                    };
                    let _ = stream.write_all(answer);
                }
            });
        }
    });
    (port, received)
}

async fn states(app: &TestApp) -> Vec<(String, String)> {
    app.with_conn(|c| {
        outbox::table
            .filter(outbox::subject.like("%digest%"))
            .order(outbox::id)
            .select((outbox::recipient, outbox::state))
            .load(c)
            .unwrap()
    })
    .await
}

async fn with_smtp_a_digest_is_sent_once_as_multipart_with_its_headers(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let names = ["ann", "bob"];
    readers_with_news(&app, &names).await;
    let (port, received) = fake_smtp();
    let smtp =
        |port: u16| Mailer::new(Some(&format!("smtp://127.0.0.1:{port}")), "Afterword <noreply@localhost>").unwrap();
    let run_with = |mailer: Mailer, now: PrimitiveDateTime| {
        let (pool, app_site) = (app.pool.clone(), site(&app));
        async move {
            let site = app_site.await;
            let run = Run { now, holder: "smtp".to_owned(), fail_after: None };
            tokio::task::spawn_blocking(move || run_due(&pool, &mailer, &site, &run)).await.unwrap().unwrap()
        }
    };

    // Ann's goes out; Bob's lies `sending`, as an instance that died mid-send left it.
    let report = run_with(smtp(port), later(2)).await;
    assert_eq!((report.sent, report.smtp_sent, report.smtp_failed), (2, 2, 0), "{report:?}");
    assert_eq!(
        states(&app).await,
        vec![("ann@example.com".into(), "sent".into()), ("bob@example.com".into(), "sent".into())]
    );
    let messages = received.lock().unwrap().clone();
    assert_eq!(messages.len(), 2);
    for message in &messages {
        let unfolded = message.replace("\r\n ", " ").replace("\r\n\t", " ");
        assert!(unfolded.contains("List-Unsubscribe: <http://127.0.0.1:8080/digest/unsubscribe/"), "{unfolded}");
        assert!(unfolded.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{unfolded}");
        assert!(unfolded.contains("multipart/alternative"), "{unfolded}");
        assert!(unfolded.contains("text/plain") && unfolded.contains("text/html"), "{unfolded}");
        assert!(unfolded.contains("News for everyone"), "{unfolded}");
    }

    // A server that does not answer: the digest is marked failed, and not sent twice.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let carol = confirmed(&app, "carol").await;
    assert_eq!(choose(&app, &carol, "daily").await.status(), StatusCode::SEE_OTHER);
    save(&app, &carol, SEED_SLUG).await;
    let writer = app.login("writer", crate::common::PASSWORD).await.0;
    app.comment(&writer, SEED_SLUG, "More news", None).await;
    let report = run_with(smtp(closed_port), later(2)).await;
    assert_eq!((report.sent, report.smtp_sent, report.smtp_failed), (1, 0, 1), "{report:?}");
    assert_eq!(states(&app).await[2], ("carol@example.com".into(), "failed".into()));

    // A message left `sending` by a crash is not sent again either.
    app.with_conn(|c| {
        diesel::update(outbox::table.filter(outbox::recipient.eq("carol@example.com")))
            .set(outbox::state.eq("sending"))
            .execute(c)
            .unwrap()
    })
    .await;
    let report = run_with(smtp(port), later(2)).await;
    assert_eq!((report.sent, report.smtp_sent), (0, 0), "{report:?}");
    assert_eq!(received.lock().unwrap().len(), 2);
}
