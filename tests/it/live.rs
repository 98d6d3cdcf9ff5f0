//! Live threads: the events an open article page receives, what they carry, catching
//! up after a reconnect, and (on PostgreSQL) several instances acting as one site.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};
use crate::{both_backends, postgres_only};

both_backends!(
    live_events_carry_what_the_page_needs,
    a_reader_who_reconnects_misses_nothing,
    an_event_of_a_newer_version_is_passed_over
);
postgres_only!(
    a_comment_on_one_instance_appears_live_on_the_other,
    a_change_on_one_instance_is_served_fresh_by_the_other,
    the_listener_connects_as_the_database_url_says,
    sslmode_allow_is_without_tls_first,
    workers_sync_through_links_of_their_own
);

fn events_path() -> String {
    format!("/articles/{SEED_SLUG}/events")
}

/// An open event stream, and the events read from it so far.
struct Stream {
    response: reqwest::Response,
    buffer: String,
}

#[derive(Debug, Clone)]
struct Event {
    id: i64,
    kind: String,
    data: Value,
}

impl Stream {
    async fn open(app: &TestApp, client: &reqwest::Client, last_event_id: Option<&str>) -> Stream {
        Stream::open_at(app, client, &events_path(), last_event_id).await
    }

    async fn open_at(app: &TestApp, client: &reqwest::Client, path: &str, last_event_id: Option<&str>) -> Stream {
        let mut request = client.get(app.url(path));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Stream { response, buffer: String::new() }
    }

    /// The next event (keep-alive comments skipped), within 10 s.
    async fn next(&mut self) -> Event {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (0, String::new(), Value::Null);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.parse().unwrap();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        kind = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(v).unwrap();
                    }
                }
                if !kind.is_empty() {
                    return Event { id, kind, data };
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event of `kind`, skipping others.
    async fn next_of(&mut self, kind: &str) -> Event {
        loop {
            let event = self.next().await;
            if event.kind == kind {
                return event;
            }
        }
    }
}

fn html(event: &Event) -> Page {
    Page::parse(event.data["html"].as_str().unwrap_or_else(|| panic!("no html in {event:?}")))
}

