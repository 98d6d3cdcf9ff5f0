//! Sign-up, login, sessions, password changes and resets, deletion, export, admin CLI.

use std::process::{Command, Stdio};

use afterword::db::schema::{account_mails, account_tokens, sessions, users};
use diesel::prelude::*;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, PASSWORD};

both_backends!(
    sign_up_logs_in_and_stores_an_argon2id_hash,
    sign_up_errors_show_next_to_their_fields_and_keep_input,
    usernames_and_emails_are_unique_in_any_case,
    login_by_username_or_email,
    unknown_user_and_wrong_password_look_the_same,
    login_rotates_the_session,
    logout_ends_the_session_for_good,
    expired_and_idle_sessions_are_rejected,
    after_login_only_same_site_paths,
    password_change_ends_other_sessions,
    log_out_of_all_other_sessions,
    change_email_needs_the_password_and_a_free_address,
    password_reset_link_works_once_within_the_hour,
    email_verification_when_required,
    delete_account_needs_the_password_and_retires_the_name,
    export_holds_profile_and_sessions_but_no_secrets,
    admin_cli_creates_admins_and_sets_roles,
    settings_need_login,
    reset_links_die_when_the_password_or_email_changes,
    reset_mail_is_limited_per_recipient,
    an_address_can_be_confirmed_on_demand_for_reply_emails,
    password_hashing_is_bounded,
    an_attacking_network_cannot_lock_the_owner_out,
    password_rechecks_count_as_failed_logins,
    an_unknown_stored_role_is_an_error_not_a_demotion,
);

fn location(response: &reqwest::Response) -> String {
    response.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("afterword_session=") && !c.starts_with("afterword_session=;"))
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned()
}

async fn user_row(app: &TestApp, username: &str) -> Option<(i64, String, String, bool)> {
    let key = username.to_lowercase();
    app.with_conn(move |c| {
        users::table
            .filter(users::username_key.eq(key))
            .select((users::id, users::password_hash, users::role, users::email_verified))
            .first(c)
            .optional()
            .unwrap()
    })
    .await
}

async fn session_count(app: &TestApp) -> i64 {
    app.with_conn(|c| sessions::table.count().get_result(c).unwrap()).await
}

