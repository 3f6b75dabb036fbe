//! The canonical-ABI glue for the `handle` export of `wasi-lambda:handler/lambda-handler`.
//!
//! `handle(event: list<u8>, ctx: context) -> result<list<u8>, handler-error>` flattens to
//! more than 16 parameters and more than one result, so by the canonical ABI the caller
//! passes a pointer to the arguments (laid out as a tuple, allocated with `cabi_realloc`)
//! and receives a pointer to the result, which it releases with `cabi_post_handle`.
//! The offsets below are that layout; the host mirrors them in `src/host/abi.ts`, and the
//! component test (jco) checks both against the WIT world.

use std::alloc::{self, Layout};

use serde::{Serialize, de::DeserializeOwned};

use crate::{Context, Error, dispatch::dispatch, panic};

/// Size and alignment of the argument tuple `(list<u8>, context)`.
const ARGS_SIZE: usize = 120;
const ARGS_ALIGN: usize = 8;
/// Size of `result<list<u8>, handler-error>`: a tag byte, then the payload at offset 4.
const RET_SIZE: usize = 20;

#[repr(C, align(4))]
struct RetArea([u8; RET_SIZE]);
/// wasm32 modules are single-threaded; the host reads this area before the next call.
static mut RET_AREA: RetArea = RetArea([0; RET_SIZE]);

#[repr(C, align(4))]
struct PanicArea([u32; 2]);
static mut PANIC_AREA: PanicArea = PanicArea([0; 2]);
static mut PANIC_TEXT: Option<String> = None;

unsafe fn read_u32(base: *const u8, offset: usize) -> u32 {
    unsafe { base.add(offset).cast::<u32>().read_unaligned() }
}

/// Takes ownership of a `list<u8>` the host allocated with `cabi_realloc(0, 0, 1, len)`.
unsafe fn take_bytes(base: *const u8, offset: usize) -> Vec<u8> {
    let ptr = unsafe { read_u32(base, offset) } as usize as *mut u8;
    let len = unsafe { read_u32(base, offset + 4) } as usize;
    if len == 0 {
        return Vec::new();
    }
    unsafe { Vec::from_raw_parts(ptr, len, len) }
}

unsafe fn take_string(base: *const u8, offset: usize) -> String {
    let bytes = unsafe { take_bytes(base, offset) };
    // The canonical ABI promises UTF-8; a host that breaks the promise gets replacement
    // characters rather than undefined behaviour.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

unsafe fn take_option_string(base: *const u8, offset: usize) -> Option<String> {
    match unsafe { base.add(offset).read() } {
        0 => None,
        _ => Some(unsafe { take_string(base, offset + 4) }),
    }
}

unsafe fn take_context(base: *const u8) -> Context {
    unsafe {
        Context {
            request_id: take_string(base, 8),
            function_name: take_string(base, 16),
            function_version: take_string(base, 24),
            invoked_function_arn: take_string(base, 32),
            memory_limit_mb: read_u32(base, 40),
            deadline_ms: base.add(48).cast::<u64>().read_unaligned(),
            log_group_name: take_string(base, 56),
            log_stream_name: take_string(base, 64),
            xray_trace_id: take_option_string(base, 72),
            client_context: take_option_string(base, 84),
            identity: take_option_string(base, 96),
            tenant_id: take_option_string(base, 108),
        }
    }
}

/// Hands a byte buffer to the host as `(ptr, len)`; `post_handle` frees it.
fn leak_bytes(bytes: Vec<u8>) -> (u32, u32) {
    let len = bytes.len() as u32;
    let ptr = Box::into_raw(bytes.into_boxed_slice()).cast::<u8>() as usize as u32;
    (ptr, len)
}

unsafe fn free_bytes(ptr: u32, len: u32) {
    if len != 0 {
        let layout = Layout::from_size_align(len as usize, 1).expect("valid layout");
        unsafe { alloc::dealloc(ptr as usize as *mut u8, layout) };
    }
}

/// The body of the `handle` export.
///
/// # Safety
/// `args` must point to the argument tuple laid out by the canonical ABI, allocated with
/// `cabi_realloc(0, 0, 8, 120)`, whose lists were allocated with `cabi_realloc` too.
pub unsafe fn handle<E, R, X, F>(args: *mut u8, handler: F) -> *mut u8
where
    E: DeserializeOwned,
    R: Serialize,
    X: Into<Error>,
    F: FnOnce(E, Context) -> Result<R, X>,
{
    panic::install_hook();
    let (event, ctx) = unsafe {
        let event = take_bytes(args, 0);
        let ctx = take_context(args);
        alloc::dealloc(
            args,
            Layout::from_size_align_unchecked(ARGS_SIZE, ARGS_ALIGN),
        );
        (event, ctx)
    };
    let outcome = dispatch(&event, ctx, handler);
    drop(event);

    let ret = &raw mut RET_AREA;
    let words: [u32; 5] = match outcome {
        Ok(body) => {
            let (ptr, len) = leak_bytes(body);
            [0, ptr, len, 0, 0]
        }
        Err(err) => {
            let (error_type, message) = err.into_parts();
            let (tp, tl) = leak_bytes(error_type.into_bytes());
            let (mp, ml) = leak_bytes(message.into_bytes());
            [1, tp, tl, mp, ml]
        }
    };
    unsafe {
        let base = ret.cast::<u8>();
        for (i, word) in words.iter().enumerate() {
            base.add(i * 4).cast::<u32>().write(*word);
        }
        base
    }
}

/// The body of `cabi_post_handle`: frees what `handle` returned.
///
/// # Safety
/// `ret` must be the pointer the last `handle` call returned.
pub unsafe fn post_handle(ret: *mut u8) {
    unsafe {
        match ret.read() {
            0 => free_bytes(read_u32(ret, 4), read_u32(ret, 8)),
            _ => {
                free_bytes(read_u32(ret, 4), read_u32(ret, 8));
                free_bytes(read_u32(ret, 12), read_u32(ret, 16));
            }
        }
    }
}

/// The body of `cabi_realloc`, the canonical ABI's allocator.
///
/// # Safety
/// `old_ptr`/`old_len`/`align` must describe an allocation this function made (or be
/// `0, 0, align` for a new one); `align` must be a power of two.
pub unsafe fn realloc(old_ptr: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    let ptr = unsafe {
        if old_len == 0 {
            if new_len == 0 {
                return align as *mut u8;
            }
            alloc::alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            alloc::realloc(
                old_ptr,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if ptr.is_null() {
        // Out of linear memory: trap, the host reports it and replaces the instance.
        std::process::abort();
    }
    ptr
}

/// The body of the optional `wasi_lambda_panic_info` export: after a trap, a pointer to
/// `(ptr: u32, len: u32)` of the last panic's UTF-8 description, or 0 if nothing panicked.
/// It is not part of the WIT world; a host that ignores it still sees the trap.
pub fn panic_info() -> *const u8 {
    let Some(text) = panic::last_panic() else {
        return std::ptr::null();
    };
    unsafe {
        let slot = &raw mut PANIC_TEXT;
        let text = (*slot).insert(text);
        let area = &raw mut PANIC_AREA;
        (*area).0 = [text.as_ptr() as usize as u32, text.len() as u32];
        area.cast::<u8>()
    }
}
