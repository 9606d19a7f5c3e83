//! The only part that touches a socket: send one signed request with ureq,
//! read its body under the size cap, and map ureq's failures to the core's
//! error type.

use std::io::{self, Read as _};
use std::net::{IpAddr, SocketAddr};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use polyv_core::driver::Response;
use polyv_core::{Config, Error, TransportCause, TransportErrorKind, http, redact_signed};

/// Builds the agent for a [`polyv_core::Config`]: no redirects, 4xx/5xx as
/// plain responses, the configured timeouts and user agent. TLS is rustls
/// with ring and the webpki roots (ureq's `rustls` feature), certificate and
/// host-name checks on. Without `pooled`, no connection is kept for reuse:
/// every request opens a fresh one.
pub(crate) fn agent(config: &polyv_core::Config, pooled: bool) -> ureq::Agent {
    let builder = ureq::Agent::config_builder();
    let builder = if pooled {
        builder
    } else {
        builder
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
    };
    let ureq_config = builder
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(config.connect_timeout()))
        .timeout_global(Some(config.timeout()))
        .user_agent(config.user_agent())
        .build();
    ureq::Agent::with_parts(
        ureq_config,
        DefaultConnector::default(),
        IpLiteralsFirst::default(),
    )
}

/// Answers hosts that are IP literals (`127.0.0.1`, `[::1]`) without a lookup
/// and hands names to ureq's own resolver.
///
/// Why: whenever a timeout is set, ureq's default resolver runs every lookup
/// on a fresh thread so that it can be abandoned, and it resolves before it
/// looks for a pooled connection, so each request on a kept-alive connection
/// to `127.0.0.1` started and joined a thread (measured in `cargo xtask
/// bench`). A literal needs no lookup, so nothing changes but the cost.
#[derive(Debug, Default)]
struct IpLiteralsFirst(DefaultResolver);

impl Resolver for IpLiteralsFirst {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match ip_literal(uri) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.0.resolve(uri, config, timeout),
        }
    }
}

/// The socket address of a URI whose host is an IP literal.
fn ip_literal(uri: &http::Uri) -> Option<SocketAddr> {
    let host = uri.host()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host.parse().ok()?;
    let port = uri.port_u16().or(match uri.scheme_str()? {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some(SocketAddr::new(ip, port))
}

/// Sends one request and reads the whole body (at most the config's
/// `max_body_bytes`), with the config's per-attempt timeout.
///
/// The settings the client relies on are applied to the request itself, so
/// they hold for a caller-supplied agent too.
pub(crate) fn send(
    agent: &ureq::Agent,
    request: http::Request<Vec<u8>>,
    config: &Config,
) -> Result<Response, Error> {
    let (parts, body) = request.into_parts();
    // A GET goes without a body at all, not with an empty one.
    let response = if body.is_empty() {
        run(agent, http::Request::from_parts(parts, ()), config)
    } else {
        run(agent, http::Request::from_parts(parts, body), config)
    }
    .map_err(|e| map_error(e, Phase::Exchange))?;
    let (parts, mut body) = response.into_parts();
    let mut bytes = config.body_buffer(body.content_length())?;
    // The limit reader stops one byte past the cap.
    body.with_config()
        .limit(config.max_body_bytes())
        .reader()
        .read_to_end(&mut bytes)
        .map_err(|e| map_error(ureq::Error::from(e), Phase::Body))?;
    Ok(Response::new(parts.status.as_u16(), &parts.headers, bytes))
}

fn run(
    agent: &ureq::Agent,
    request: http::Request<impl ureq::AsSendBody>,
    config: &Config,
) -> Result<http::Response<ureq::Body>, ureq::Error> {
    let request = agent
        .configure_request(request)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(config.timeout()))
        .build();
    agent.run(request)
}

/// Where in an attempt an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Connecting, the TLS handshake, sending, reading the response head.
    Exchange,
    /// Reading the body.
    Body,
}

