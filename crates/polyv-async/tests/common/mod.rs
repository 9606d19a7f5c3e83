//! Shared test helpers: a mock-backed client and a tiny raw HTTP server for
//! what the mock cannot do (redirects, endless bodies, counting connections).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use polyv_async::{Client, Config, Credentials, RetryPolicy};
use polyv_mock::{DEMO_SECRET_KEY, DEMO_USER_ID, Dataset, MockServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const EMAIL: &str = "ops+cn@example.com";

/// A dataset of `n` videos in one sub-account.
pub fn dataset(n: usize) -> Dataset {
    let mut ds = Dataset::empty_demo();
    ds.add_videos(DEMO_USER_ID, EMAIL, 1, n);
    ds
}

pub fn config(base_url: &str) -> Config {
    Config::new(Credentials::new(DEMO_USER_ID, DEMO_SECRET_KEY).unwrap())
        .with_base_url(base_url)
        .unwrap()
        .with_retry(
            RetryPolicy::default()
                .with_backoff(Duration::from_millis(10), Duration::from_millis(50)),
        )
}

pub fn client(server: &MockServer) -> Client {
    Client::new(config(&server.base_url())).unwrap()
}

/// The `page` parameter of every logged request, in arrival order.
pub fn pages_requested(server: &MockServer) -> Vec<u32> {
    server
        .requests()
        .iter()
        .map(|r| r.param("page").map_or(1, |p| p.parse().unwrap()))
        .collect()
}

/// A raw HTTP/1.1 server on loopback: `respond` gets the request head and
/// writes whatever it likes; connections are kept alive while it returns
/// `true`. Returns the base URL and the count of accepted connections.
pub async fn raw_server<F, Fut>(respond: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(String, tokio::net::TcpStream) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Option<tokio::net::TcpStream>> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let respond = respond.clone();
            tokio::spawn(async move {
                loop {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match stream.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    match respond(String::from_utf8_lossy(&head).into_owned(), stream).await {
                        Some(s) => stream = s,
                        None => return,
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), accepted)
}

/// Writes a complete response with a Content-Length and keeps the connection.
pub async fn reply(
    mut stream: tokio::net::TcpStream,
    status: &str,
    headers: &str,
    body: &str,
) -> Option<tokio::net::TcpStream> {
    let msg = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(msg.as_bytes()).await.ok()?;
    Some(stream)
}

pub const EMPTY_PAGE: &str = r#"{"code":200,"status":"success","message":"success","data":{"pageSize":20,"pageNumber":1,"totalItems":0,"contents":[]}}"#;