async fn sign_up_logs_in_and_stores_an_argon2id_hash(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = app.new_client();
    let (status, body) = app.page_as(&client, "/signup").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(Page::parse(&body).count("input[name=csrf_token]"), 1);

    let response = app
        .post_form(&client, "/signup", &[("username", "Ann"), ("email", "ann@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");

    let (_, body) = app.page_as(&client, "/").await;
    assert_eq!(Page::parse(&body).text(".site-nav .whoami"), "Ann");
    let (_, hash, role, verified) = user_row(&app, "ann").await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert_eq!(role, "reader");
    assert!(!verified);

    // Same password, different salt.
    app.signup("bob").await;
    let (_, bob_hash, _, _) = user_row(&app, "bob").await.unwrap();
    assert_ne!(hash, bob_hash);
    // And back to where one came from.
    let client = app.new_client();
    let response = app
        .post_form(
            &client,
            "/signup",
            &[("username", "cyd"), ("email", "cyd@example.com"), ("password", PASSWORD), ("next", "/articles/x")],
        )
        .await;
    assert_eq!(location(&response), "/articles/x");
}

async fn sign_up_errors_show_next_to_their_fields_and_keep_input(backend: Backend) {
    let app = TestApp::start(backend).await;
    let long_password = "p".repeat(257);
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // (username, email, password, field, message part)
        ("an", "ann@example.com", PASSWORD, "username", "3 to 30"),
        (&"a".repeat(31), "ann@example.com", PASSWORD, "username", "3 to 30"),
        ("ann smith", "ann@example.com", PASSWORD, "username", "letters, digits"),
        ("ann<b>", "ann@example.com", PASSWORD, "username", "letters, digits"),
        ("deleted-1", "ann@example.com", PASSWORD, "username", "reserved"),
        ("Admin", "ann@example.com", PASSWORD, "username", "reserved"),
        ("MODERATOR", "ann@example.com", PASSWORD, "username", "reserved"),
        ("root", "ann@example.com", PASSWORD, "username", "reserved"),
        ("support", "ann@example.com", PASSWORD, "username", "reserved"),
        ("afterword", "ann@example.com", PASSWORD, "username", "reserved"),
        ("ann", "not-an-email", PASSWORD, "email", "valid email"),
        ("ann", "", PASSWORD, "email", "Enter your email"),
        ("ann", "ann@example.com", "short", "password", "at least 10"),
        ("ann", "ann@example.com", &long_password, "password", "at most 256"),
        ("ann", "ann@example.com", "1234567890", "password", "most common"),
        ("ann", "ann@example.com", "iloveyou123", "password", "most common"),
        ("annabelle_x", "ann@example.com", "ANNABELLE_X", "password", "username"),
    ];
    for (username, email, password, field, message) in cases {
        let client = app.new_client();
        let response = app
            .post_form(&client, "/signup", &[("username", username), ("email", email), ("password", password)])
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}: {message}");
        assert!(session_cookie(&response).is_none());
        let page = Page::parse(&response.text().await.unwrap());
        let error = page.text(&format!("#field-{field}-error"));
        assert!(error.contains(message), "{field}: {error:?} should say {message:?}");
        assert_eq!(page.attr(&format!("#field-{field}"), "aria-invalid"), "true");
        assert_eq!(page.attr("#field-username", "value"), username.trim(), "the username is kept");
        assert_eq!(page.attr("#field-email", "value"), email.trim(), "the email is kept");
        assert_eq!(page.attr("#field-password", "value"), "", "the password is not sent back");
    }
    assert_eq!(app.with_conn(|c| users::table.count().get_result::<i64>(c).unwrap()).await, 0);
    // Any Unicode, not truncated: 256 characters of it are fine.
    let client = app.new_client();
    let unicode = "ü".repeat(256);
    let response = app
        .post_form(&client, "/signup", &[("username", "uma"), ("email", "uma@example.com"), ("password", &unicode)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, response) = app.login("uma", &"ü".repeat(255)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "the whole password counts");
    let (_, response) = app.login("uma", &unicode).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn usernames_and_emails_are_unique_in_any_case(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signup("Ann").await;
    let client = app.new_client();
    let response = app
        .post_form(&client, "/signup", &[("username", "ANN"), ("email", "other@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::parse(&response.text().await.unwrap());
    assert!(page.text("#field-username-error").contains("taken"));
    assert_eq!(app.with_conn(|c| users::table.count().get_result::<i64>(c).unwrap()).await, 1);

    // A taken address is not attached to a second account, and nothing in the answer
    // tells the stranger so: the owner is mailed instead.
    let fresh = app
        .post_form(
            &app.new_client(),
            "/signup",
            &[("username", "cleo"), ("email", "cleo@example.com"), ("password", PASSWORD)],
        )
        .await;
    let stranger = app.new_client();
    let taken = app
        .post_form(&stranger, "/signup", &[("username", "other"), ("email", "ANN@Example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(taken.status(), fresh.status());
    assert_eq!(taken.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&taken), location(&fresh));
    assert!(session_cookie(&taken).is_some(), "the stranger is signed in as after any sign-up");
    let (email, pending): (Option<String>, Option<String>) = app
        .with_conn(|c| {
            users::table
                .filter(users::username.eq("other"))
                .select((users::email, users::pending_email))
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(email, None, "the address stays Ann's alone");
    assert_eq!(pending.as_deref(), Some("ANN@Example.com"));
    let (status, settings) = app.page_as(&stranger, "/settings").await;
    assert_eq!(status, StatusCode::OK);
    let settings = Page::parse(&settings);
    assert!(settings.text("main").contains("ANN@Example.com (not confirmed yet)"), "shown as any new address");
    // The notice goes out in the background (the answer must not wait for it).
    let mut notices = Vec::new();
    for _ in 0..100 {
        notices = app.outbox().await.into_iter().filter(|(to, _, _)| to == "ANN@Example.com").collect();
        if !notices.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].2.contains("account named other") && notices[0].2.contains("your account Ann"));

    // The address logs in Ann with her password, and the stranger with his, as it would
    // have had it been free; a wrong password for it counts against Ann's account only.
    let (ann, response) = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.page_as(&ann, "/settings").await;
    assert!(Page::parse(&page).text("main").contains("Ann@example.com"));
    app.with_conn(|c| {
        diesel::update(users::table.filter(users::username.eq("other")))
            .set(users::password_hash.eq(afterword::auth::password::hash("the stranger's own")))
            .execute(c)
            .unwrap()
    })
    .await;
    let (other, response) = app.login("ann@example.com", "the stranger's own").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.page_as(&other, "/settings").await;
    assert!(Page::parse(&page).text("main").contains("ANN@Example.com (not confirmed yet)"));
    let (_, response) = app.login("ann@example.com", "neither of theirs").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The data export shows the address as the settings do.
    let export: serde_json::Value =
        stranger.get(app.url("/settings/export")).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["profile"]["email"], "ANN@Example.com");
    assert!(export["profile"].get("pending_email").is_none());

    // Asking for a confirmation link sends the owner another notice, a few per hour.
    for _ in 0..4 {
        let response = app.post_form(&stranger, "/settings/verify-email", &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/settings?notice=verification-sent");
    }
    let notices = app.outbox().await.into_iter().filter(|(to, _, _)| to == "ANN@Example.com").count();
    assert_eq!(notices, 3);
    assert_eq!(app.with_conn(|c| account_tokens::table.count().get_result::<i64>(c).unwrap()).await, 0);
}

async fn login_by_username_or_email(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signup("Ann").await;
    for login in ["Ann", "ann", "ann@example.com", "ANN@EXAMPLE.COM", "  ann  "] {
        let (client, response) = app.login(login, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{login}");
        let (status, _) = app.page_as(&client, "/settings").await;
        assert_eq!(status, StatusCode::OK, "{login}");
    }
    let (_, response) = app.login("", "").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn unknown_user_and_wrong_password_look_the_same(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signup("ann").await;
    let attempt = |login: &'static str| {
        let app = &app;
        async move {
            let (_, response) = app.login(login, "not the password").await;
            let status = response.status();
            let page = Page::parse(&response.text().await.unwrap());
            (status, page.text(".flash.error"))
        }
    };
    // (That an unknown name still costs a password verification is a property of the
    // code, `password::verify_dummy`, not something a test should time.)
    for _ in 0..3 {
        let (s1, m1) = attempt("ann").await;
        let (s2, m2) = attempt("nobody").await;
        assert_eq!(s1, StatusCode::UNAUTHORIZED);
        assert_eq!((s1, &m1), (s2, &m2), "the same answer");
    }
}

async fn login_rotates_the_session(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signup("ann").await;
    app.signup("bob").await;
    let client = app.new_client();
    // A session id planted before login is not the one after.
    let planted = "planted-session-id-planted-session-id-12345";
    let jar_client = {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        jar.add_cookie_str(&format!("afterword_session={planted}; Path=/"), &app.address.parse().unwrap());
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, app.address.parse().unwrap());
        reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap()
    };
    let response = app.post_form(&jar_client, "/login", &[("login", "ann"), ("password", PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let first = cookie_value(&session_cookie(&response).unwrap());
    assert_ne!(first, planted);

    // Logging in again (as someone else) gives a new session and ends the old one.
    let response = app.post_form(&client, "/login", &[("login", "ann"), ("password", PASSWORD)]).await;
    let ann = cookie_value(&session_cookie(&response).unwrap());
    let before = session_count(&app).await;
    let response = app.post_form(&client, "/login", &[("login", "bob"), ("password", PASSWORD)]).await;
    let bob = cookie_value(&session_cookie(&response).unwrap());
    assert_ne!(ann, bob);
    assert_eq!(session_count(&app).await, before, "the old session row is gone");
    let (_, body) = app.page_as(&client, "/").await;
    assert_eq!(Page::parse(&body).text(".whoami"), "bob");
}

async fn logout_ends_the_session_for_good(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signup("ann").await;
    let (client, response) = app.login("ann", PASSWORD).await;
    let token = cookie_value(&session_cookie(&response).unwrap());
    let response = app.post_form(&client, "/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let removal = response.headers().get_all(SET_COOKIE).iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with("afterword_session=;") || v.starts_with("afterword_session=\"\"") || v.contains("Max-Age=0")
    });
    assert!(removal, "the cookie is removed");
    // Replaying the old cookie does not work.
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = replay
        .get(app.url("/settings"))
        .header(reqwest::header::COOKIE, format!("afterword_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fsettings");
}

async fn expired_and_idle_sessions_are_rejected(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = app.signup("ann").await;
    assert_eq!(app.page_as(&client, "/settings").await.0, StatusCode::OK);
    let past = afterword::db::now() - time::Duration::minutes(1);
    app.with_conn(move |c| diesel::update(sessions::table).set(sessions::expires_at.eq(past)).execute(c).unwrap())
        .await;
    assert_eq!(app.page_as(&client, "/settings").await.0, StatusCode::SEE_OTHER, "past its absolute expiry");

    let client = app.login("ann", PASSWORD).await.0;
    assert_eq!(app.page_as(&client, "/settings").await.0, StatusCode::OK);
    let idle = afterword::db::now() - time::Duration::days(31);
    app.with_conn(move |c| {
        diesel::update(sessions::table.filter(sessions::expires_at.gt(afterword::db::now())))
            .set(sessions::last_seen_at.eq(idle))
            .execute(c)
            .unwrap()
    })
    .await;
    assert_eq!(app.page_as(&client, "/settings").await.0, StatusCode::SEE_OTHER, "idle for 31 days");
}

async fn after_login_only_same_site_paths(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signup("ann").await;
    for (next, expected) in [
        ("/articles/some-article?sort=new", "/articles/some-article?sort=new"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/%2F%2Fevil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ] {
        let client = app.new_client();
        let response =
            app.post_form(&client, "/login", &[("login", "ann"), ("password", PASSWORD), ("next", next)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&response), expected, "{next}");
    }
    // The login page keeps a safe `next` in its form, and drops a bad one.
    let page = Page::parse(&app.page("/login?next=%2Farticles%2Fa").await.1);
    assert_eq!(page.attr("input[name=next]", "value"), "/articles/a");
    let page = Page::parse(&app.page("/login?next=%2F%2Fevil.example").await.1);
    assert_eq!(page.attr("input[name=next]", "value"), "/");
}

async fn password_change_ends_other_sessions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let here = app.signup("ann").await;
    let (elsewhere, _) = app.login("ann", PASSWORD).await;
    let new_password = "a brand new passphrase";

    let wrong = app
        .post_form(&here, "/settings/password", &[("current_password", "wrong"), ("new_password", new_password)])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::parse(&wrong.text().await.unwrap()).text("#field-current_password-error").contains("not your"));
    let weak = app
        .post_form(&here, "/settings/password", &[("current_password", PASSWORD), ("new_password", "password123")])
        .await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.page_as(&elsewhere, "/settings").await.0, StatusCode::OK, "failed changes end nothing");

    let response = app
        .post_form(&here, "/settings/password", &[("current_password", PASSWORD), ("new_password", new_password)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/settings?notice=password");
    let (status, body) = app.page_as(&here, "/settings?notice=password").await;
    assert_eq!(status, StatusCode::OK, "this session stays");
    assert!(Page::parse(&body).text(".notice").contains("password was changed"));
    assert_eq!(app.page_as(&elsewhere, "/settings").await.0, StatusCode::SEE_OTHER, "the other one ended");
    assert_eq!(app.login("ann", PASSWORD).await.1.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("ann", new_password).await.1.status(), StatusCode::SEE_OTHER);
}

async fn log_out_of_all_other_sessions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let here = app.signup("ann").await;
    let (elsewhere, _) = app.login("ann", PASSWORD).await;
    let bob = app.signup("bob").await;
    let (_, body) = app.page_as(&here, "/settings").await;
    assert_eq!(Page::parse(&body).count("ul.sessions li"), 2);
    let response = app.post_form(&here, "/settings/sessions", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.page_as(&here, "/settings").await.0, StatusCode::OK);
    assert_eq!(app.page_as(&elsewhere, "/settings").await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.page_as(&bob, "/settings").await.0, StatusCode::OK, "other accounts keep theirs");
}

async fn change_email_needs_the_password_and_a_free_address(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ann = app.signup("ann").await;
    app.signup("bob").await;
    let cases = [
        ("new@example.com", "wrong password", "email_password", "not your password"),
        ("not an email", PASSWORD, "new_email", "valid email"),
    ];
    for (email, password, field, message) in cases {
        let response =
            app.post_form(&ann, "/settings/email", &[("new_email", email), ("email_password", password)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{email}");
        let page = Page::parse(&response.text().await.unwrap());
        assert!(page.text(&format!("#field-{field}-error")).contains(message), "{email}");
        assert_eq!(page.attr("#field-new_email", "value"), email, "kept");
    }
    let response = app
        .post_form(&ann, "/settings/email", &[("new_email", "Ann.New@example.com"), ("email_password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.login("ann.new@example.com", PASSWORD).await.1.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.login("ann@example.com", PASSWORD).await.1.status(), StatusCode::UNAUTHORIZED);

    // Bob's address is not given to Ann, and nothing in the answer says it is his: it
    // looks like any change (its owner is mailed instead).
    let taken =
        app.post_form(&ann, "/settings/email", &[("new_email", "BOB@example.com"), ("email_password", PASSWORD)]).await;
    assert_eq!(taken.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&taken), "/settings?notice=email");
    let page = Page::parse(&app.page_as(&ann, "/settings").await.1);
    assert!(page.text("main").contains("BOB@example.com (not confirmed yet)"));
    assert_eq!(app.login("ann.new@example.com", PASSWORD).await.1.status(), StatusCode::UNAUTHORIZED, "old one gone");
    let bob: Option<String> =
        app.with_conn(|c| users::table.filter(users::username.eq("bob")).select(users::email).first(c).unwrap()).await;
    assert_eq!(bob.as_deref(), Some("bob@example.com"), "Bob keeps his address");
    let (bob, response) = app.login("bob@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&bob, "/settings").await.1);
    assert!(page.text("main").contains("bob@example.com"), "the address logs Bob in, as his");
}

fn link_in(body: &str, path: &str) -> String {
    let start = body.find(path).unwrap_or_else(|| panic!("no {path} link in {body}"));
    body[start..].split_whitespace().next().unwrap().to_owned()
}

async fn password_reset_link_works_once_within_the_hour(backend: Backend) {
    let app = TestApp::start(backend).await;
    let session = app.signup("ann").await;

    // The same answer whether or not the address has an account.
    let client = app.new_client();
    let known = app.post_form(&client, "/password-reset", &[("email", "ANN@example.com")]).await;
    let unknown = app.post_form(&client, "/password-reset", &[("email", "ghost@example.com")]).await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), StatusCode::OK);
    let known = Page::parse(&known.text().await.unwrap()).text(".notice").replace("ANN@example.com", "X");
    let unknown = Page::parse(&unknown.text().await.unwrap()).text(".notice").replace("ghost@example.com", "X");
    assert_eq!(known, unknown);
    let bad = app.post_form(&client, "/password-reset", &[("email", "nope")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let outbox = app.outbox().await;
    assert_eq!(outbox.len(), 1, "one message, to the known address only");
    let (to, subject, body) = &outbox[0];
    assert_eq!(to, "ANN@example.com");
    assert!(subject.contains("Reset"));
    let link = link_in(body, "/password-reset/");
    let path = link.trim_start_matches("http://127.0.0.1:8080");
    // Only a hash of the token is stored.
    let token = path.rsplit('/').next().unwrap().to_owned();
    let stored: Vec<String> =
        app.with_conn(|c| account_tokens::table.select(account_tokens::token_hash).load(c).unwrap()).await;
    assert_eq!(stored, vec![afterword::auth::token_hash(&token)]);

    assert_eq!(app.page_as(&client, path).await.0, StatusCode::OK);
    let weak = app.post_form(&client, path, &[("password", "short")]).await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let new_password = "a fresh start for ann";
    let response = app.post_form(&client, path, &[("password", new_password)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?notice=password-reset");
    assert!(Page::parse(&app.page("/login?notice=password-reset").await.1).text(".notice").contains("changed"));
    assert_eq!(app.page_as(&session, "/settings").await.0, StatusCode::SEE_OTHER, "sessions ended");
    assert_eq!(app.login("ann", new_password).await.1.status(), StatusCode::SEE_OTHER);

    // Single use.
    assert_eq!(app.page_as(&client, path).await.0, StatusCode::BAD_REQUEST);
    let again = app.post_form(&client, path, &[("password", "yet another password")]).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.login("ann", new_password).await.1.status(), StatusCode::SEE_OTHER);

    // Expiring: a token past its hour does nothing.
    app.post_form(&client, "/password-reset", &[("email", "ann@example.com")]).await;
    let outbox = app.outbox().await;
    let link = link_in(&outbox.last().unwrap().2, "/password-reset/");
    let path = link.trim_start_matches("http://127.0.0.1:8080").to_owned();
    let past = afterword::db::now() - time::Duration::minutes(1);
    app.with_conn(move |c| {
        diesel::update(account_tokens::table).set(account_tokens::expires_at.eq(past)).execute(c).unwrap()
    })
    .await;
    assert_eq!(app.page_as(&client, &path).await.0, StatusCode::BAD_REQUEST);
    let late = app.post_form(&client, &path, &[("password", "too late for this one")]).await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.login("ann", new_password).await.1.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.page("/password-reset/not-a-token").await.0, StatusCode::BAD_REQUEST);
}

async fn email_verification_when_required(backend: Backend) {
    let app =
        TestApp::builder(backend).with_seed_article().configure(|c| c.require_email_verification = true).start().await;
    let client = app.signup("ann").await;
    assert!(!user_row(&app, "ann").await.unwrap().3);
    // Unconfirmed readers cannot comment yet.
    let slug = crate::common::SEED_SLUG;
    let page = Page::parse(&app.page_as(&client, &format!("/articles/{slug}")).await.1);
    assert!(page.text("#comments .notice").starts_with("Confirm your email address to comment"));
    assert_eq!(page.count("form.compose"), 0);
    let refused = app.post_form(&client, &format!("/articles/{slug}/comments"), &[("body", "too early")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (_, body) = app.page_as(&client, "/settings").await;
    assert!(body.contains("not confirmed yet"));
    let outbox = app.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].0, "ann@example.com");
    let link = link_in(&outbox[0].2, "/verify-email/");
    let path = link.trim_start_matches("http://127.0.0.1:8080");
    // Opening the link changes nothing; confirming does.
    assert_eq!(app.page_as(&client, path).await.0, StatusCode::OK);
    assert!(!user_row(&app, "ann").await.unwrap().3);
    let response = app.post_form(&client, path, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(user_row(&app, "ann").await.unwrap().3);
    assert_eq!(app.post_form(&client, path, &[]).await.status(), StatusCode::BAD_REQUEST, "single use");
    app.comment(&client, slug, "confirmed now", None).await;

    // Off by default: no message.
    let plain = TestApp::start(backend).await;
    plain.signup("bob").await;
    assert!(plain.outbox().await.is_empty());
}

async fn delete_account_needs_the_password_and_retires_the_name(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ann = app.signup("ann").await;
    let (elsewhere, _) = app.login("ann", PASSWORD).await;
    let wrong = app.post_form(&ann, "/settings/delete", &[("delete_password", "wrong")]).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(user_row(&app, "ann").await.is_some());

    let response = app.post_form(&ann, "/settings/delete", &[("delete_password", PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account-deleted");
    assert_eq!(app.page_as(&ann, "/settings").await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.page_as(&elsewhere, "/settings").await.0, StatusCode::SEE_OTHER, "every session ended");
    assert_eq!(session_count(&app).await, 0);
    assert_eq!(app.login("ann", PASSWORD).await.1.status(), StatusCode::UNAUTHORIZED);
    // The row stays for what the account wrote, without its name, email or password.
    let rows: Vec<(String, Option<String>, String)> = app
        .with_conn(|c| users::table.select((users::username, users::email, users::password_hash)).load(c).unwrap())
        .await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].0.starts_with("deleted-") && rows[0].1.is_none() && rows[0].2 == "!");
    // The email is free again; the name is not given to anyone else, in any case.
    for name in ["ann", "ANN"] {
        let client = app.new_client();
        let fields = [("username", name), ("email", "ann@example.com"), ("password", PASSWORD)];
        let response = app.post_form(&client, "/signup", &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(session_cookie(&response).is_none());
    }
    assert_eq!(app.with_conn(|c| users::table.count().get_result::<i64>(c).unwrap()).await, 1);
    app.signup("anna").await;
}

async fn export_holds_profile_and_sessions_but_no_secrets(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mine = app.comment(&ann, crate::common::SEED_SLUG, "My words", None).await;
    let theirs = app.comment(&bob, crate::common::SEED_SLUG, "Bob's words", None).await;
    app.vote(&ann, theirs, -1).await;
    app.post_form(&ann, &format!("/articles/{}/save", crate::common::SEED_SLUG), &[("action", "save")]).await;
    let response = ann.get(app.url("/settings/export")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let text = response.text().await.unwrap();
    assert!(!text.contains("argon2") && !text.contains("token_hash"), "{text}");
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(data["profile"]["username"], "ann");
    assert_eq!(data["profile"]["email"], "ann@example.com");
    assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(data["comments"][0]["id"], mine);
    assert_eq!(data["comments"][0]["text"], "My words");
    assert_eq!(data["comments"].as_array().unwrap().len(), 1, "only ann's");
    assert_eq!(data["votes"][0]["comment"], theirs);
    assert_eq!(data["votes"][0]["value"], -1);
    assert_eq!(data["saved_articles"][0]["article"], crate::common::SEED_SLUG);
}

fn afterword_cli(args: &[&str], database_url: &str, stdin: Option<&str>, env_password: Option<&str>) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_afterword"));
    command.args(args).env("DATABASE_URL", database_url).env("RUST_LOG", "warn").env_remove("AFTERWORD_ADMIN_PASSWORD");
    if let Some(p) = env_password {
        command.env("AFTERWORD_ADMIN_PASSWORD", p);
    }
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

async fn admin_cli_creates_admins_and_sets_roles(backend: Backend) {
    let app = TestApp::start(backend).await;
    let url = app.db.url.clone();
    // A fresh install has no accounts at all.
    assert_eq!(app.with_conn(|c| users::table.count().get_result::<i64>(c).unwrap()).await, 0);
    let u = url.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || {
        afterword_cli(
            &["admin", "create", "--username", "root_admin", "--email", "admin@example.com"],
            &u,
            None,
            Some(PASSWORD),
        )
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    let u = url.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || {
        afterword_cli(
            &["admin", "create", "--username", "second", "--email", "second@example.com"],
            &u,
            Some("another good password\n"),
            None,
        )
    })
    .await
    .unwrap();
    assert!(ok, "password from standard input: {out}");
    let u = url.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || {
        afterword_cli(
            &["admin", "create", "--username", "weak", "--email", "weak@example.com"],
            &u,
            Some("password\n"),
            None,
        )
    })
    .await
    .unwrap();
    assert!(!ok && out.contains("password"), "{out}");
    let u = url.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || {
        afterword_cli(
            &["admin", "create", "--username", "Admin", "--email", "reserved@example.com"],
            &u,
            None,
            Some(PASSWORD),
        )
    })
    .await
    .unwrap();
    assert!(!ok && out.contains("username: That username is reserved."), "{out}");
    assert!(user_row(&app, "admin").await.is_none());
    assert_eq!(user_row(&app, "root_admin").await.unwrap().2, "admin");
    assert_eq!(user_row(&app, "second").await.unwrap().2, "admin");

    let (admin, _) = app.login("root_admin", PASSWORD).await;
    assert_eq!(app.page_as(&admin, "/admin/outbox").await.0, StatusCode::OK);
    let reader = app.signup("reader").await;
    assert_eq!(app.page_as(&reader, "/admin/outbox").await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.page("/admin/outbox").await.0, StatusCode::SEE_OTHER, "anonymous: log in first");

    let u = url.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || {
        afterword_cli(&["admin", "set-role", "READER", "moderator"], &u, None, None)
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    assert_eq!(user_row(&app, "reader").await.unwrap().2, "moderator");
    assert_eq!(app.page_as(&reader, "/admin/outbox").await.0, StatusCode::FORBIDDEN, "admins only");
    let u = url.clone();
    let (ok, out) =
        tokio::task::spawn_blocking(move || afterword_cli(&["admin", "set-role", "reader", "king"], &u, None, None))
            .await
            .unwrap();
    assert!(!ok && out.contains("unknown role"), "{out}");
    let (ok, out) =
        tokio::task::spawn_blocking(move || afterword_cli(&["admin", "set-role", "ghost", "admin"], &url, None, None))
            .await
            .unwrap();
    assert!(!ok && out.contains("no account named ghost"), "{out}");
}

async fn settings_need_login(backend: Backend) {
    let app = TestApp::start(backend).await;
    for path in ["/settings", "/settings/export"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&response).starts_with("/login?next=%2Fsettings"), "{path}");
    }
}

async fn reset_links_die_when_the_password_or_email_changes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ann = app.signup("ann").await;
    let client = app.new_client();
    let reset_path =
        |body: &str| link_in(body, "/password-reset/").trim_start_matches("http://127.0.0.1:8080").to_owned();

    app.post_form(&client, "/password-reset", &[("email", "ann@example.com")]).await;
    let first = reset_path(&app.outbox().await.last().unwrap().2);
    // Only the newest link works.
    app.post_form(&client, "/password-reset", &[("email", "ann@example.com")]).await;
    let second = reset_path(&app.outbox().await.last().unwrap().2);
    assert_eq!(app.page_as(&client, &first).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(app.page_as(&client, &second).await.0, StatusCode::OK);

    let changed = app
        .post_form(
            &ann,
            "/settings/password",
            &[("current_password", PASSWORD), ("new_password", "another fine passphrase")],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.page_as(&client, &second).await.0, StatusCode::BAD_REQUEST, "void after a password change");

    app.post_form(&client, "/password-reset", &[("email", "ann@example.com")]).await;
    let third = reset_path(&app.outbox().await.last().unwrap().2);
    let moved = app
        .post_form(
            &ann,
            "/settings/email",
            &[("new_email", "ann2@example.com"), ("email_password", "another fine passphrase")],
        )
        .await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.page_as(&client, &third).await.0, StatusCode::BAD_REQUEST, "void after an email change");
}

async fn reset_mail_is_limited_per_recipient(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signup("ann").await;
    app.signup("bob").await;
    let to_ann = |outbox: &[(String, String, String)]| outbox.iter().filter(|m| m.0 == "ann@example.com").count();

    // Five requests, each from a client of its own: the same answer every time, three emails.
    for _ in 0..5 {
        let client = app.new_client();
        let response = app.post_form(&client, "/password-reset", &[("email", "ann@example.com")]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let notice = Page::parse(&response.text().await.unwrap()).text(".notice");
        assert!(notice.contains("ann@example.com"), "{notice}");
    }
    assert_eq!(to_ann(&app.outbox().await), 3, "at most three reset emails per account per hour");

    // Another account is not affected.
    app.post_form(&app.new_client(), "/password-reset", &[("email", "bob@example.com")]).await;
    assert_eq!(app.outbox().await.iter().filter(|m| m.0 == "bob@example.com").count(), 1);

    // An hour later the account may receive one again, and the old records are gone.
    let ann_id = app.with_conn_blocking_user_id("ann");
    app.with_conn(move |c| {
        let earlier = afterword::db::now() - time::Duration::minutes(61);
        diesel::update(account_mails::table.filter(account_mails::user_id.eq(ann_id)))
            .set(account_mails::sent_at.eq(earlier))
            .execute(c)
            .unwrap()
    })
    .await;
    app.post_form(&app.new_client(), "/password-reset", &[("email", "ann@example.com")]).await;
    assert_eq!(to_ann(&app.outbox().await), 4);
    let kept: i64 = app
        .with_conn(move |c| {
            account_mails::table.filter(account_mails::user_id.eq(ann_id)).count().get_result(c).unwrap()
        })
        .await;
    assert_eq!(kept, 1, "records older than the hour are deleted");
}

async fn password_hashing_is_bounded(backend: Backend) {
    let hashers = afterword::auth::password::Hashers::new(1, std::time::Duration::from_millis(200));
    let gate = hashers.clone();
    let app = TestApp::builder(backend).configure(move |c| c.hashers = gate).start().await;
    app.signup("ann").await;
    // Every permit is taken: logins, sign-ups and password checks wait briefly, then
    // the site says it is busy.
    let held = hashers.acquire().await.expect("the only permit is free");
    let (_, busy) = app.login("ann", PASSWORD).await;
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(busy.headers().get("retry-after").is_some());
    assert!(busy.text().await.unwrap().contains("The site is busy; try again in a few seconds."));
    let client = app.new_client();
    let signup = app
        .post_form(&client, "/signup", &[("username", "bob"), ("email", "bob@example.com"), ("password", PASSWORD)])
        .await;
    assert_eq!(signup.status(), StatusCode::SERVICE_UNAVAILABLE);
    let bob = app.with_conn(|c| users::table.filter(users::username.eq("bob")).count().get_result::<i64>(c).unwrap());
    assert_eq!(bob.await, 0, "nothing stored");
    // Once the permit is back, the same login works.
    drop(held);
    let (_, ok) = app.login("ann", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
}

async fn an_attacking_network_cannot_lock_the_owner_out(backend: Backend) {
    use afterword::auth::ratelimit::RateLimitConfig;
    use afterword::db::schema::login_failures;
    let app = TestApp::builder(backend)
        .configure(|c| {
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            c.rate_limits = RateLimitConfig { logins_per_account: 10, ..RateLimitConfig::off() };
        })
        .start()
        .await;
    app.signup("ann").await;
    app.signup("bob").await;
    let ann = app.with_conn_blocking_user_id("ann");
    const ATTACKER: &str = "203.0.113.7";
    // Nine failures already stored; the tenth, by email, goes through HTTP.
    app.with_conn(move |c| {
        for _ in 0..9 {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::user_id.eq(Some(ann)),
                    login_failures::network.eq(ATTACKER),
                    login_failures::failed_at.eq(afterword::db::now()),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    assert_eq!(app.login_from(ATTACKER, "ann@example.com", "wrong").await.status(), StatusCode::UNAUTHORIZED);
    // Ninety more tries from the attacker, thirty at once (under the per-address
    // connection cap): all refused, the right password too.
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..90 {
        if i % 30 == 0 {
            while let Some(status) = tries.join_next().await {
                assert_eq!(status.unwrap(), StatusCode::TOO_MANY_REQUESTS);
            }
        }
        let (address, client) = (app.address.clone(), app.new_client());
        let password = if i == 0 { PASSWORD } else { "wrong" };
        tries.spawn(async move {
            let token = {
                let page = client.get(format!("{address}/login")).send().await.unwrap().text().await.unwrap();
                crate::common::html::Page::parse(&page).attr("input[name=csrf_token]", "value")
            };
            client
                .post(format!("{address}/login"))
                .header("x-forwarded-for", ATTACKER)
                .form(&[("login", "ANN"), ("password", password), ("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = tries.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::TOO_MANY_REQUESTS);
    }
    let refused = app.login_from(ATTACKER, "ann", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "Retry-After: {retry}");
    let text = refused.text().await.unwrap();
    assert!(text.contains("Too many wrong passwords from your network; try again in"), "{text}");
    // The attacker's network may still log in to other accounts.
    assert_eq!(app.login_from(ATTACKER, "bob", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    // The owner's address is not locked out; a success clears its own failures.
    const OWNER: &str = "198.51.100.20";
    assert_eq!(app.login_from(OWNER, "ann", "wrong").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_from(OWNER, "ann", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    // The counts are in the database, so they survive a restart: the attacker's ten
    // stay, the owner's failure is gone.
    let counts = app
        .with_conn(move |c| {
            let of = |net: &str, c: &mut afterword::db::DbConn| {
                login_failures::table
                    .filter(login_failures::user_id.eq(ann))
                    .filter(login_failures::network.eq(net.to_owned()))
                    .count()
                    .get_result::<i64>(c)
                    .unwrap()
            };
            (of(ATTACKER, c), of(OWNER, c))
        })
        .await;
    assert_eq!(counts, (10, 0));
    // Fifty failures from one network on any accounts refuse it for every login.
    const SCANNER: &str = "192.0.2.44";
    app.with_conn(move |c| {
        for _ in 0..50 {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::user_id.eq(None::<i64>),
                    login_failures::network.eq(SCANNER),
                    login_failures::failed_at.eq(afterword::db::now()),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    assert_eq!(app.login_from(SCANNER, "bob", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.login_from(OWNER, "bob", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    // Many failures on bob from many networks: his logins are slowed, never refused.
    let bob = app.with_conn_blocking_user_id("bob");
    app.with_conn(move |c| {
        for i in 0..40 {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::user_id.eq(Some(bob)),
                    login_failures::network.eq(format!("10.0.0.{i}")),
                    login_failures::failed_at.eq(afterword::db::now()),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    assert_eq!(app.login_from(OWNER, "bob", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.login_from(ATTACKER, "bob", "wrong").await.status(), StatusCode::UNAUTHORIZED);
}

async fn password_rechecks_count_as_failed_logins(backend: Backend) {
    use afterword::auth::ratelimit::RateLimitConfig;
    let app = TestApp::builder(backend)
        .configure(|c| c.rate_limits = RateLimitConfig { logins_per_account: 3, ..RateLimitConfig::off() })
        .start()
        .await;
    let ann = app.signup("ann").await;
    let change = |password: &'static str| {
        let (app, ann) = (&app, ann.clone());
        async move {
            app.post_form(&ann, "/settings/email", &[("new_email", "ann2@example.com"), ("email_password", password)])
                .await
                .status()
        }
    };
    for _ in 0..3 {
        assert!(change("wrong").await.is_client_error());
    }
    // Three wrong re-checks from this network: the right password is refused here too,
    // and the address is unchanged.
    assert_eq!(change(PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    let email = app.with_conn(|c| {
        users::table.filter(users::username.eq("ann")).select(users::email).first::<Option<String>>(c).unwrap()
    });
    assert_eq!(email.await.as_deref(), Some("ann@example.com"));
}

async fn an_address_can_be_confirmed_on_demand_for_reply_emails(backend: Backend) {
    // Confirmation is not required, yet a reader who wants reply emails can confirm.
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let (_, body) = app.page_as(&ann, "/settings").await;
    assert!(body.contains("not confirmed yet"), "the settings say so");
    let settings = Page::parse(&body);
    assert_eq!(settings.count("form[action='/settings/verify-email']"), 1, "and offer a link");
    let r = app.post_form(&ann, "/settings/notifications", &[("email_replies", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Unconfirmed: a reply reaches the inbox, not the email.
    let slug = crate::common::SEED_SLUG;
    let first = app.comment(&ann, slug, "Ann writes", None).await;
    app.comment(&bob, slug, "Bob answers", Some(first)).await;
    assert!(app.outbox().await.is_empty(), "no email to an unconfirmed address");

    let r = app.post_form(&ann, "/settings/verify-email", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let outbox = app.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].0, "ann@example.com");
    let link = link_in(&outbox[0].2, "/verify-email/");
    let path = link.trim_start_matches("http://127.0.0.1:8080").to_owned();
    assert_eq!(app.post_form(&ann, &path, &[]).await.status(), StatusCode::OK);
    assert!(user_row(&app, "ann").await.unwrap().3, "confirmed");
    let (_, body) = app.page_as(&ann, "/settings").await;
    assert!(!body.contains("not confirmed yet"));

    // Confirmed: the next reply is emailed.
    app.comment(&bob, slug, "Bob again", Some(first)).await;
    let outbox = app.outbox().await;
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert_eq!(outbox[1].0, "ann@example.com");
}

/// A role the code does not know (a hand-edited row, a newer release's value) is an
/// error on the request, never read as "reader" or any other role.
async fn an_unknown_stored_role_is_an_error_not_a_demotion(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = app.signup("ann").await;
    assert_eq!(app.page_as(&client, "/settings").await.0, StatusCode::OK);
    app.with_conn(|c| {
        diesel::update(users::table.filter(users::username.eq("ann")))
            .set(users::role.eq("superuser"))
            .execute(c)
            .unwrap()
    })
    .await;
    let (status, body) = app.page_as(&client, "/settings").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.contains("superuser"), "internals stay out of the page");
    assert_eq!(app.page("/").await.0, StatusCode::OK, "other visitors are not affected");
}
