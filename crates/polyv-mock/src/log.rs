//! The request log.

use crate::endpoint::Endpoint;
use crate::fault::Fault;

/// One request as the mock saw and answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// 1-based arrival number across the server (all paths).
    pub number: u64,
    /// HTTP method.
    pub method: String,
    /// Path, as sent (not percent-decoded).
    pub path: String,
    /// Query string as sent, without `?` (`""` when none).
    pub raw_query: String,
    /// The parameters decoded as `application/x-www-form-urlencoded`, in
    /// wire order: the query's first, then a form body's (so a GET and a
    /// form POST of the same call log the same parameters).
    pub params: Vec<(String, String)>,
    /// The mock's clock (including the offset) when the request arrived, ms
    /// since the epoch (the same as [`LoggedRequest::arrived_at_ms`]).
    pub server_time_ms: i64,
    /// HTTP status sent.
    pub status: u16,
    /// The envelope's `code`, when the response was a complete Polyv envelope.
    pub code: Option<i64>,
    /// The envelope's `message`, when the response was a complete Polyv envelope.
    pub message: Option<String>,
    /// The fault injected into this request, if any (not set for rate-limited requests).
    pub fault: Option<Fault>,
    /// The endpoint the path names, `None` for an unknown path.
    pub endpoint: Option<Endpoint>,
    /// Whether the body was read as a form (a POST with
    /// `Content-Type: application/x-www-form-urlencoded`).
    pub form: bool,
    /// The request body as sent (lossy UTF-8; `""` when empty).
    pub raw_body: String,
    /// The mock's clock when the request arrived (before its body was
    /// read), ms since the epoch.
    pub arrived_at_ms: i64,
    /// The mock's clock when the answer was decided (after any
    /// [`Fault::Latency`]), ms since the epoch.
    pub answered_at_ms: i64,
}

impl LoggedRequest {
    /// The value of the first parameter with this name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// One human-readable line: number, method, path, decoded parameters
    /// (`sign` cut to 8 characters), status, code and message.
    pub fn log_line(&self) -> String {
        let mut params = String::new();
        for (k, v) in &self.params {
            if !params.is_empty() {
                params.push(' ');
            }
            params.push_str(k);
            params.push('=');
            if k == "sign" && v.chars().count() > 8 {
                params.extend(v.chars().take(8));
                params.push('…');
            } else {
                for c in v.chars() {
                    if c.is_control() {
                        params.extend(c.escape_debug());
                    } else {
                        params.push(c);
                    }
                }
            }
        }
        let mut line = format!(
            "#{} {} {} [{}] -> {}",
            self.number, self.method, self.path, params, self.status
        );
        if let Some(code) = self.code {
            line.push_str(&format!(" code={code}"));
        }
        if let Some(m) = &self.message {
            line.push_str(&format!(" {m:?}"));
        }
        if let Some(f) = &self.fault {
            line.push_str(&format!(" fault={f:?}"));
        }
        line
    }
}
