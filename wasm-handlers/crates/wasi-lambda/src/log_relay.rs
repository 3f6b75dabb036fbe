//! Relays a native handler's stdout and stderr to the real stdout as Lambda log records
//! (`timestamp\trequestId\tLEVEL\tmessage`, or JSON with `AWS_LAMBDA_LOG_FORMAT=JSON`), so a
//! native `bootstrap` logs exactly like the wasm host does for its guest.
//!
//! File descriptors 1 and 2 are replaced by pipes; one thread per pipe turns lines into
//! records as they arrive, so output written before a crash is already out. At the end of
//! an invocation a marker travels down each pipe and the relay waits for it, which flushes a
//! trailing partial line under the right request id.

use std::{
    fs::File,
    io::{BufRead, BufReader, Write},
    os::fd::FromRawFd,
    sync::{Arc, Condvar, Mutex, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
};

/// Written down a pipe to mark the end of an invocation; cannot occur in UTF-8 text.
const MARKER: &[u8] = b"\xff\xfewasi-lambda-end\xfe\xff\n";

#[derive(Default)]
struct Shared {
    request_id: Mutex<String>,
    /// Markers seen since the last `end`.
    drained: Mutex<usize>,
    wake: Condvar,
}

/// The installed relay; `begin`/`end` bracket each invocation.
pub(crate) struct LogRelay {
    shared: Arc<Shared>,
    active: bool,
}

impl LogRelay {
    /// Redirects fds 1 and 2. If that fails, output goes out unformatted and `begin`/`end`
    /// do nothing: logging must never stop the function from serving.
    pub(crate) fn install() -> Self {
        let shared = Arc::new(Shared::default());
        let json =
            std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
        // SAFETY: plain POSIX calls on descriptors this process owns.
        let out = unsafe { libc::dup(1) };
        if out < 0 {
            return Self {
                shared,
                active: false,
            };
        }
        let sink = Arc::new(Mutex::new(unsafe { File::from_raw_fd(out) }));
        for (fd, level) in [(1, "INFO"), (2, "ERROR")] {
            let mut pipe = [0; 2];
            if unsafe { libc::pipe(pipe.as_mut_ptr()) } != 0
                || unsafe { libc::dup2(pipe[1], fd) } < 0
            {
                return Self {
                    shared,
                    active: false,
                };
            }
            unsafe { libc::close(pipe[1]) };
            let reader = unsafe { File::from_raw_fd(pipe[0]) };
            let (shared, sink) = (Arc::clone(&shared), Arc::clone(&sink));
            std::thread::spawn(move || relay(reader, level, json, &shared, &sink));
        }
        Self {
            shared,
            active: true,
        }
    }

    pub(crate) fn begin(&self, request_id: &str) {
        *self
            .shared
            .request_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = request_id.to_owned();
    }

    /// Flushes Rust's buffers, sends a marker down both pipes and waits until both relay
    /// threads have written everything before it.
    pub(crate) fn end(&self) {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        if !self.active {
            return;
        }
        for fd in [1, 2] {
            // SAFETY: writing a byte slice to our own descriptor.
            unsafe { libc::write(fd, MARKER.as_ptr().cast(), MARKER.len()) };
        }
        let mut drained = self
            .shared
            .drained
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *drained < 2 {
            drained = self
                .shared
                .wake
                .wait(drained)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *drained = 0;
    }
}

fn relay(reader: File, level: &str, json: bool, shared: &Shared, sink: &Mutex<File>) {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let (text, marker) = match find(&line, MARKER) {
            Some(at) => (&line[..at], true),
            None => (line.strip_suffix(b"\n").unwrap_or(&line), false),
        };
        // A marker right after a newline leaves nothing to log; otherwise it ends a partial line.
        if !(marker && text.is_empty()) {
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            let request_id = shared
                .request_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let record = format_record(json, level, &request_id, &String::from_utf8_lossy(text));
            let _ = sink
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .write_all(record.as_bytes());
        }
        if marker {
            *shared
                .drained
                .lock()
                .unwrap_or_else(PoisonError::into_inner) += 1;
            shared.wake.notify_all();
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Control characters other than tab become visible escapes, as the wasm host does: a handler
/// must not drive the terminal of whoever reads the log.
fn sanitize(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '\t' | '\n' => out.push(c),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

fn format_record(json: bool, level: &str, request_id: &str, message: &str) -> String {
    let message = &sanitize(message);
    let timestamp = rfc3339_millis(SystemTime::now());
    if json {
        let record = serde_json::json!({
            "timestamp": timestamp, "level": level, "requestId": request_id, "message": message,
        });
        return format!("{record}\n");
    }
    format!(
        "{timestamp}\t{request_id}\t{level}\t{}\n",
        message.replace('\n', "\r")
    )
}

/// `2026-11-22T14:20:25.123Z`, the timestamp shape Lambda's Node.js runtime writes.
fn rfc3339_millis(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_match_javascript_to_iso_string() {
        // new Date(1795357225123).toISOString()
        let at = UNIX_EPOCH + Duration::from_millis(1_795_357_225_123);
        assert_eq!(rfc3339_millis(at), "2026-11-22T14:20:25.123Z");
        assert_eq!(
            rfc3339_millis(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            sanitize("red \u{1b}[31m\r ok\tfine"),
            "red \\x1b[31m\\r ok\tfine"
        );
    }

    #[test]
    fn text_and_json_records_match_the_host() {
        let text = format_record(false, "INFO", "req", "a\nb");
        assert!(text.ends_with("\treq\tINFO\ta\rb\n"), "{text}");
        let json: serde_json::Value =
            serde_json::from_str(&format_record(true, "ERROR", "req", "x")).unwrap();
        assert_eq!(json["level"], "ERROR");
        assert_eq!(json["requestId"], "req");
        assert_eq!(json["message"], "x");
    }
}
