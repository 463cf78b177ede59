//! The ABI's machinery: guest memory for the host (`alloc`, `free`), the packed buffers
//! `describe` and `handle` return, request dispatch, and the two host imports. Tool code
//! uses it only through `export!`.

use crate::json::{self, Value};
use crate::{error_result, Call, Module, Output};

// Every buffer from `alloc` starts HEADER bytes after a header holding its size, because the
// ABI's `free(ptr)` does not pass one back.
const HEADER: usize = 8;

/// A buffer of `size` writable bytes whose size `free_raw` can find again; null when memory
/// is exhausted.
pub fn alloc_raw(size: usize) -> *mut u8 {
    let total = match size.checked_add(HEADER) {
        Some(t) => t,
        None => return std::ptr::null_mut(),
    };
    let layout = match std::alloc::Layout::from_size_align(total, HEADER) {
        Ok(l) => l,
        Err(_) => return std::ptr::null_mut(),
    };
    // SAFETY: the layout is not zero-sized (it holds the header).
    let base = unsafe { std::alloc::alloc(layout) };
    if base.is_null() {
        return base;
    }
    // SAFETY: base points to at least HEADER bytes aligned to 8.
    unsafe {
        (base as *mut usize).write(total);
        base.add(HEADER)
    }
}

/// Releases a buffer from `alloc_raw`; null is ignored.
///
/// # Safety
/// `ptr` must be null or a pointer `alloc_raw` returned and nobody freed.
pub unsafe fn free_raw(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    let base = ptr.sub(HEADER);
    let total = (base as *const usize).read();
    std::alloc::dealloc(base, std::alloc::Layout::from_size_align_unchecked(total, HEADER));
}

/// Export `alloc`: a pointer to `size` writable bytes, or 0 when memory is exhausted.
#[cfg(target_arch = "wasm32")]
pub fn alloc(size: u32) -> u32 {
    alloc_raw(size as usize) as u32
}

/// Export `free`: releases a buffer from `alloc`; 0 is ignored.
///
/// # Safety
/// `ptr` must be 0 or a pointer `alloc` returned and nobody freed.
#[cfg(target_arch = "wasm32")]
pub unsafe fn free(ptr: u32) {
    free_raw(ptr as usize as *mut u8)
}

/// Copies the `len` bytes at `ptr` (a buffer from `alloc`) and frees the buffer.
///
/// # Safety
/// `ptr` must come from `alloc` with at least `len` bytes.
#[cfg(target_arch = "wasm32")]
unsafe fn take(ptr: u32, len: u32) -> Vec<u8> {
    let p = ptr as usize as *mut u8;
    let v = std::slice::from_raw_parts(p, len as usize).to_vec();
    free_raw(p);
    v
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    // The last buffer returned to the host: it must stay valid until the guest is entered again.
    static OUT: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::new());
}

#[cfg(target_arch = "wasm32")]
fn pack(b: Vec<u8>) -> u64 {
    OUT.with(|out| {
        let mut out = out.borrow_mut();
        *out = b;
        ((out.as_ptr() as usize as u64) << 32) | out.len() as u64
    })
}

/// Export `describe`: the packed manifest.
#[cfg(target_arch = "wasm32")]
pub fn describe(m: &Module) -> u64 {
    panic_to_log();
    pack(m.manifest_json().into_bytes())
}

/// Export `handle`: runs one call; the request is in a buffer from `alloc`, which it frees.
///
/// # Safety
/// `ptr` and `len` must be the buffer the host placed with `alloc`.
#[cfg(target_arch = "wasm32")]
pub unsafe fn handle(m: &Module, ptr: u32, len: u32) -> u64 {
    panic_to_log();
    let req = take(ptr, len);
    pack(dispatch(m, &req).to_json().into_bytes())
}

/// Export `describe` of `export_raw!`: the packed manifest text.
#[cfg(target_arch = "wasm32")]
pub fn describe_text(manifest: String) -> u64 {
    panic_to_log();
    pack(manifest.into_bytes())
}

/// Export `handle` of `export_raw!`: passes the request message (a buffer from `alloc`, which
/// it frees) to `f` and returns the result message `f` gives.
///
/// # Safety
/// `ptr` and `len` must be the buffer the host placed with `alloc`.
#[cfg(target_arch = "wasm32")]
pub unsafe fn handle_raw(f: fn(&[u8]) -> Vec<u8>, ptr: u32, len: u32) -> u64 {
    panic_to_log();
    let req = take(ptr, len);
    pack(f(&req))
}