async fn live_events_carry_what_the_page_needs(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mona = app.signup_as("mona", "moderator").await;
    let mut visitor = Stream::open(&app, &app.new_client(), None).await;
    let mut reader = Stream::open(&app, &bob, None).await;
    let mut moderator = Stream::open(&app, &mona, None).await;

    let id = app.comment(&ann, SEED_SLUG, "Live *words*", None).await;
    let seen = visitor.next().await;
    assert_eq!((seen.kind.as_str(), seen.data["id"].as_i64()), ("comment", Some(id)));
    assert!(seen.data["parent_id"].is_null());
    let page = html(&seen);
    assert_eq!(page.text(&format!("#comment-{id} .comment-body")), "Live words");
    assert_eq!(page.count(".vote"), 0, "a visitor gets no vote buttons");
    let for_bob = reader.next().await;
    assert_eq!(for_bob.id, seen.id, "one event, one id");
    assert_eq!(html(&for_bob).count(".vote"), 2, "a reader gets the buttons");
    assert_eq!(html(&for_bob).count(".edit-link"), 0, "and not the author's");
    let for_mona = moderator.next().await;
    assert!(for_mona.data.get("html").is_none(), "a moderator fetches the comment: {for_mona:?}");

    let reply = app.comment(&bob, SEED_SLUG, "A live reply", Some(id)).await;
    let event = visitor.next().await;
    assert_eq!((event.kind.as_str(), event.data["parent_id"].as_i64()), ("comment", Some(id)));
    assert!(event.id > seen.id);
    assert_eq!(event.data["id"].as_i64(), Some(reply));

    assert_eq!(app.vote(&bob, id, 1).await.status(), StatusCode::SEE_OTHER);
    let event = visitor.next().await;
    assert_eq!((event.kind.as_str(), event.data["score"].as_i64()), ("votes", Some(1)));

    let r = app.post_form(&ann, &format!("/comments/{id}/edit"), &[("body", "Edited live")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let event = visitor.next().await;
    assert_eq!(event.kind, "edit");
    assert_eq!(html(&event).text(&format!("#comment-{id} .comment-body")), "Edited live");

    let r = app.post_form(&mona, &format!("/mod/comments/{reply}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let event = visitor.next().await;
    assert_eq!(event.kind, "status");
    assert_eq!(html(&event).text(&format!("#comment-{reply} .comment-body")), "[removed by a moderator]");

    let r = app.post_form(&mona, &format!("/mod/articles/{SEED_SLUG}/lock"), &[("reason", "Enough")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let event = visitor.next().await;
    assert_eq!((event.kind.as_str(), event.data["locked"].as_bool()), ("lock", Some(true)));
    assert_eq!(event.data["reason"], "Enough");

    // A refused change announces nothing: the next event is the one after it.
    let refused = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "Too late")]).await;
    assert!(refused.status().is_client_error());
    app.post_form(&mona, &format!("/mod/articles/{SEED_SLUG}/unlock"), &[]).await;
    assert_eq!(visitor.next().await.data["locked"].as_bool(), Some(false));
    assert_eq!(app.page("/articles/no-such-article/events").await.0, StatusCode::NOT_FOUND);
}

async fn a_reader_who_reconnects_misses_nothing(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mut stream = Stream::open(&app, &app.new_client(), None).await;
    let first = app.comment(&ann, SEED_SLUG, "Before the drop", None).await;
    let seen = stream.next().await;
    assert_eq!(seen.data["id"].as_i64(), Some(first));
    drop(stream);
    // While the reader is away.
    let second = app.comment(&ann, SEED_SLUG, "While away", None).await;
    assert_eq!(app.vote(&app.signup("bob").await, second, -1).await.status(), StatusCode::SEE_OTHER);
    let third = app.comment(&ann, SEED_SLUG, "Also while away", Some(second)).await;

    let mut back = Stream::open(&app, &app.new_client(), Some(&seen.id.to_string())).await;
    let (a, b, c) = (back.next().await, back.next().await, back.next().await);
    assert_eq!((a.kind.as_str(), a.data["id"].as_i64()), ("comment", Some(second)));
    assert_eq!((b.kind.as_str(), b.data["score"].as_i64()), ("votes", Some(-1)));
    assert_eq!((c.kind.as_str(), c.data["id"].as_i64()), ("comment", Some(third)));
    assert!(a.id > seen.id && b.id > a.id && c.id > b.id);
    // Then live again, nothing twice.
    let fourth = app.comment(&ann, SEED_SLUG, "Back live", None).await;
    assert_eq!(back.next().await.data["id"].as_i64(), Some(fourth));

    // A page says which event it was rendered after; its stream starts there, so that
    // nothing between the page and the stream is lost (signed in or not).
    let bob = app.signup("bobby").await;
    for client in [app.new_client(), bob] {
        let page = Page::parse(&app.page_as(&client, &format!("/articles/{SEED_SLUG}")).await.1);
        let after = page.attr("section#comments", "data-live-after");
        let between = app.comment(&ann, SEED_SLUG, "Between page and stream", None).await;
        let path = format!("{}?after={after}", events_path());
        let mut stream = Stream::open_at(&app, &client, &path, None).await;
        assert_eq!(stream.next().await.data["id"].as_i64(), Some(between), "after={after}");
    }

    // A malformed Last-Event-ID is no error: the stream starts from now.
    for bad in ["abc", "-5", "99999999999999999999", ""] {
        let mut fresh = Stream::open(&app, &app.new_client(), Some(bad)).await;
        let fifth = app.comment(&ann, SEED_SLUG, &format!("After {bad:?}"), None).await;
        assert_eq!(fresh.next().await.data["id"].as_i64(), Some(fifth), "{bad:?}");
    }
}

async fn a_comment_on_one_instance_appears_live_on_the_other() {
    let a = TestApp::builder(Backend::Postgres).with_seed_article().start().await;
    let b = a.second_instance().await;
    let ann = a.signup("ann").await;
    let bob = a.signup("bob").await;
    let mut on_b = Stream::open(&b, &bob, None).await;
    let mut visitor_on_b = Stream::open(&b, &b.new_client(), None).await;
    let id = a.comment(&ann, SEED_SLUG, "Posted through A", None).await;
    let event = on_b.next().await;
    assert_eq!((event.kind.as_str(), event.data["id"].as_i64()), ("comment", Some(id)));
    assert_eq!(html(&event).text(&format!("#comment-{id} .comment-body")), "Posted through A");
    assert_eq!(visitor_on_b.next().await.id, event.id);
    // A vote through B reaches a reader on A.
    let mut on_a = Stream::open(&a, &ann, None).await;
    assert_eq!(b.vote(&bob, id, 1).await.status(), StatusCode::SEE_OTHER);
    let event = on_a.next_of("votes").await;
    assert_eq!(event.data["score"].as_i64(), Some(1));
}

/// Polls `path` on `app` as `client` until `check` holds (a notification takes a moment
/// to cross), at most 5 s.
async fn eventually(app: &TestApp, client: &reqwest::Client, path: &str, check: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = app.page_as(client, path).await;
        if status == StatusCode::OK && check(&body) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{path} on the other instance stayed stale");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_change_on_one_instance_is_served_fresh_by_the_other() {
    let a = TestApp::builder(Backend::Postgres).with_seed_article().start().await;
    let b = a.second_instance().await;
    let ann = a.signup("ann").await;
    let bob = a.signup("bob").await;
    let anonymous = b.new_client();
    let article = format!("/articles/{SEED_SLUG}");
    let id = a.comment(&ann, SEED_SLUG, "First words", None).await;
    // B caches the page (anonymous copy and the signed-in readers' shared thread).
    eventually(&b, &anonymous, &article, |body| body.contains("First words")).await;
    eventually(&b, &bob, &article, |body| body.contains("First words")).await;
    for _ in 0..3 {
        b.page_as(&anonymous, &article).await;
        b.page_as(&bob, &article).await;
    }
    let r = a.post_form(&ann, &format!("/comments/{id}/edit"), &[("body", "Edited through A")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    eventually(&b, &anonymous, &article, |body| body.contains("Edited through A")).await;
    eventually(&b, &bob, &article, |body| body.contains("Edited through A")).await;
    // A change of the whole site (a profile's name shown everywhere) as well.
    b.page_as(&anonymous, "/users/ann").await;
    let r = a.post_form(&ann, "/settings/profile", &[("display_name", "Ann Example"), ("bio", "Hello from A")]).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    eventually(&b, &anonymous, "/users/ann", |body| body.contains("Hello from A")).await;
}

/// The listener (live events and cache invalidations) connects as the database URL
/// says, as the site's other connections do: with TLS when `sslmode` asks for it and
/// without when it forbids it, and over a socket (the server's own, where libpq never
/// uses TLS, whatever `sslmode` says). One whose settings cannot be honoured caches
/// nothing.
async fn the_listener_connects_as_the_database_url_says() {
    let a = TestApp::builder(Backend::Postgres).with_seed_article().start().await;
    let on = |query: &str| {
        let mut db = a.db.clone();
        let mut url = url::Url::parse(&a.db.url).unwrap();
        url.set_query(Some(query));
        db.url = url.to_string();
        db
    };
    let tls = TestApp::builder(Backend::Postgres).start_on(on("sslmode=require&application_name=aw-tls")).await;
    let plain = TestApp::builder(Backend::Postgres).start_on(on("sslmode=disable&application_name=aw-plain")).await;
    // The server's own socket, where this machine's server has it (Debian's folder, or
    // AFTERWORD_TEST_POSTGRES_SOCKET); a server elsewhere (TEST_POSTGRES_URL) has none
    // here, and that part is left out.
    let socket = {
        let url = url::Url::parse(&a.db.url).unwrap();
        let folder = std::env::var("AFTERWORD_TEST_POSTGRES_SOCKET").unwrap_or_else(|_| "/var/run/postgresql".into());
        let port = url.port().unwrap_or(5432);
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "::1"));
        let exists = std::path::Path::new(&format!("{folder}/.s.PGSQL.{port}")).exists();
        assert!(exists || !local, "no socket of the local server in {folder} (set AFTERWORD_TEST_POSTGRES_SOCKET)");
        if exists {
            let mut db = a.db.clone();
            let password = url.password().map(|p| format!(":{p}")).unwrap_or_default();
            db.url = format!(
                "postgres://{}{password}@{}?host={folder}&port={port}&sslmode=require&application_name=aw-socket",
                url.username(),
                url.path(),
            );
            Some(TestApp::builder(Backend::Postgres).start_on(db).await)
        } else {
            None
        }
    };
    // All started hearing (the harness waits for it); each listener's connection, and
    // each worker's link, is as its URL asked.
    let listeners = a
        .with_conn(|conn| {
            #[derive(diesel::QueryableByName)]
            struct Listener {
                #[diesel(sql_type = diesel::sql_types::Text)]
                name: String,
                #[diesel(sql_type = diesel::sql_types::Bool)]
                ssl: bool,
            }
            use diesel::RunQueryDsl;
            diesel::sql_query(
                "SELECT DISTINCT a.application_name AS name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
                 WHERE a.application_name IN ('aw-tls', 'aw-plain', 'aw-socket') \
                 AND (a.query LIKE 'LISTEN%' OR a.query LIKE 'SELECT pg_notify(%' OR a.query = '') ORDER BY 1",
            )
            .load::<Listener>(conn)
            .unwrap()
            .into_iter()
            .map(|l| (l.name, l.ssl))
            .collect::<Vec<_>>()
        })
        .await;
    let mut expected = vec![("aw-plain".to_owned(), false), ("aw-tls".to_owned(), true)];
    if socket.is_some() {
        expected.insert(1, ("aw-socket".to_owned(), false));
    }
    assert_eq!(listeners, expected);
    // A change through A is heard by both.
    let ann = a.signup("ann").await;
    a.comment(&ann, SEED_SLUG, "Heard everywhere", None).await;
    let article = format!("/articles/{SEED_SLUG}");
    for app in [Some(&tls), Some(&plain), socket.as_ref()].into_iter().flatten() {
        eventually(app, &app.new_client(), &article, |body| body.contains("Heard everywhere")).await;
    }

    // A certificate file that cannot be read: the site's connections do not need it
    // under `prefer`, the listener cannot honour it, and the instance keeps nothing
    // it could not hear being changed.
    let mut config = a.config.clone();
    let mut url = url::Url::parse(&a.db.url).unwrap();
    url.set_query(Some("sslmode=prefer&sslrootcert=/nonexistent/root.crt"));
    config.database_url = url.to_string();
    let deaf = afterword::App::build(config).await.expect("the instance starts");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!deaf.hearing());
    // Without TLS (`disable`), libpq reads no certificate file, and neither does the
    // listener.
    let mut config = a.config.clone();
    url.set_query(Some("sslmode=disable&sslrootcert=/nonexistent/root.crt"));
    config.database_url = url.to_string();
    let plain_again = afterword::App::build(config).await.expect("the instance starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !plain_again.hearing() {
        assert!(std::time::Instant::now() < deadline, "the listener connects without reading the file");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(socket);
    drop(plain);
    drop(tls);
}

/// `sslmode=allow`, as with libpq: without TLS, by the pool and the listener alike; with
/// TLS where the server refuses a connection without it (only `hostssl` lines in its
/// `pg_hba.conf`).
async fn sslmode_allow_is_without_tls_first() {
    let a = TestApp::builder(Backend::Postgres).with_seed_article().start().await;
    let url = url::Url::parse(&a.db.url).unwrap();
    let ssl_of = |name: &'static str| {
        a.with_conn(move |conn| {
            #[derive(diesel::QueryableByName)]
            struct Ssl {
                #[diesel(sql_type = diesel::sql_types::Bool)]
                ssl: bool,
            }
            use diesel::RunQueryDsl;
            diesel::sql_query(
                "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid \
                 WHERE a.application_name = $1",
            )
            .bind::<diesel::sql_types::Text, _>(name)
            .load::<Ssl>(conn)
            .unwrap()
            .into_iter()
            .map(|s| s.ssl)
            .collect::<Vec<_>>()
        })
    };
    let article = format!("/articles/{SEED_SLUG}");
    let ann = a.signup("ann").await;

    let mut db = a.db.clone();
    let mut allow = url.clone();
    allow.set_query(Some("sslmode=allow&application_name=aw-allow"));
    db.url = allow.to_string();
    let plain = TestApp::builder(Backend::Postgres).start_on(db).await;
    assert_eq!(plain.page_as(&plain.new_client(), &article).await.0, StatusCode::OK);
    let ssl = ssl_of("aw-allow").await;
    assert!(ssl.len() >= 2 && ssl.iter().all(|&s| !s), "the pool's and the listener's: {ssl:?}");

    // A server that refuses connections without TLS (a TCP one: a socket never has TLS).
    let Some(host) = url.host_str() else { return };
    let port = refusing_plaintext(format!("{host}:{}", url.port().unwrap_or(5432))).await;
    let mut db = a.db.clone();
    let mut proxied = url.clone();
    proxied.set_host(Some("127.0.0.1")).unwrap();
    proxied.set_port(Some(port)).unwrap();
    proxied.set_query(Some("sslmode=allow&application_name=aw-hostssl"));
    db.url = proxied.to_string();
    // The harness waits until its listener hears.
    let tls = TestApp::builder(Backend::Postgres).start_on(db).await;
    let reader = tls.new_client();
    assert_eq!(tls.page_as(&reader, &article).await.0, StatusCode::OK);
    let ssl = ssl_of("aw-hostssl").await;
    assert!(ssl.len() >= 2 && ssl.iter().all(|&s| s), "the pool's and the listener's: {ssl:?}");
    a.comment(&ann, SEED_SLUG, "Heard over TLS", None).await;
    eventually(&tls, &reader, &article, |body| body.contains("Heard over TLS")).await;
}

/// A TCP proxy to `upstream` that answers a connection starting without TLS as a
/// server with only `hostssl` lines does (an authentication error), and passes on
/// those that ask for TLS. Its port.
async fn refusing_plaintext(upstream: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    const GSSENC_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut first = [0u8; 8];
                loop {
                    if client.read_exact(&mut first).await.is_err() {
                        return;
                    }
                    if first != GSSENC_REQUEST {
                        break;
                    }
                    // No GSSAPI encryption here: the client goes on with its next request.
                    if client.write_all(b"N").await.is_err() {
                        return;
                    }
                }
                if first != SSL_REQUEST {
                    let fields = b"SFATAL\0VFATAL\0C28000\0Mno pg_hba.conf entry for a connection without TLS\0\0";
                    let mut message = vec![b'E'];
                    message.extend(u32::try_from(fields.len() + 4).unwrap().to_be_bytes());
                    message.extend(fields);
                    let _ = client.write_all(&message).await;
                    return;
                }
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                if server.write_all(&first).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    port
}

/// While a new version replaces an old one, both share `live_events`: an event kind the
/// old one does not know is passed over, live and in a catch-up, and the events after
/// it still arrive.
async fn an_event_of_a_newer_version_is_passed_over(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mut stream = Stream::open(&app, &app.new_client(), None).await;
    let before = app.comment(&ann, SEED_SLUG, "Before", None).await;
    let seen = stream.next().await;
    assert_eq!(seen.data["id"].as_i64(), Some(before));
    app.with_conn(|conn| {
        use afterword::db::schema::{articles, live_events};
        use diesel::prelude::*;
        let article: i64 =
            articles::table.filter(articles::slug.eq(SEED_SLUG)).select(articles::id).first(conn).unwrap();
        diesel::insert_into(live_events::table)
            .values((
                live_events::article_id.eq(article),
                live_events::kind.eq("from-a-newer-version"),
                live_events::created_at.eq(afterword::db::now()),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;
    let after = app.comment(&ann, SEED_SLUG, "After", None).await;
    let event = stream.next().await;
    assert_eq!((event.kind.as_str(), event.data["id"].as_i64()), ("comment", Some(after)));
    assert!(event.id > seen.id + 1, "the unknown event lies between");
    let mut back = Stream::open(&app, &app.new_client(), Some(&seen.id.to_string())).await;
    let caught_up = back.next().await;
    assert_eq!((caught_up.id, caught_up.data["id"].as_i64()), (event.id, Some(after)));
}

/// Each worker thread syncs its signed-in reads with the other instances through a
/// connection of its own (a link), not through the instance's listener. When the links
/// are lost, reads go through the listener and stay right at once; the links come back.
async fn workers_sync_through_links_of_their_own() {
    use crate::common::sample;
    let a = TestApp::builder(Backend::Postgres)
        .with_seed_article()
        .with_metrics()
        .configure(|c| c.workers = 2)
        .start()
        .await;
    let b = a.second_instance().await;
    let ann = a.signup("ann").await;
    let bob = a.signup("bob").await;
    let article = format!("/articles/{SEED_SLUG}");
    let first = a.comment(&ann, SEED_SLUG, "Ann's comment", None).await;
    let syncs = || async {
        let text = reqwest::get(a.metrics_url()).await.unwrap().text().await.unwrap();
        let links = sample(&text, "afterword_cache_syncs_through_links_total").unwrap();
        let listener = sample(&text, "afterword_cache_syncs_through_listener_total").unwrap();
        (links, listener)
    };
    let links = || {
        b.with_conn(|c| {
            use diesel::prelude::*;
            diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'afterword-link'",
            )
            .get_result::<i64>(c)
            .unwrap()
        })
    };
    let view = |expect: &'static str| {
        let (a, ann, article) = (&a, ann.clone(), article.clone());
        async move {
            let (status, body) = a.page_as(&ann, &article).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(Page::parse(&body).texts(".inbox-link .badge").concat(), expect);
        }
    };
    // Reads until one syncs through a link: the reader's worker has its link up.
    let until_through_a_link = |expect: &'static str| {
        let (syncs, view) = (&syncs, &view);
        async move {
            let start = syncs().await.0;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            loop {
                view(expect).await;
                if syncs().await.0 > start {
                    return;
                }
                assert!(tokio::time::Instant::now() < deadline, "no read went through a link");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    until_through_a_link("").await;
    // Two instances of two workers each: four links.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while links().await != 4 {
        assert!(tokio::time::Instant::now() < deadline, "not one link for each worker");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = syncs().await;
    for _ in 0..20 {
        view("").await;
    }
    let after = syncs().await;
    assert!(after.0 - before.0 >= 20.0, "{before:?} {after:?}");
    assert_eq!(after.1, before.1, "no sync through the listener while the links are up");

    // Every link is lost (each terminated and gone): the very next read still shows a
    // change made through B.
    let lost = syncs().await;
    b.with_conn(|c| {
        use diesel::prelude::*;
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'afterword-link'",
        )
        .execute(c)
        .unwrap();
    })
    .await;
    // A link tries again a second after it found itself lost.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(900);
    b.comment(&bob, SEED_SLUG, "A reply through B", Some(first)).await;
    view("1 unread").await;
    // Until they are back, reads go through the listener.
    while syncs().await.1 == lost.1 {
        assert!(tokio::time::Instant::now() < deadline, "no read went through the listener");
        view("1 unread").await;
    }
    b.comment(&bob, SEED_SLUG, "Another reply through B", Some(first)).await;
    view("2 unread").await;

    // The links come back, and carry the syncs again.
    until_through_a_link("2 unread").await;
    let back = syncs().await;
    b.comment(&bob, SEED_SLUG, "A third reply through B", Some(first)).await;
    for _ in 0..10 {
        view("3 unread").await;
    }
    let now = syncs().await;
    assert!(now.0 - back.0 >= 10.0, "{back:?} {now:?}");
}
