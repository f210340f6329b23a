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
        Some(expected) => assert_eq!(host, expected, "QVT_EXPECT_JS_HOST={expected} but the tests ran in `{host}`"),
    }
}

// ---------------------------------------------------------------------------------------------
// The core's behaviour through the JS-facing API: the same objects the shim uses.

use js_sys::{Array, Object, Reflect};
use qualys_vm_transporter::wasm::{JsFeed, JsTransformer};
use wasm_bindgen::JsCast;

const PASSWORD: &str = "Wasm-Secret-Pa55";

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_str(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}

fn obj(pairs: &[(&str, &str)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v)).expect("set");
    }
    o.into()
}

fn host_page(ids: &[u64], next_id_min: Option<u64>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!DOCTYPE HOST_LIST_OUTPUT SYSTEM \"https://qualysapi.qualys.com/api/2.0/fo/asset/host/host_list_output.dtd\">\n<HOST_LIST_OUTPUT><RESPONSE><DATETIME>2024-01-01T00:00:00Z</DATETIME><HOST_LIST>");
    for id in ids {
        s.push_str(&format!("<HOST><ID>{id}</ID><IP>10.0.0.{id}</IP><DNS><![CDATA[h{id}.example.com]]></DNS><OS><![CDATA[Linux & friends]]></OS></HOST><!-- keep-alive -->"));
    }
    s.push_str("</HOST_LIST>");
    if let Some(n) = next_id_min {
        s.push_str(&format!("<WARNING><CODE>1980</CODE><TEXT>limit exceeded</TEXT><URL><![CDATA[https://q.example/api/2.0/fo/asset/host/?action=list&truncation_limit=2&id_min={n}]]></URL></WARNING>"));
    }
    s.push_str("</RESPONSE></HOST_LIST_OUTPUT>\n");
    s
}

fn drain(feed: &mut JsFeed, out: &mut String, logs: &mut Vec<String>) {
    while let Some(c) = feed.take_output() {
        out.push_str(&c);
    }
    for l in feed.take_logs().iter() {
        logs.push(format!("{} {}", get_str(&l, "level"), get_str(&l, "text")));
    }
}

#[wasm_bindgen_test]
fn a_feed_runs_through_the_js_api_with_a_retry_and_no_duplicates() {
    let params = obj(&[
        ("dataSource", "hosts"),
        ("hostsUrl", "https://q.example/api/2.0/fo/asset/host/?action=list&vm_scan_since=<LastRunTime>"),
        ("username", "u"),
        ("password", PASSWORD),
        ("batchSize", "2"),
        ("retryDelaySec", "0"),
    ]);
    let tokens = obj(&[("LastRunTime", "2024-02-03T04:05:06Z")]);
    let mut feed = JsFeed::new(params, tokens, 1.7e12).expect("valid parameters");
    let transport = feed.transport();
    assert_eq!(get_str(&transport, "rootNode"), "QUALYS_HOSTS");
    assert_eq!(get(&transport, "verifyCerts").as_bool(), Some(true));
    // The whole-response limit is 6 x the idle limit (requestTimeoutSec, default 300 s).
    assert_eq!(get(&transport, "requestTimeoutMs").as_f64(), Some(300_000.0));
    assert_eq!(get(&transport, "responseTimeoutMs").as_f64(), Some(1_800_000.0));
    let pages = [host_page(&[1, 2], Some(3)), host_page(&[3, 4], Some(5)), host_page(&[5], None)];
    let (mut out, mut logs, mut urls) = (String::new(), Vec::new(), Vec::new());
    let mut now = 1.7e12;
    let mut faulted = false;
    let mut summary = JsValue::UNDEFINED;
    for _ in 0..50 {
        let action = feed.poll(now);
        drain(&mut feed, &mut out, &mut logs);
        match get_str(&action, "kind").as_str() {
            "send" => {
                let url = get_str(&action, "url");
                let headers: Array = get(&action, "headers").into();
                let auth = headers
                    .iter()
                    .map(|h| h.unchecked_into::<Array>())
                    .find(|h| h.get(0).as_string().as_deref() == Some("Authorization"))
                    .map(|h| h.get(1).as_string().unwrap_or_default());
                assert!(auth.is_some_and(|a| a.starts_with("Basic ")), "Authorization header");
                urls.push(url.clone());
                let page = if url.contains("id_min=5") {
                    2
                } else if url.contains("id_min=3") || url.contains("id_min=4") {
                    1
                } else {
                    0
                };
                feed.handle_response_head(now, 200, Array::new().into(), None).expect("head");
                let body = pages[page].as_bytes();
                if page == 1 && !faulted {
                    // cut the second page after its first host: a reset connection
                    faulted = true;
                    let cut = pages[1].find("<!-- keep-alive -->").expect("first host") + 5;
                    assert!(feed.handle_body(&body[..cut], None));
                    feed.handle_transport_error(now, "ECONNRESET", "socket hang up", None);
                } else {
                    for piece in body.chunks(7) {
                        assert!(feed.handle_body(piece, get(&action, "id").as_f64()));
                    }
                    feed.handle_response_end(now, get(&action, "id").as_f64());
                }
                drain(&mut feed, &mut out, &mut logs);
            }
            "wait" => now += get(&action, "ms").as_f64().unwrap_or(0.0),
            "done" => {
                summary = get(&action, "summary");
                break;
            }
            other => panic!("unexpected action {other}: {:?}", get(&action, "error")),
        }
    }
    assert_eq!(get(&summary, "records").as_f64(), Some(5.0));
    assert_eq!(get(&summary, "retries").as_f64(), Some(1.0));
    assert_eq!(get_str(&summary, "lastRunTimeUsed"), "2024-02-02T04:05:06Z");
    assert!(
        urls[0].contains("vm_scan_since=2024-02-02T04:05:06Z") && urls[0].contains("truncation_limit=2"),
        "{}",
        urls[0]
    );
    assert!(urls[2].contains("id_min=4"), "the retry starts after host 3: {}", urls[2]);
    let ids: Vec<&str> = out.split("<ID>").skip(1).map(|s| s.split('<').next().unwrap_or("")).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    assert!(out.contains("<OS>Linux &amp; friends</OS>"));
    assert!(logs.iter().any(|l| l.starts_with("WARN") && l.contains("retry 1 of 1")), "{logs:?}");
    assert!(!logs.concat().contains(PASSWORD) && !out.contains(PASSWORD));
}

