//! Floors for the profile analysis: how fast can the pieces under the core go at all, on this
//! machine, natively and in wasm (bench/floor.js loads the wasm build through a plain C ABI, no
//! wasm-bindgen)? Not part of the product; nothing here is used by the benchmark contenders.
//!
//! - `tokenize`: quick-xml 0.42 (the core's tokenizer, same configuration) over the whole
//!   document, counting events: the ceiling of any design built on quick-xml.
//! - `validate`: `std::str::from_utf8` over the whole document: one UTF-8 validation pass.
//! - `stream_copy`: tokenize + write every start/end tag name and text/CDATA content (escaped)
//!   to an output buffer that is cleared every 4 MiB: roughly a design without element trees.

use quick_xml::events::Event;
use quick_xml::Reader;

/// The core's own reader configuration.
fn reader(input: &[u8]) -> Reader<&[u8]> {
    qualys_vm_transporter::xml::tokens::quick_xml_reader(input)
}

pub fn tokenize(input: &[u8]) -> u64 {
    let mut r = reader(input);
    let mut n = 0u64;
    loop {
        match r.read_event() {
            Ok(Event::Eof) | Err(_) => return n,
            Ok(_) => n += 1,
        }
    }
}

pub fn validate(input: &[u8]) -> u64 {
    match std::str::from_utf8(input) {
        Ok(s) => s.len() as u64,
        Err(e) => e.valid_up_to() as u64,
    }
}

static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    let mut i = 0;
    while i < 0x20 {
        t[i] = !(i == 0x09 || i == 0x0A || i == 0x0D);
        i += 1;
    }
    t
};

/// Escapes by copying runs between special bytes (no per-char push).
fn escape_runs(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if NEEDS_ESCAPE[b as usize] {
            out.push_str(&s[start..i]);
            out.push_str(match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                _ => "\u{FFFD}",
            });
            start = i + 1;
        }
    }
    out.push_str(&s[start..]);
}

pub fn stream_copy(input: &[u8]) -> u64 {
    let mut r = reader(input);
    let mut out = String::with_capacity(5 << 20);
    let mut total = 0u64;
    loop {
        match r.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(Event::Start(t)) => {
                out.push('<');
                out.push_str(t.name().0);
                out.push('>');
            }
            Ok(Event::End(t)) => {
                out.push_str("</");
                out.push_str(t.name().0);
                out.push('>');
            }
            Ok(Event::Text(t)) => {
                let s: &str = &t;
                let s = s.trim();
                if !s.is_empty() {
                    escape_runs(s, &mut out);
                }
            }
            Ok(Event::CData(t)) => escape_runs(&t, &mut out),
            Ok(_) => {}
        }
        if out.len() >= 4 << 20 {
            total += out.len() as u64;
            out.clear();
        }
    }
    total + out.len() as u64
}

// ---- plain C ABI for the wasm build ----------------------------------------------------------
#[cfg(target_arch = "wasm32")]
mod abi {
    /// Allocates `n` bytes in wasm memory for the input; returns the pointer.
    #[no_mangle]
    pub extern "C" fn floor_alloc(n: usize) -> *mut u8 {
        let mut v: Vec<u8> = Vec::with_capacity(n);
        let p = v.as_mut_ptr();
        std::mem::forget(v);
        p
    }

    fn slice<'a>(p: *const u8, n: usize) -> &'a [u8] {
        // SAFETY: bench-only; the caller passes a pointer from floor_alloc(n) it filled.
        unsafe { std::slice::from_raw_parts(p, n) }
    }

    #[no_mangle]
    pub extern "C" fn floor_tokenize(p: *const u8, n: usize) -> f64 {
        super::tokenize(slice(p, n)) as f64
    }

    #[no_mangle]
    pub extern "C" fn floor_validate(p: *const u8, n: usize) -> f64 {
        super::validate(slice(p, n)) as f64
    }

    #[no_mangle]
    pub extern "C" fn floor_tokenize_own(p: *const u8, n: usize) -> f64 {
        super::tokenize_own(slice(p, n)) as f64
    }

    #[no_mangle]
    pub extern "C" fn floor_stream_copy(p: *const u8, n: usize) -> f64 {
        super::stream_copy(slice(p, n)) as f64
    }
}

/// Experimental: a driver of our own over already-validated input, quick-xml's public parsers for
/// tags; counts the same events as `tokenize`.
pub fn tokenize_own(input: &[u8]) -> u64 {
    use quick_xml::parser::{ElementParser, Parser};
    let s = match std::str::from_utf8(input) { Ok(s) => s, Err(_) => return 0 };
    let b = s.as_bytes();
    let mut pos = 0usize;
    let mut n = 0u64;
    let mut sink = 0usize;
    while pos < b.len() {
        if b[pos] == b'<' {
            let rest = &b[pos + 1..];
            match rest.first() {
                Some(b'/') => match memchr::memchr(b'>', rest) {
                    Some(i) => { sink += i; pos += i + 2; n += 1; }
                    None => return n,
                },
                Some(b'!') => {
                    if rest.starts_with(b"![CDATA[") {
                        match memchr::memmem::find(rest, b"]]>") {
                            Some(i) => { sink += i; pos += i + 4; n += 1; }
                            None => return n,
                        }
                    } else if rest.starts_with(b"!--") {
                        match memchr::memmem::find(&rest[3..], b"-->") {
                            Some(i) => { pos += i + 7; n += 1; }
                            None => return n,
                        }
                    } else {
                        match memchr::memchr(b'>', rest) {
                            Some(i) => { pos += i + 2; n += 1; }
                            None => return n,
                        }
                    }
                }
                Some(b'?') => match memchr::memmem::find(rest, b"?>") {
                    Some(i) => { pos += i + 3; n += 1; }
                    None => return n,
                },
                _ => {
                    let mut p = ElementParser::Outside;
                    match p.feed(rest) {
                        Some(i) => {
                            let tag = &s[pos + 1..pos + 1 + i];
                            let name_len = tag.bytes().position(|c| c <= b' ' || c == b'/').unwrap_or(tag.len());
                            sink += name_len;
                            pos += i + 2; n += 1;
                        }
                        None => return n,
                    }
                }
            }
        } else {
            let rest = &b[pos..];
            match memchr::memchr2(b'<', b'&', rest) {
                Some(i) if rest[i] == b'&' => {
                    // text up to the reference, then the reference
                    if i > 0 { n += 1; }
                    match memchr::memchr3(b';', b'&', b'<', &rest[i + 1..]) {
                        Some(j) => { pos += i + j + 2; n += 1; }
                        None => return n,
                    }
                }
                Some(i) => { sink += i; pos += i; n += 1; }
                None => { n += 1; break; }
            }
        }
    }
    n + (sink as u64 & 0)
}
