//! The canonical-ABI glue for the `wasi-lambda:handler/http` import, written by hand for the
//! reasons `crate::wasm` gives (strings from the host are checked, not trusted). Each function
//! names its WIT signature and the core signature the canonical ABI flattens it to; the host
//! mirrors the offsets in `src/host/http-import.ts`, and the component test (jco lifting and
//! lowering the same module from the WIT) checks both sides against the world.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use http::{HeaderName, HeaderValue, Request, Response, StatusCode};

use super::HttpError;
use crate::executor::reactor;

#[link(wasm_import_module = "wasi-lambda:handler/http@0.2.0")]
unsafe extern "C" {
    /// `send: func(req: request) -> result<u32, http-error>`: the record flattens to eleven
    /// parameters (method, url, headers as `(ptr, len)`; `option<list<u8>>` as tag, ptr, len;
    /// `option<u32>` as tag, value), the result goes to `ret` ([`SEND_RET`]).
    #[link_name = "send"]
    fn host_send(
        method_ptr: *const u8,
        method_len: usize,
        url_ptr: *const u8,
        url_len: usize,
        headers_ptr: *const [u32; 4],
        headers_len: usize,
        body_is_some: u32,
        body_ptr: *const u8,
        body_len: usize,
        timeout_is_some: u32,
        timeout_ms: u32,
        ret: *mut u8,
    );
    /// `wait: func(handles: list<u32>, timeout-ms: option<u32>) -> list<u32>`: the result
    /// list's `(ptr, len)` goes to `ret`, allocated by the host with `cabi_realloc(0, 0, 4, 4n)`.
    #[link_name = "wait"]
    fn host_wait(
        handles_ptr: *const u32,
        handles_len: usize,
        timeout_is_some: u32,
        timeout_ms: u32,
        ret: *mut u8,
    );
    /// `take: func(handle: u32) -> result<response, http-error>`, into `ret` ([`TAKE_RET`]).
    #[link_name = "take"]
    fn host_take(handle: u32, ret: *mut u8);
    /// `forget: func(handle: u32)`.
    #[link_name = "forget"]
    fn host_forget(handle: u32);
}

/// `result<u32, http-error>`: tag at 0; `ok` u32 at 4; `err` code `(ptr, len)` at 4, message at 12.
const SEND_RET: usize = 20;
/// `result<response, http-error>`: tag at 0; `ok` status u16 at 4, headers `(ptr, len)` at 8,
/// body at 16; `err` as in [`SEND_RET`].
const TAKE_RET: usize = 24;

#[repr(C, align(4))]
struct RetArea<const N: usize>([u8; N]);

impl<const N: usize> RetArea<N> {
    fn new() -> Self {
        Self([0; N])
    }

    fn u32(&self, offset: usize) -> u32 {
        let bytes = &self.0[offset..offset + 4];
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// Takes ownership of the `list<u8>` at `offset`, allocated by the host with
    /// `cabi_realloc(0, 0, 1, len)`.
    fn take_bytes(&self, offset: usize) -> Vec<u8> {
        take_bytes(self.u32(offset), self.u32(offset + 4))
    }

    fn take_error(&self) -> HttpError {
        HttpError::new(lossy(self.take_bytes(4)), lossy(self.take_bytes(12)))
    }
}

fn take_bytes(ptr: u32, len: u32) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: the canonical ABI hands the guest ownership of lists the host lowered, allocated
    // with this module's `cabi_realloc` at alignment 1, which is `Vec<u8>`'s layout.
    unsafe { Vec::from_raw_parts(ptr as usize as *mut u8, len as usize, len as usize) }
}

/// The canonical ABI promises UTF-8; a host that breaks the promise gets U+FFFD, not UB.
fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn invalid(message: impl Into<String>) -> HttpError {
    HttpError::new("InvalidRequest", message)
}

/// The host client needs no state in the guest: the host keeps connections.
#[derive(Clone, Debug, Default)]
pub(super) struct Inner;

/// Starts the request on the host (the first time the returned future is polled, as the
/// `async fn` around it runs) and waits for it on the executor's reactor.
pub(super) fn send(
    _inner: &Inner,
    request: Request<Vec<u8>>,
    timeout: Option<Duration>,
) -> InFlight {
    InFlight {
        state: start(request, timeout).map(Some),
    }
}