#[wasm_bindgen_test]
fn configuration_errors_are_js_errors_with_code_and_blame() {
    let params = obj(&[("dataSource", "detectors"), ("username", "u"), ("password", PASSWORD), ("batchSize", "12abc")]);
    let err = JsFeed::new(params, JsValue::UNDEFINED, 0.0).err().expect("invalid parameters must throw");
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get_str(&err, "code"), "CONFIG_INVALID");
    assert_eq!(get_str(&err, "blame"), "configuration");
    assert_eq!(get(&err, "retryable").as_bool(), Some(false));
    let msg = get_str(&err, "message");
    assert!(msg.contains("dataSource") && msg.contains("batchSize"), "{msg}");
    assert!(!msg.contains(PASSWORD));
}

#[wasm_bindgen_test]
fn a_qualys_error_ends_the_feed_with_a_fail_action() {
    let params = obj(&[
        ("dataSource", "detections"),
        ("detectionUrl", "https://q.example/api/2.0/fo/asset/host/vm/detection/?action=list"),
        ("username", "u"),
        ("password", PASSWORD),
    ]);
    let mut feed = JsFeed::new(params, JsValue::NULL, 0.0).expect("valid");
    assert_eq!(get_str(&feed.poll(0.0), "kind"), "send");
    feed.handle_response_head(0.0, 200, Array::new().into(), None).expect("head");
    feed.handle_body(include_bytes!("fixtures/real/j1_simple_return_2001_account_expired_real.xml"), None);
    feed.handle_response_end(0.0, None);
    let action = feed.poll(0.0);
    assert_eq!(get_str(&action, "kind"), "fail");
    let err = get(&action, "error");
    assert_eq!(get_str(&err, "code"), "QUALYS_CREDENTIALS");
    assert_eq!(get_str(&err, "blame"), "configuration");
}

#[wasm_bindgen_test]
fn the_transformer_gives_the_same_output_for_any_chunking() {
    let doc: &[u8] = include_bytes!("fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let run = |chunk: usize| {
        let mut t = JsTransformer::new("detections", Some(3), None).expect("source");
        let mut out = String::new();
        for piece in doc.chunks(chunk) {
            t.push(piece).expect("push");
            while let Some(c) = t.take_output() {
                out.push_str(&c);
            }
        }
        let summary = t.finish().expect("finish");
        while let Some(c) = t.take_output() {
            out.push_str(&c);
        }
        (out, get(&summary, "records").as_f64())
    };
    let (whole, records) = run(doc.len());
    assert_eq!(records, Some(8.0));
    assert_eq!(whole.matches("<DETECTION>").count(), 8);
    for chunk in [1, 2, 3, 64, 1000] {
        assert_eq!(run(chunk).0, whole, "chunk size {chunk}");
    }
    let err = JsTransformer::new("kb", None, None).and_then(|mut t| {
        t.push(doc)?;
        t.finish()
    });
    assert_eq!(get_str(&err.err().expect("wrong endpoint"), "code"), "WRONG_ENDPOINT");
}

#[wasm_bindgen_test]
fn output_chunks_as_bytes_match_the_strings_and_say_whether_they_are_ascii() {
    let doc: &[u8] = include_bytes!("fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let mut strings = JsTransformer::new("detections", Some(3), None).expect("source");
    let mut bytes = JsTransformer::new("detections", Some(3), None).expect("source");
    strings.push(doc).expect("push");
    bytes.push(doc).expect("push");
    strings.finish().expect("finish");
    bytes.finish().expect("finish");
    let mut chunks = 0;
    while let Some(text) = strings.take_output() {
        let chunk = bytes.take_output_chunk();
        assert!(chunk.is_object(), "a chunk for each string");
        let view = js_sys::Uint8Array::new(&get(&chunk, "bytes"));
        // Read the view before the next call on the transformer (it views the core's memory).
        let copied = view.to_vec();
        assert_eq!(String::from_utf8(copied).expect("UTF-8"), text);
        assert_eq!(get(&chunk, "ascii").as_bool(), Some(text.is_ascii()));
        assert_eq!(get(&chunk, "records").as_f64(), Some(text.matches("<DETECTION>").count() as f64));
        chunks += 1;
    }
    assert_eq!(chunks, 3, "8 detections in chunks of 3");
    assert!(bytes.take_output_chunk().is_undefined());
}
