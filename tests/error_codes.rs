//! One list of error codes: every code the JavaScript shim raises must be an `ErrorCode`, so the
//! wasm export `errorCodes()` (and the documentation built from it) names them all.

use std::path::Path;

use qualys_vm_transporter::ErrorCode;

/// The SCREAMING_SNAKE codes that open a `shimError(` call or name a `fatal(e, ...)` code in
/// `text`: as the shim writes them (`codes.NO_HTTP_CLIENT`, js-shim/src/codes.js) or as a string
/// literal.
fn shim_codes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for opener in ["shimError(", "fatal(e, "] {
        for (at, _) in text.match_indices(opener) {
            let rest = text.get(at + opener.len()..).unwrap_or("").trim_start();
            let code = if let Some(name) = rest.strip_prefix("codes.") {
                let end = name
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(name.len());
                &name[..end]
            } else {
                let Some(body) = rest.strip_prefix('\'') else { continue };
                let Some(end) = body.find('\'') else { continue };
                &body[..end]
            };
            if !code.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                out.push(code.to_string());
            }
        }
    }
    out
}

fn js_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            js_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "js") {
            out.push(p);
        }
    }
}

#[test]
fn every_code_the_shim_raises_is_an_error_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("js-shim");
    let mut files = Vec::new();
    js_files(&root, &mut files);
    assert!(!files.is_empty(), "no js-shim sources under {}", root.display());
    let mut found = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for code in shim_codes(&text) {
            found += 1;
            assert!(ErrorCode::from_str_opt(&code).is_some(), "{}: {code} is not in ErrorCode::ALL", f.display());
        }
    }
    assert!(found >= 5, "expected the shim's shimError codes, found {found}");
}

#[test]
fn the_scanner_finds_codes() {
    assert_eq!(
        shim_codes("x = shimError('NO_HTTP_CLIENT', 'configuration', m); fatal(e, 'SHIM_ERROR', w)"),
        ["NO_HTTP_CLIENT", "SHIM_ERROR"]
    );
    assert_eq!(
        shim_codes("x = shimError(codes.NO_HTTP_CLIENT, 'configuration', m); fatal(e, codes.SHIM_ERROR, w)"),
        ["NO_HTTP_CLIENT", "SHIM_ERROR"]
    );
    assert!(shim_codes("shimError(String(e.code), 'caller')").is_empty());
}