fn start(request: Request<Vec<u8>>, timeout: Option<Duration>) -> Result<u32, HttpError> {
    let (parts, body) = request.into_parts();
    let url = parts.uri.to_string();
    let mut headers: Vec<[u32; 4]> = Vec::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        let value = std::str::from_utf8(value.as_bytes())
            .map_err(|_| invalid(format!("the value of header {name} is not UTF-8")))?;
        let name = name.as_str();
        headers.push([
            name.as_ptr() as usize as u32,
            name.len() as u32,
            value.as_ptr() as usize as u32,
            value.len() as u32,
        ]);
    }
    let method = parts.method.as_str();
    let timeout_ms = timeout.map(|t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX));
    let mut ret = RetArea::<SEND_RET>::new();
    // SAFETY: every pointer names a live buffer of the given length for the whole call (the
    // header strings are borrowed from `parts`, which outlives it); `ret` is SEND_RET bytes.
    unsafe {
        host_send(
            method.as_ptr(),
            method.len(),
            url.as_ptr(),
            url.len(),
            headers.as_ptr(),
            headers.len(),
            u32::from(!body.is_empty()),
            body.as_ptr(),
            body.len(),
            u32::from(timeout_ms.is_some()),
            timeout_ms.unwrap_or(0),
            ret.0.as_mut_ptr(),
        );
    }
    match ret.0[0] {
        0 => Ok(ret.u32(4)),
        _ => Err(ret.take_error()),
    }
}

/// Blocks in the host until one of `handles` is ready or `timeout` passes; the reactor's park.
pub(crate) fn wait(handles: &[u32], timeout: Option<Duration>) -> Vec<u32> {
    // Rounded up: waking a little late re-checks the timers; waking early would spin.
    let timeout_ms = timeout.map(|t| {
        let ms = t.as_micros().div_ceil(1000);
        u32::try_from(ms).unwrap_or(u32::MAX)
    });
    let mut ret = RetArea::<8>::new();
    // SAFETY: `handles` is live for the call; `ret` holds the result list's `(ptr, len)`.
    unsafe {
        host_wait(
            handles.as_ptr(),
            handles.len(),
            u32::from(timeout_ms.is_some()),
            timeout_ms.unwrap_or(0),
            ret.0.as_mut_ptr(),
        );
    }
    let (ptr, len) = (ret.u32(0), ret.u32(4));
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: the host allocated the list with `cabi_realloc(0, 0, 4, 4 * len)`, the layout of
    // a `Vec<u32>` of capacity `len`.
    unsafe { Vec::from_raw_parts(ptr as usize as *mut u32, len as usize, len as usize) }
}

fn take(handle: u32) -> Result<Response<Vec<u8>>, HttpError> {
    let mut ret = RetArea::<TAKE_RET>::new();
    // SAFETY: `ret` is TAKE_RET bytes, aligned to 4.
    unsafe { host_take(handle, ret.0.as_mut_ptr()) };
    if ret.0[0] != 0 {
        return Err(ret.take_error());
    }
    let status = u16::from_le_bytes([ret.0[4], ret.0[5]]);
    let (headers_ptr, headers_len) = (ret.u32(8), ret.u32(12));
    let body = ret.take_bytes(16);
    let entries: Vec<[u32; 4]> = if headers_len == 0 {
        Vec::new()
    } else {
        // SAFETY: `list<tuple<string, string>>`, 16 bytes per element at alignment 4, allocated
        // with `cabi_realloc(0, 0, 4, 16n)`: the layout of a `Vec<[u32; 4]>` of capacity n.
        unsafe {
            Vec::from_raw_parts(
                headers_ptr as usize as *mut [u32; 4],
                headers_len as usize,
                headers_len as usize,
            )
        }
    };
    // Every string is taken (and so freed) even when an earlier one is refused.
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = entries
        .iter()
        .map(|[np, nl, vp, vl]| (take_bytes(*np, *nl), take_bytes(*vp, *vl)))
        .collect();
    let protocol = |what: String| HttpError::new("ProtocolError", what);
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status)
        .map_err(|_| protocol(format!("the host answered status {status}")))?;
    let headers = response.headers_mut();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(&name)
            .map_err(|_| protocol(format!("a header name is invalid: {}", lossy(name))))?;
        let value = HeaderValue::from_bytes(&value)
            .map_err(|_| protocol(format!("the value of header {name} is invalid")))?;
        headers.append(name, value);
    }
    Ok(response)
}

/// A request started on the host: ready when the reactor says the host reported its handle.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub(super) struct InFlight {
    /// `Ok(Some(handle))` in flight, `Ok(None)` finished, `Err` refused by `send`.
    state: Result<Option<u32>, HttpError>,
}

impl Future for InFlight {
    type Output = Result<Response<Vec<u8>>, HttpError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            Err(err) => Poll::Ready(Err(err.clone())),
            Ok(None) => panic!("`InFlight` polled after completion"),
            Ok(Some(handle)) => {
                let handle = *handle;
                if !reactor::poll_io(handle, cx.waker()) {
                    return Poll::Pending;
                }
                self.state = Ok(None);
                reactor::release_io(handle);
                Poll::Ready(take(handle))
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(Some(handle)) = self.state {
            reactor::release_io(handle);
            // SAFETY: no memory crosses; the host drops the request's outcome when it comes.
            unsafe { host_forget(handle) };
        }
    }
}
