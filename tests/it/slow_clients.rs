//! Clients that read or send at a trickle are cut off; one address cannot hold more
//! than its share of connections. Raw sockets, each from its own loopback address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::both_backends;
use crate::common::{Backend, TestApp};

both_backends!(slow_readers_and_slow_senders_are_cut_off, one_address_holds_at_most_its_share_of_connections);

/// How long a test waits for something the server must do within its 2 s timeouts.
const BOUND: Duration = Duration::from_secs(60);

async fn connect_from(app: &TestApp, from: Ipv4Addr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
    socket.connect(SocketAddr::from(([127, 0, 0, 1], app.port))).await.unwrap()
}

/// Sends pipelined requests for the stylesheet and never reads; keeps sending now and
/// then until the server drops the connection (the write fails).
async fn slow_reader(app: &TestApp, from: Ipv4Addr, stylesheet: String) {
    let mut conn = connect_from(app, from).await;
    let request = format!("GET {stylesheet} HTTP/1.1\r\nHost: localhost\r\n\r\n").repeat(64);
    let cut_off = tokio::time::timeout(BOUND, async {
        loop {
            if conn.write_all(request.as_bytes()).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(cut_off.is_ok(), "a reader from {from} that never reads was not disconnected");
}

/// Declares a 60 KiB form and sends it a byte at a time; the server must answer 408
/// and close.
async fn slow_sender(app: &TestApp, from: Ipv4Addr) -> String {
    let mut conn = connect_from(app, from).await;
    let origin = format!("http://127.0.0.1:{}", app.port);
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nOrigin: {origin}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 61440\r\n\r\n",
        app.port
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(BOUND, async {
        let (mut read, mut write) = conn.split();
        let trickle = async {
            while write.write_all(b"a").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            std::future::pending::<()>().await
        };
        let mut answer = Vec::new();
        tokio::select! {
            _ = trickle => unreachable!(),
            _ = read.read_to_end(&mut answer) => {}
        }
        answer
    })
    .await
    .expect("a sender that trickles its body was not cut off");
    String::from_utf8_lossy(&answer).into_owned()
}

async fn slow_readers_and_slow_senders_are_cut_off(backend: Backend) {
    let app = TestApp::builder(backend)
        .with_seed_article()
        .configure(|c| {
            c.write_timeout = Duration::from_secs(2);
            c.body_timeout = Duration::from_secs(2);
        })
        .start()
        .await;
    let page = app.page("/").await.1;
    let start = page.find("href=\"/static/").expect("a stylesheet") + "href=\"".len();
    let stylesheet = page[start..start + page[start..].find('"').unwrap()].to_owned();
    assert!(app.get(&stylesheet).await.status() == StatusCode::OK);

    // 200 of each, 20 per address (below the per-address cap).
    let address = |i: usize| Ipv4Addr::new(127, 0, 1 + (i / 20) as u8, 1 + (i % 20) as u8);
    let readers = (0..200).map(|i| slow_reader(&app, address(i), stylesheet.clone()));
    let senders = (0..200).map(|i| slow_sender(&app, address(200 + i)));
    let normal = async {
        // A normal client is served while the slow ones hold their connections.
        let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let r = client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = client.get(app.url(&format!("/articles/{}", crate::common::SEED_SLUG))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    };
    let (_, answers, ()) =
        tokio::join!(futures_util::future::join_all(readers), futures_util::future::join_all(senders), normal);
    // Each is cut off: answered 408, or (when the machine is loaded and another timeout
    // fires first: the header timeout answers a bare 408, the write timeout just
    // disconnects) simply disconnected; many get the body deadline's 408 and reason.
    let answered = answers.iter().filter(|a| !a.is_empty()).count();
    for answer in answers.iter().filter(|a| !a.is_empty()) {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    let reasoned = answers.iter().filter(|a| a.contains("The request body did not arrive within 2 s.")).count();
    assert!(answered >= answers.len() / 2, "only {answered} of {} slow senders got a 408", answers.len());
    assert!(reasoned >= answers.len() / 4, "only {reasoned} of {} 408s gave the reason", answers.len());
    // Still serving afterwards.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

async fn one_address_holds_at_most_its_share_of_connections(backend: Backend) {
    let app = TestApp::builder(backend).configure(|c| c.header_timeout = Duration::from_secs(60)).start().await;
    let from = Ipv4Addr::new(127, 0, 9, 9);
    let mut held = Vec::new();
    for _ in 0..64 {
        let mut conn = connect_from(&app, from).await;
        // Served: the connection is admitted. Then a request begun and not finished.
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 12];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        conn.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(conn);
    }
    // The 65th is closed without an answer.
    let mut extra = connect_from(&app, from).await;
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(BOUND, extra.read_to_end(&mut answer)).await.expect("the 65th was closed");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // Other addresses are served.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    // A connection closed gives its place back.
    drop(held.pop());
    let served = tokio::time::timeout(BOUND, async {
        loop {
            let mut conn = connect_from(&app, from).await;
            let _ = conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
            let mut answer = Vec::new();
            let _ = conn.read_to_end(&mut answer).await;
            if answer.starts_with(b"HTTP/1.1 200") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(served.is_ok(), "the freed place was not given back");
}
