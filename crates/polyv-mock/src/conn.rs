//! The mock's connections: a listener whose sockets can close a kept-alive
//! connection silently, as load balancers do with idle ones.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Accepts loopback connections, with `TCP_NODELAY`, each wrapped in a
/// [`Conn`].
pub(crate) struct MockListener {
    pub(crate) inner: TcpListener,
    pub(crate) silent_close: bool,
}

impl axum::serve::Listener for MockListener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = Conn {
                        stream,
                        silent_close: self.silent_close,
                        answered: false,
                        closed: false,
                    };
                    return (conn, addr);
                }
                // Out of file descriptors and the like: wait, as axum does.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// One accepted connection.
///
/// With `silent_close`, the connection serves one request only, without
/// saying so (no `Connection: close`): when a second request arrives on it,
/// the request is dropped unread and the connection is closed, so the
/// client sees its kept-alive connection closed before any byte of a
/// response, and the server never sees the request. That is what a client
/// meets behind a load balancer that closes idle connections, without the
/// race of when the close lands.
pub(crate) struct Conn {
    stream: TcpStream,
    silent_close: bool,
    /// A response has been written on this connection.
    answered: bool,
    /// The connection is being closed silently: reads see the end.
    closed: bool,
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.closed {
            return Poll::Ready(Ok(()));
        }
        if !(this.silent_close && this.answered) {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        // A second request: read it away and report the end of the stream,
        // so the server closes the connection without answering.
        let mut scratch = [0u8; 4096];
        let mut discard = ReadBuf::new(&mut scratch);
        match Pin::new(&mut this.stream).poll_read(cx, &mut discard) {
            Poll::Ready(Ok(())) => {
                this.closed = true;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.answered = true;
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.answered = true;
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