/// Maps a ureq error to the core's error. Every message goes through
/// [`redact_signed`], in case it quotes the signed URL.
pub(crate) fn map_error(error: ureq::Error, phase: Phase) -> Error {
    let kind = match &error {
        ureq::Error::BodyExceedsLimit(limit) => return Error::BodyTooLarge { limit: *limit },
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Tls(_)
        | ureq::Error::Pem(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::TlsRequired
        | ureq::Error::ConnectProxyFailed(_) => TransportErrorKind::Connect,
        // rustls reports a failed handshake as an I/O error wrapping its own.
        ureq::Error::Io(io) if phase == Phase::Exchange && is_tls(io) => {
            TransportErrorKind::Connect
        }
        // Closed before any response: typically a kept-alive connection the
        // server closed while it sat in the pool.
        ureq::Error::Io(io) if phase == Phase::Exchange && is_closed(io) => {
            TransportErrorKind::Closed
        }
        ureq::Error::Io(io) => io_kind(io),
        // A malformed or cut-off HTTP exchange: the connection misbehaved.
        ureq::Error::Protocol(_) | ureq::Error::BodyStalled => TransportErrorKind::Io,
        _ => TransportErrorKind::Other,
    };
    Error::Transport {
        kind,
        message: redact_signed(&error.to_string()),
        cause: Some(TransportCause::of(&error)),
    }
}

fn is_closed(error: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(
        error.kind(),
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
    )
}

fn is_tls(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
}

fn io_kind(error: &io::Error) -> TransportErrorKind {
    use io::ErrorKind as K;
    match error.kind() {
        K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout,
        K::ConnectionRefused
        | K::AddrNotAvailable
        | K::AddrInUse
        | K::NetworkUnreachable
        | K::HostUnreachable
        | K::NetworkDown
        | K::NotFound => TransportErrorKind::Connect,
        _ => TransportErrorKind::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_without_a_lookup() {
        let cases = [
            ("http://127.0.0.1:8080/x", Some("127.0.0.1:8080")),
            ("http://127.0.0.1/x", Some("127.0.0.1:80")),
            ("https://[::1]/x", Some("[::1]:443")),
            ("http://[::1]:9/x", Some("[::1]:9")),
            ("https://api.polyv.net/v2", None),
        ];
        for (uri, expected) in cases {
            let uri: http::Uri = uri.parse().unwrap();
            assert_eq!(
                ip_literal(&uri),
                expected.map(|a| a.parse::<SocketAddr>().unwrap()),
                "{uri}"
            );
        }
    }

    #[test]
    fn errors_map_to_kinds() {
        let io = |k: io::ErrorKind| map_error(ureq::Error::Io(io::Error::from(k)), Phase::Body);
        assert!(matches!(
            io(io::ErrorKind::ConnectionRefused),
            Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        ));
        assert!(matches!(
            io(io::ErrorKind::UnexpectedEof),
            Error::Transport {
                kind: TransportErrorKind::Io,
                ..
            }
        ));
        let closed = map_error(
            ureq::Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Peer disconnected",
            )),
            Phase::Exchange,
        );
        assert!(closed.is_closed_before_response(), "{closed:?}");
        // The same failure while the body is read is a broken connection.
        assert!(!io(io::ErrorKind::UnexpectedEof).is_closed_before_response());
        assert!(matches!(
            io(io::ErrorKind::TimedOut),
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                ..
            }
        ));
        assert!(matches!(
            map_error(ureq::Error::BodyExceedsLimit(7), Phase::Body),
            Error::BodyTooLarge { limit: 7 }
        ));
        assert!(matches!(
            map_error(ureq::Error::TooManyRedirects, Phase::Exchange),
            Error::Transport {
                kind: TransportErrorKind::Other,
                ..
            }
        ));
        let bad = map_error(
            ureq::Error::BadUri(
                "http://x/?ptime=1&sign=50BF9B165630A8047EB1D17D95A469CC51FF754E".into(),
            ),
            Phase::Exchange,
        );
        assert!(
            !bad.to_string()
                .contains("50BF9B165630A8047EB1D17D95A469CC51FF754E")
        );
    }
}
