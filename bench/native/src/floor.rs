//! Floors for the profile analysis: how fast can the pieces under the core go at all, on this
//! machine, natively and in wasm (bench/floor.js loads the wasm build through a plain C ABI, no
//! wasm-bindgen)? Not part of the product; nothing here is used by the benchmark contenders.
//!
//! - `tokenize`: quick-xml 0.42's event reader (configured as the core configures it) over the
//!   whole document, counting events: what tokenizing cost while the core ran on that reader.
//! - `tokens`: the core's tokenizer now (src/xml/tokens.rs: one UTF-8 check, the common tokens
//!   scanned, the rest read by quick-xml), counting tokens.
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

pub fn tokens(input: &[u8]) -> u64 {
    qualys_vm_transporter::xml::tokens::count_tokens(input)
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

    /// `floor_<name>(ptr, len)` for each floor: runs it over the input and returns its result.
    macro_rules! export {
        ($($name:ident => $floor:ident),* $(,)?) => {$(
            #[no_mangle]
            pub extern "C" fn $name(p: *const u8, n: usize) -> f64 {
                super::$floor(slice(p, n)) as f64
            }
        )*};
    }

    export!(
        floor_tokenize => tokenize,
        floor_tokens => tokens,
        floor_validate => validate,
        floor_stream_copy => stream_copy,
    );
}