/// Runs the request message `req` against the module's tools and returns the result.
pub fn dispatch(m: &Module, req: &[u8]) -> Output {
    let v: Value = match std::str::from_utf8(req).map_err(|_| "not UTF-8".to_string()).and_then(|s| json::parse(s).map_err(|e| e.to_string())) {
        Ok(v) => v,
        Err(why) => return error_result(format!("the kit cannot read the request: {why}")),
    };
    let name = v.get("tool").str();
    let tool = match m.tools.iter().find(|t| t.name == name) {
        Some(t) => t,
        None => return error_result(format!("this module has no tool named {}", json::quote(name))),
    };
    let args = match v.get("arguments") {
        a @ Value::Object(_) => a.clone(),
        _ => Value::Object(Vec::new()),
    };
    let call = Call { tool: name.to_string(), call_id: v.get("call_id").str().to_string(), args };
    match (tool.handler)(&call) {
        Ok(out) => out,
        Err(e) => error_result(e.0),
    }
}

/// Splits a message at its first 0 byte: the JSON header, and the body when there is one.
pub fn split(msg: &[u8]) -> (&[u8], Option<&[u8]>) {
    match msg.iter().position(|b| *b == 0) {
        Some(i) => (&msg[..i], Some(&msg[i + 1..])),
        None => (msg, None),
    }
}

// A panic traps the instance (panic = abort); first its message goes to the server's log,
// where the host's "crashed" result points.
#[cfg(target_arch = "wasm32")]
fn panic_to_log() {
    static mut SET: bool = false;
    // SAFETY: wasm32-unknown-unknown runs one thread.
    unsafe {
        if !SET {
            SET = true;
            std::panic::set_hook(Box::new(|info| host_log(3, format!("panic: {info}").as_bytes())));
        }
    }
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "pal")]
extern "C" {
    #[link_name = "call"]
    fn pal_call(ptr: u32, len: u32) -> u64;
    #[link_name = "log"]
    fn pal_log(level: i32, ptr: u32, len: u32);
}

/// Sends a request message to the host; the reply message, or `None` when the host could not
/// place it (the guest's `alloc` returned 0).
#[cfg(target_arch = "wasm32")]
pub fn host_call(msg: &[u8]) -> Option<Vec<u8>> {
    // SAFETY: the host reads msg during the call and writes the reply into a buffer from alloc.
    let packed = unsafe { pal_call(msg.as_ptr() as u32, msg.len() as u32) };
    if packed == 0 {
        return None;
    }
    Some(unsafe { take((packed >> 32) as u32, packed as u32) })
}

/// Writes a log line through the host.
#[cfg(target_arch = "wasm32")]
pub fn host_log(level: i32, msg: &[u8]) {
    // SAFETY: the host only reads msg during the call.
    unsafe { pal_log(level, msg.as_ptr() as u32, msg.len() as u32) }
}

/// Natively, requests go to the fake host of the running `FakeHost::call`.
#[cfg(not(target_arch = "wasm32"))]
pub fn host_call(msg: &[u8]) -> Option<Vec<u8>> {
    Some(crate::fakehost::serve(msg))
}

#[cfg(not(target_arch = "wasm32"))]
pub fn host_log(level: i32, msg: &[u8]) {
    crate::fakehost::log(level, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_free() {
        for size in [0usize, 1, 7, 8, 4096] {
            let p = alloc_raw(size);
            assert!(!p.is_null() && p as usize % HEADER == 0);
            unsafe {
                std::ptr::write_bytes(p, 0xab, size);
                free_raw(p);
            }
        }
        assert!(alloc_raw(usize::MAX).is_null());
        unsafe { free_raw(std::ptr::null_mut()) };
    }

    #[test]
    fn splits() {
        assert_eq!(split(b"{}"), (&b"{}"[..], None));
        assert_eq!(split(b"{}\0ab\0c"), (&b"{}"[..], Some(&b"ab\0c"[..])));
        assert_eq!(split(b"{}\0"), (&b"{}"[..], Some(&b""[..])));
    }
}
