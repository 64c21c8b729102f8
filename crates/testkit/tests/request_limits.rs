//! What one client can hold (issue 17): a request whose headers or body never finish is cut
//! off at its deadline, and one IP gets only so many requests in flight (then 429 with
//! Retry-After) while others are served.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::{Duration, Instant};

use scaikey_testkit::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base_url.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server answers or closes; the answer's first line and the time it took.
async fn outcome(mut s: TcpStream, started: Instant) -> (String, Duration) {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf))
        .await
        .expect("the server held the connection")
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_string();
    (text, started.elapsed())
}

#[tokio::test]
async fn slow_headers_and_bodies_are_cut_off_and_one_ip_cannot_hog_the_server() {
    let app = TestApp::spawn_with(&[
        ("SCAIKEY_HEADER_TIMEOUT_SECONDS", "1"),
        ("SCAIKEY_BODY_TIMEOUT_SECONDS", "1"),
        ("SCAIKEY_MAX_REQUESTS_PER_IP", "4"),
    ])
    .await
    .unwrap();

    // Headers that never end.
    let mut s = connect(&app).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let (line, took) = outcome(s, Instant::now()).await;
    assert!(took < Duration::from_secs(5), "slow headers held the connection {took:?} ({line})");

    // A body that never arrives, on an endpoint anyone may call.
    let mut s = connect(&app).await;
    s.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\"",
    )
    .await
    .unwrap();
    let (line, took) = outcome(s, Instant::now()).await;
    assert!(took < Duration::from_secs(5), "a slow body held the connection {took:?} ({line})");
    assert!(line.is_empty() || line.contains(" 4"), "answered with a client error or closed: {line}");

    // Four slow bodies in flight from this address: the fifth request is refused at once.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = connect(&app).await;
        s.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .await
            .unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = reqwest::get(format!("{}/healthz", app.base_url)).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    // Once they are cut off, the address is served again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if reqwest::get(format!("{}/healthz", app.base_url)).await.unwrap().status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the slots were never freed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
