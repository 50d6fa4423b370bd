//! The guest of the `json_abi` example, in Rust for `wasm32-unknown-unknown` (a `cdylib`,
//! no dependencies: the example builds it with plain `rustc`).
//!
//! ABI: the host gets a buffer from `alloc(len)`, writes a UTF-8 JSON request into it and
//! calls `invoke(ptr, len)`, which returns the reply's `(ptr << 32) | len`; the host frees
//! both buffers with `dealloc(ptr, len)`. Requests: `{"op": "stats", "values": [numbers]}`
//! replies with their count, sum, minimum and maximum. Two let a test make the guest
//! misbehave: `{"op": "raw", "text": T}` replies with T as it is (not necessarily JSON) and
//! `{"op": "reply_at", "ptr": P, "len": L}` returns (P, L) as the reply.

use std::alloc::{Layout, alloc, dealloc};

/// A buffer of `len` bytes for the host (null if `len` is 0 or memory ran out).
#[unsafe(export_name = "alloc")]
pub extern "C" fn guest_alloc(len: usize) -> *mut u8 {
    match Layout::from_size_align(len, 1) {
        // SAFETY: the layout's size is not zero.
        Ok(layout) if len > 0 => unsafe { alloc(layout) },
        _ => std::ptr::null_mut(),
    }
}

/// Frees a buffer from `alloc` (or a reply from `invoke`).
///
/// # Safety
/// `ptr` and `len` are a live buffer from `alloc` or a reply.
#[unsafe(export_name = "dealloc")]
pub unsafe extern "C" fn guest_dealloc(ptr: *mut u8, len: usize) {
    if let Ok(layout) = Layout::from_size_align(len, 1)
        && len > 0
    {
        // SAFETY: the caller passes a live allocation of this layout.
        unsafe { dealloc(ptr, layout) }
    }
}

/// Handles the request in `[ptr, ptr + len)`; returns the reply as `(ptr << 32) | len`.
///
/// # Safety
/// `[ptr, ptr + len)` is a buffer the host got from `alloc` and filled.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn invoke(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: the caller's buffer.
    let request = unsafe { std::slice::from_raw_parts(ptr, len) };
    let reply = match std::str::from_utf8(request)
        .ok()
        .and_then(|text| Parser::new(text).value())
    {
        Some(Json::Object(fields)) => handle(&fields),
        _ => Reply::Json(r#"{"ok":false,"error":"malformed request"}"#.to_string()),
    };
    match reply {
        Reply::Json(text) => {
            let out = guest_alloc(text.len());
            if !out.is_null() {
                // SAFETY: `out` holds `text.len()` bytes.
                unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), out, text.len()) };
            }
            ((out as u64) << 32) | text.len() as u64
        }
        Reply::Raw(p, l) => (p << 32) | l,
    }
}

enum Reply {
    Json(String),
    Raw(u64, u64),
}

fn handle(fields: &[(String, Json)]) -> Reply {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let number = |name| match field(name) {
        Some(Json::Number(n)) => Some(*n as u64),
        _ => None,
    };
    match field("op") {
        Some(Json::String(op)) if op == "stats" => match field("values") {
            Some(Json::Array(items)) => {
                let values: Option<Vec<f64>> = items
                    .iter()
                    .map(|v| match v {
                        Json::Number(n) => Some(*n),
                        _ => None,
                    })
                    .collect();
                match values {
                    Some(v) => Reply::Json(stats(&v)),
                    None => error("values must be numbers"),
                }
            }
            _ => error("stats needs values"),
        },
        Some(Json::String(op)) if op == "raw" => match field("text") {
            Some(Json::String(text)) => Reply::Json(text.clone()),
            _ => error("raw needs text"),
        },
        Some(Json::String(op)) if op == "reply_at" => match (number("ptr"), number("len")) {
            (Some(p), Some(l)) => Reply::Raw(p, l),
            _ => error("reply_at needs ptr and len"),
        },
        _ => error("unknown op"),
    }
}

fn error(message: &str) -> Reply {
    Reply::Json(format!(r#"{{"ok":false,"error":"{message}"}}"#))
}

fn stats(values: &[f64]) -> String {
    // `+ 0.0`: the empty sum is -0.0.
    let sum = values.iter().sum::<f64>() + 0.0;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        return format!(r#"{{"ok":true,"count":0,"sum":{sum}}}"#);
    }
    format!(
        r#"{{"ok":true,"count":{},"sum":{sum},"min":{min},"max":{max}}}"#,
        values.len()
    )
}

/// The JSON the guest understands: no escapes in strings beyond `\"` and `\\`.
enum Json {
    /// `true`, `false` and `null`, accepted but not used by any request.
    Literal,
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

struct Parser<'a> {
    rest: &'a str,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { rest: text }
    }

    fn skip(&mut self, token: &str) -> Option<()> {
        self.rest = self.rest.trim_start().strip_prefix(token)?;
        Some(())
    }

    fn value(&mut self) -> Option<Json> {
        self.rest = self.rest.trim_start();
        let first = self.rest.chars().next()?;
        Some(match first {
            '{' => Json::Object(self.sequence('{', '}', |p| {
                let key = p.string()?;
                p.skip(":")?;
                Some((key, p.value()?))
            })?),
            '[' => Json::Array(self.sequence('[', ']', Parser::value)?),
            '"' => Json::String(self.string()?),
            't' => self.skip("true").map(|_| Json::Literal)?,
            'f' => self.skip("false").map(|_| Json::Literal)?,
            'n' => self.skip("null").map(|_| Json::Literal)?,
            _ => {
                let end = self
                    .rest
                    .find(|c: char| !matches!(c, '0'..='9' | '-' | '+' | '.' | 'e' | 'E'))
                    .unwrap_or(self.rest.len());
                let n = self.rest[..end].parse().ok()?;
                self.rest = &self.rest[end..];
                Json::Number(n)
            }
        })
    }

    fn sequence<T>(
        &mut self,
        open: char,
        close: char,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        self.skip(open.encode_utf8(&mut [0; 4]))?;
        let mut items = Vec::new();
        if self.skip(close.encode_utf8(&mut [0; 4])).is_some() {
            return Some(items);
        }
        loop {
            items.push(item(self)?);
            if self.skip(",").is_none() {
                self.skip(close.encode_utf8(&mut [0; 4]))?;
                return Some(items);
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        self.skip("\"")?;
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return Some(out);
                }
                '\\' => out.push(chars.next()?.1),
                c => out.push(c),
            }
        }
        None
    }
}
