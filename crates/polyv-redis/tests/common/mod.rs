//! A real `redis-server` for the tests: started on a free loopback port with
//! its own temporary directory, no persistence, and killed on drop.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

/// A loopback port nothing listens on (just freed by the OS).
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl RedisServer {
    /// Starts `redis-server` (the Debian package `redis-server`; `.ci/run`
    /// installs it) and waits until it answers PING.
    pub fn start() -> RedisServer {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "polyv-redis-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        // A port freed just before redis binds it may be taken meanwhile: try a few.
        for _ in 0..5 {
            if let Some(server) = Self::spawn(free_port(), &dir) {
                return server;
            }
        }
        panic!("redis-server did not start on a free port");
    }

    /// Starts `redis-server` on this port (one a killed server just freed).
    pub fn start_on(port: u16) -> RedisServer {
        let dir = std::env::temp_dir().join(format!(
            "polyv-redis-test-{}-port-{port}",
            std::process::id()
        ));
        Self::spawn(port, &dir).unwrap_or_else(|| panic!("redis-server did not start on {port}"))
    }

    fn spawn(port: u16, dir: &std::path::Path) -> Option<RedisServer> {
        // A failed attempt's drop removes the directory: make it each time.
        std::fs::create_dir_all(dir).expect("temp dir");
        {
            let child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run redis-server ({e}); install it: apt-get install -y redis-server"
                    )
                });
            let mut server = RedisServer {
                child,
                dir: dir.to_path_buf(),
                port,
            };
            if server.wait_ready() {
                return Some(server);
            }
            let _ = server.child.kill();
            let _ = server.child.wait();
            None
        }
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(client) = redis::Client::open(self.url()) {
                if let Ok(mut c) = client.get_connection_with_timeout(Duration::from_millis(200)) {
                    if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                        return true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A plain connection, for looking at what the scripts stored.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
            .expect("connect to the test redis")
    }

    /// Redis's clock (`TIME`) in microseconds.
    pub fn time_us(&self) -> u64 {
        let (s, us): (u64, u64) = redis::cmd("TIME")
            .query(&mut self.connection())
            .expect("TIME");
        s * 1_000_000 + us
    }

    /// Kills the server now (Redis "goes down").
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
