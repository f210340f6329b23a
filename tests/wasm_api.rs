//! The JavaScript boundary (`src/wasm.rs`), tested as compiled wasm under wasm-bindgen-test.
//!
//! scripts/test.sh runs this file twice with the same command,
//!   CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test --target wasm32-unknown-unknown --test wasm_api
//! once under Node and once with `WASM_BINDGEN_USE_BROWSER=1` in headless Chromium. There is
//! deliberately no `wasm_bindgen_test_configure!(run_in_browser)` here: the mode is chosen by the
//! environment, so one file covers both hosts.
//!
//! `QVT_EXPECT_JS_HOST` (`node` or `browser`, read at compile time; cargo rebuilds this test when it
//! changes) makes `runs_in_the_expected_js_host` check that the runner really used that host, so a
//! "browser" run that silently fell back to Node fails instead of passing.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

use qualys_vm_transporter::wasm;

#[wasm_bindgen_test]
fn version_is_the_crate_version() {
    let v = wasm::version();
    assert!(!v.is_empty(), "version() returned an empty string");
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
}

/// Whether the JS global object has a property called `name`.
fn global_has(name: &str) -> bool {
    js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str(name)).unwrap_or(false)
}

/// "browser" when the test runs in a page (a `window` and a `document`), "node" when a Node
/// `process` is visible, "unknown" otherwise.
fn js_host() -> &'static str {
    if global_has("window") && global_has("document") {
        "browser"
    } else if global_has("process") {
        "node"
    } else {
        "unknown"
    }
}

#[wasm_bindgen_test]
fn runs_in_the_expected_js_host() {
    let host = js_host();
    console_log!("wasm_api: running in JS host `{host}`");
    match option_env!("QVT_EXPECT_JS_HOST") {
        None | Some("") => {} // plain developer run: any host is fine
        Some(expected) => assert_eq!(
            host, expected,
            "QVT_EXPECT_JS_HOST={expected} but the tests ran in `{host}`"
        ),
    }
}
