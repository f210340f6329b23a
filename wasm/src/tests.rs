//! The JavaScript boundary (this crate), tested as compiled wasm under wasm-bindgen-test.
//!
//! scripts/test.sh runs these tests twice with the same command,
//!   CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p qualys-vm-transporter-wasm --target wasm32-unknown-unknown --lib
//! once under Node and once with `WASM_BINDGEN_USE_BROWSER=1` in headless Chromium. There is
//! deliberately no `wasm_bindgen_test_configure!(run_in_browser)` here: the mode is chosen by the
//! environment, so one file covers both hosts.
//!
//! `QVT_EXPECT_JS_HOST` (`node` or `browser`, read at compile time; cargo rebuilds this test when it
//! changes) makes `runs_in_the_expected_js_host` check that the runner really used that host, so a
//! "browser" run that silently fell back to Node fails instead of passing.

use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

use crate as wasm;

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

use crate::{JsFeed, JsTransformer};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsCast;

const PASSWORD: &str = "Wasm-Secret-Pa55";

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_str(v: &JsValue, key: &str) -> String {
    get(v, key).as_string().unwrap_or_default()
}

/// A JS number.
fn num(n: f64) -> JsValue {
    JsValue::from_f64(n)
}

/// A JS Uint8Array holding a copy of `b`.
fn bytes(b: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(b).into()
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
        s.push_str(&format!("<WARNING><CODE>1980</CODE><TEXT>limit exceeded</TEXT><URL><![CDATA[https://q.example/api/5.0/fo/asset/host/?action=list&truncation_limit=2&id_min={n}]]></URL></WARNING>"));
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
        ("hostsUrl", "https://q.example/api/5.0/fo/asset/host/?action=list&vm_scan_since=<LastRunTime>"),
        ("username", "u"),
        ("password", PASSWORD),
        ("batchSize", "2"),
        ("retryDelaySec", "0"),
    ]);
    let tokens = obj(&[("LastRunTime", "2024-02-03T04:05:06Z")]);
    let mut feed = JsFeed::new(params, tokens, num(1.7e12)).expect("valid parameters");
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
        let action = feed.poll(num(now)).expect("poll");
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
                feed.handle_response_head(num(now), num(200.0), Array::new().into(), JsValue::UNDEFINED).expect("head");
                let body = pages[page].as_bytes();
                if page == 1 && !faulted {
                    // cut the second page after its first host: a reset connection
                    faulted = true;
                    let cut = pages[1].find("<!-- keep-alive -->").expect("first host") + 5;
                    assert!(feed.handle_body(bytes(&body[..cut]), JsValue::UNDEFINED).expect("body"));
                    feed.handle_transport_error(
                        num(now),
                        "ECONNRESET".into(),
                        "socket hang up".into(),
                        JsValue::UNDEFINED,
                    )
                    .expect("transport error");
                } else {
                    for piece in body.chunks(7) {
                        assert!(feed.handle_body(bytes(piece), get(&action, "id")).expect("body"));
                    }
                    feed.handle_response_end(num(now), get(&action, "id")).expect("end");
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
    let err = JsFeed::new(params, JsValue::UNDEFINED, num(0.0)).err().expect("invalid parameters must throw");
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
        ("detectionUrl", "https://q.example/api/5.0/fo/asset/host/vm/detection/?action=list"),
        ("username", "u"),
        ("password", PASSWORD),
    ]);
    let mut feed = JsFeed::new(params, JsValue::NULL, num(0.0)).expect("valid");
    assert_eq!(get_str(&feed.poll(num(0.0)).expect("poll"), "kind"), "send");
    feed.handle_response_head(num(0.0), num(200.0), Array::new().into(), JsValue::UNDEFINED).expect("head");
    feed.handle_body(
        bytes(include_bytes!("../../tests/fixtures/real/j1_simple_return_2001_account_expired_real.xml")),
        JsValue::UNDEFINED,
    )
    .expect("body");
    feed.handle_response_end(num(0.0), JsValue::UNDEFINED).expect("end");
    let action = feed.poll(num(0.0)).expect("poll");
    assert_eq!(get_str(&action, "kind"), "fail");
    let err = get(&action, "error");
    assert_eq!(get_str(&err, "code"), "QUALYS_CREDENTIALS");
    assert_eq!(get_str(&err, "blame"), "configuration");
}

#[wasm_bindgen_test]
fn the_transformer_gives_the_same_output_for_any_chunking() {
    let doc: &[u8] = include_bytes!("../../tests/fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let run = |chunk: usize| {
        let mut t = JsTransformer::new(
            "detections".into(),
            num(3.0),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        )
        .expect("source");
        let mut out = String::new();
        for piece in doc.chunks(chunk) {
            t.push(bytes(piece)).expect("push");
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
    let err =
        JsTransformer::new("kb".into(), JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED)
            .and_then(|mut t| {
                t.push(bytes(doc))?;
                t.finish()
            });
    assert_eq!(get_str(&err.expect_err("wrong endpoint"), "code"), "WRONG_ENDPOINT");
}

#[wasm_bindgen_test]
fn the_transformer_writes_the_qualys_shape_when_asked() {
    let doc: &[u8] = include_bytes!("../../tests/fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let run = |source: &str, shape: JsValue| {
        let mut t =
            JsTransformer::new(source.into(), JsValue::UNDEFINED, JsValue::UNDEFINED, shape, JsValue::UNDEFINED)
                .expect("source");
        t.push(bytes(doc)).expect("push");
        let summary = t.finish().expect("finish");
        let mut out = String::new();
        while let Some(c) = t.take_output() {
            out.push_str(&c);
        }
        (out, get(&summary, "records").as_f64())
    };
    let (qualys, records) = run("detections", "qualys".into());
    assert_eq!(records, Some(2.0), "one record per HOST");
    assert_eq!(qualys.matches("<HOST>").count(), 2);
    assert_eq!(qualys.matches("<DETECTION>").count(), 8, "each HOST keeps its DETECTION_LIST");
    assert!(!qualys.contains("ARCHER_"));
    assert_eq!(run("hostDetections", "qualys".into()).0, qualys, "both detection sources write the same HOSTs");
    assert_eq!(run("detections", "records".into()), run("detections", JsValue::UNDEFINED), "records is the default");
    assert_eq!(run("detections", JsValue::NULL).0.matches("<DETECTION>").count(), 8);
    let u = || JsValue::UNDEFINED;
    let bad = JsTransformer::new("detections".into(), u(), u(), "Qualys".into(), u());
    assert_coded(&bad.err().expect("throws"), "CONFIG_INVALID");
    let bad = JsTransformer::new("detections".into(), u(), u(), num(1.0), u());
    assert_coded(&bad.err().expect("throws"), "BAD_ARGUMENT");
}

#[wasm_bindgen_test]
fn the_transformer_takes_a_detection_key_and_counts_collisions() {
    let doc: &[u8] = include_bytes!("../../tests/fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let run = |key: JsValue| {
        let mut t =
            JsTransformer::new("detections".into(), JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED, key)
                .expect("key");
        t.push(bytes(doc)).expect("push");
        let summary = t.finish().expect("finish");
        let mut out = String::new();
        while let Some(c) = t.take_output() {
            out.push_str(&c);
        }
        (out, summary)
    };
    let (seed, summary) = run(JsValue::UNDEFINED);
    assert!(seed.contains("<ARCHER_DETECTION_KEY>one.one.one.one|11827|443|tcp</ARCHER_DETECTION_KEY>"));
    assert_eq!(get(&summary, "keyCollisions").as_f64(), Some(0.0));
    assert_eq!(get(&summary, "deviceLinkCollisions").as_f64(), Some(0.0));
    let (host_qid, _) = run("hostQid".into());
    assert!(host_qid.contains("<ARCHER_DETECTION_KEY>143111841|11827|443|tcp|0|</ARCHER_DETECTION_KEY>"), "{host_qid}");
}

#[wasm_bindgen_test]
fn output_chunks_as_bytes_match_the_strings_and_say_whether_they_are_ascii() {
    let doc: &[u8] = include_bytes!("../../tests/fixtures/real/demisto_hld_host_list_detections_raw.xml");
    let mut strings =
        JsTransformer::new("detections".into(), num(3.0), JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED)
            .expect("source");
    let mut bytes =
        JsTransformer::new("detections".into(), num(3.0), JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED)
            .expect("source");
    strings.push(self::bytes(doc)).expect("push");
    bytes.push(self::bytes(doc)).expect("push");
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

// ---------------------------------------------------------------------------------------------
// Non-string parameters and tokens (issue #11 class 10), and coded errors from every method.

/// Evaluates a JS function body (test fixtures only: Dates of other realms, getters that throw).
fn js(body: &str) -> JsValue {
    js_sys::Function::new_no_args(body).call0(&JsValue::NULL).expect("the fixture code runs")
}

/// Sets `key` on a plain object to any JS value.
fn with(o: &JsValue, key: &str, v: JsValue) -> JsValue {
    Reflect::set(o, &JsValue::from_str(key), &v).expect("set");
    o.clone()
}

const HOSTS: &str = "https://q.example/api/5.0/fo/asset/host/?action=list&vm_scan_since=<LastRunTime>";

fn hosts_params() -> JsValue {
    obj(&[("dataSource", "hosts"), ("hostsUrl", HOSTS), ("username", "u"), ("password", PASSWORD)])
}

/// Every JS error that leaves the boundary is an Error with a string code, a blame and a boolean
/// retryable.
fn assert_coded(err: &JsValue, code: &str) {
    assert!(err.is_instance_of::<js_sys::Error>(), "{err:?}");
    assert_eq!(get_str(err, "code"), code, "{:?}", get_str(err, "message"));
    assert!(["configuration", "server", "network", "caller"].contains(&get_str(err, "blame").as_str()));
    assert!(get(err, "retryable").as_bool().is_some());
}

/// The first request's URL of a feed made from these parameters and tokens.
fn first_url(params: JsValue, tokens: JsValue) -> String {
    let mut feed = JsFeed::new(params, tokens, num(1.7e12)).expect("valid");
    get_str(&feed.poll(num(1.7e12)).expect("poll"), "url")
}

#[wasm_bindgen_test]
fn numbers_booleans_bigints_and_null_convert_to_their_text() {
    let p = hosts_params();
    with(&p, "batchSize", num(500.0));
    with(&p, "verifyCerts", JsValue::FALSE);
    with(&p, "maxRetry", num(0.0));
    with(&p, "requestsPerMin", js("return BigInt(30)"));
    with(&p, "lastRunTimeOffset", num(-2.0));
    with(&p, "rootNode", JsValue::NULL);
    with(&p, "caCert", JsValue::UNDEFINED);
    let mut feed = JsFeed::new(p, obj(&[("LastRunTime", "2024-02-03T04:05:06Z")]), num(1.7e12)).expect("valid");
    assert_eq!(get(&feed.transport(), "verifyCerts").as_bool(), Some(false));
    assert_eq!(get_str(&feed.transport(), "rootNode"), "QUALYS_HOSTS", "null = not given = the default");
    let url = get_str(&feed.poll(num(1.7e12)).expect("poll"), "url");
    assert!(url.contains("truncation_limit=500") && url.contains("vm_scan_since=2024-02-01T04:05:06Z"), "{url}");
    let mut logs = Vec::new();
    drain(&mut feed, &mut String::new(), &mut logs);
    assert!(logs.iter().any(|l| l.contains("requestsPerMin=30 maxRetry=0")), "{logs:?}");
}

#[wasm_bindgen_test]
fn objects_arrays_functions_symbols_and_nan_are_one_configuration_error_naming_key_and_type() {
    let p = hosts_params();
    with(&p, "batchSize", obj(&[("value", "Secret-Inside-777")]));
    with(&p, "socketLimit", js("return [1, 2]"));
    with(&p, "concurrency", js("return { nested: { deeper: { x: 1 } } }"));
    with(&p, "outputChunkMB", js("return function () { return 4; }"));
    with(&p, "requestsPerMin", js("return Symbol('s')"));
    with(&p, "maxRecordMB", num(f64::NAN));
    with(&p, "maxRetry", JsValue::from_str("abc"));
    let err = JsFeed::new(p, JsValue::UNDEFINED, num(0.0)).err().expect("must throw");
    assert_coded(&err, "CONFIG_INVALID");
    assert_eq!(get_str(&err, "blame"), "configuration");
    let msg = get_str(&err, "message");
    for (key, what) in [
        ("batchSize", "is an object"),
        ("socketLimit", "is an array"),
        ("concurrency", "is an object"),
        ("outputChunkMB", "is a function"),
        ("requestsPerMin", "is a symbol"),
        ("maxRecordMB", "not finite"),
        ("maxRetry", "\"abc\" is not a whole number"),
    ] {
        assert!(msg.lines().any(|l| l.starts_with(&format!("{key}: ")) && l.contains(what)), "{key}: {msg}");
    }
    assert!(msg.starts_with("7 problems"), "{msg}");
    assert!(!msg.contains("Secret-Inside") && !msg.contains("deeper") && !msg.contains("return"), "{msg}");
}

#[wasm_bindgen_test]
fn last_run_time_as_a_date_of_any_realm_or_a_number() {
    // 2024-06-10T06:13:20Z, minus the default one-day offset.
    let want = "vm_scan_since=2024-06-09T06:13:20Z";
    let date = js("return new Date(1718000000000)");
    let foreign = js(
        "try { if (typeof process === 'object' && process.getBuiltinModule) return process.getBuiltinModule('vm').runInNewContext('new Date(1718000000000)'); } catch (e) {}
         try { const f = document.createElement('iframe'); document.body.appendChild(f); return new f.contentWindow.Date(1718000000000); } catch (e) {}
         return null;",
    );
    let reshaped = js("return Object.setPrototypeOf(new Date(1718000000000), Object.prototype)");
    assert!(!reshaped.is_instance_of::<js_sys::Date>());
    let mut cases =
        vec![date, reshaped, num(1_718_000_000.0), num(1_718_000_000_000.0), js("return BigInt(1718000000)")];
    // Node (vm) and browsers (an iframe) both have a second realm.
    assert!(!foreign.is_null() || js_host() == "unknown", "no Date of another realm in {}", js_host());
    if !foreign.is_null() {
        assert!(!foreign.is_instance_of::<js_sys::Date>(), "a Date of another realm is not instanceof ours");
        cases.push(foreign);
    }
    for token in cases {
        let url = first_url(hosts_params(), with(&Object::new().into(), "LastRunTime", token.clone()));
        assert!(url.contains(want), "{token:?}: {url}");
    }
    // null/undefined: the first run.
    let url = first_url(hosts_params(), with(&Object::new().into(), "LastRunTime", JsValue::NULL));
    assert!(url.contains("vm_scan_since=1970-01-09T00:00:00Z"), "{url}");
}

#[wasm_bindgen_test]
fn an_unusable_last_run_time_is_a_configuration_error_never_a_full_load() {
    for token in [
        JsValue::TRUE,
        obj(&[("date", "2024-01-01")]),
        js("return [2024, 1, 1]"),
        js("return new Date(NaN)"),
        js("return { [Symbol.toStringTag]: 'Date', getTime() { return 0; }, toISOString() { return '2024-01-01T00:00:00Z'; } }"),
        num(f64::INFINITY),
    ] {
        let tokens = with(&Object::new().into(), "LastRunTime", token.clone());
        let err = JsFeed::new(hosts_params(), tokens, num(1.7e12)).err().expect("must throw");
        assert_coded(&err, "CONFIG_INVALID");
        let msg = get_str(&err, "message");
        assert!(msg.contains("LastRunTime token: "), "{token:?}: {msg}");
    }
    // Reported together with the parameters' problems.
    let p = with(&hosts_params(), "batchSize", JsValue::TRUE);
    let err =
        JsFeed::new(p, with(&Object::new().into(), "LastRunTime", JsValue::TRUE), num(0.0)).err().expect("throws");
    let msg = get_str(&err, "message");
    assert!(
        msg.starts_with("2 problems") && msg.contains("batchSize: ") && msg.contains("LastRunTime token: is a boolean"),
        "{msg}"
    );
}

#[wasm_bindgen_test]
fn a_previous_run_context_that_is_not_a_string_is_ignored_with_a_warning() {
    for prc in [num(42.0), obj(&[("w", "1")]), JsValue::TRUE] {
        let tokens = with(&Object::new().into(), "PreviousRunContext", prc);
        let mut feed = JsFeed::new(hosts_params(), tokens, num(1.7e12)).expect("runs");
        let mut logs = Vec::new();
        drain(&mut feed, &mut String::new(), &mut logs);
        assert!(logs.iter().any(|l| l.starts_with("WARN PreviousRunContext is a")), "{logs:?}");
        let url = get_str(&feed.poll(num(1.7e12)).expect("poll"), "url");
        assert!(url.contains("vm_scan_since=1970-01-09T00:00:00Z") && !url.contains("id_min"), "{url}");
    }
}

#[wasm_bindgen_test]
fn every_error_from_the_boundary_is_coded() {
    let throwing = js("const o = {}; Object.defineProperty(o, 'batchSize', { enumerable: true, get() { throw new Error('boom'); } }); return o;");
    let bad_news: Vec<(JsValue, &str)> = vec![
        (JsFeed::new("not an object".into(), JsValue::UNDEFINED, num(0.0)).err().expect("throws"), "BAD_ARGUMENT"),
        (JsFeed::new(js("return [1]"), JsValue::UNDEFINED, num(0.0)).err().expect("throws"), "BAD_ARGUMENT"),
        (JsFeed::new(hosts_params(), JsValue::UNDEFINED, "now".into()).err().expect("throws"), "BAD_ARGUMENT"),
        (
            JsFeed::new(hosts_params(), JsValue::UNDEFINED, js("return BigInt(1)")).err().expect("throws"),
            "BAD_ARGUMENT",
        ),
        (JsFeed::new(throwing.clone(), JsValue::UNDEFINED, num(0.0)).err().expect("throws"), "CONFIG_INVALID"),
    ];
    for (err, code) in bad_news {
        assert_coded(&err, code);
    }
    // An unknown key of any type is only a warning.
    assert!(JsFeed::new(with(&hosts_params(), "x", throwing.clone()), JsValue::UNDEFINED, num(0.0)).is_ok());
    let mut feed = JsFeed::new(hosts_params(), JsValue::UNDEFINED, num(0.0)).expect("valid");
    assert_coded(&feed.poll("soon".into()).expect_err("throws"), "BAD_ARGUMENT");
    assert_eq!(get_str(&feed.poll(num(0.0)).expect("poll"), "kind"), "send");
    let head = |feed: &mut JsFeed, status: JsValue, headers: JsValue, id: JsValue| {
        feed.handle_response_head(num(0.0), status, headers, id).expect_err("throws")
    };
    assert_coded(&head(&mut feed, "200".into(), JsValue::UNDEFINED, JsValue::UNDEFINED), "BAD_ARGUMENT");
    assert_coded(&head(&mut feed, num(200.0), JsValue::from_f64(5.0), JsValue::UNDEFINED), "BAD_ARGUMENT");
    assert_coded(&head(&mut feed, num(200.0), JsValue::UNDEFINED, "one".into()), "BAD_ARGUMENT");
    assert_coded(&head(&mut feed, num(200.0), JsValue::UNDEFINED, num(-1.0)), "BAD_ARGUMENT");
    for chunk in [JsValue::NULL, JsValue::UNDEFINED, "text".into(), num(3.0), obj(&[("length", "3")])] {
        assert_coded(&feed.handle_body(chunk, JsValue::UNDEFINED).expect_err("throws"), "BAD_ARGUMENT");
    }
    assert_coded(&feed.handle_response_end(JsValue::NULL, JsValue::UNDEFINED).expect_err("throws"), "BAD_ARGUMENT");
    assert_coded(
        &feed
            .handle_transport_error(JsValue::UNDEFINED, "E".into(), "m".into(), JsValue::UNDEFINED)
            .expect_err("throws"),
        "BAD_ARGUMENT",
    );
    // Headers with odd entries, bytes of other kinds, and a transport error of other types work.
    let headers = js("return [['X-RateLimit-Remaining', 5], null, 7, ['only-a-name'], ['Retry-After', { a: 1 }]]");
    feed.handle_response_head(num(0.0), num(200.0), headers, JsValue::UNDEFINED).expect("head");
    let body = host_page(&[1], None);
    let buf = js_sys::Uint8Array::from(body.as_bytes()).buffer();
    assert!(feed.handle_body(buf.into(), JsValue::UNDEFINED).expect("an ArrayBuffer is bytes"));
    feed.handle_response_end(num(0.0), JsValue::UNDEFINED).expect("end");
    let summary = get(&feed.poll(num(0.0)).expect("poll"), "summary");
    assert_eq!(get(&summary, "records").as_f64(), Some(1.0));
    // Transformer.
    assert_coded(
        &JsTransformer::new(num(5.0), JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED)
            .err()
            .expect("throws"),
        "CONFIG_INVALID",
    );
    assert_coded(
        &JsTransformer::new("hosts".into(), "3".into(), JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED)
            .err()
            .expect("throws"),
        "BAD_ARGUMENT",
    );
    assert_coded(
        &JsTransformer::new("detections".into(), JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED, num(1.0))
            .err()
            .expect("throws"),
        "CONFIG_INVALID",
    );
    assert_coded(
        &JsTransformer::new(
            "detections".into(),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            "HostQid".into(),
        )
        .err()
        .expect("throws"),
        "CONFIG_INVALID",
    );
    let mut t = JsTransformer::new(
        "hosts".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    )
    .expect("source");
    assert_coded(&t.push(JsValue::NULL).expect_err("throws"), "BAD_ARGUMENT");
    t.push(js(
        "return new DataView(new TextEncoder().encode('<HOST_LIST_OUTPUT><RESPONSE/></HOST_LIST_OUTPUT>').buffer)",
    ))
    .expect("a DataView is bytes");
    t.finish().expect("a complete document");
}

#[wasm_bindgen_test]
fn a_transport_error_of_any_type_is_still_a_network_failure() {
    let p = with(&hosts_params(), "maxRetry", num(0.0));
    let mut feed = JsFeed::new(p, JsValue::UNDEFINED, num(0.0)).expect("valid");
    feed.poll(num(0.0)).expect("poll");
    feed.handle_transport_error(num(0.0), num(104.0), obj(&[("message", "x")]), JsValue::UNDEFINED).expect("taken");
    let action = feed.poll(num(0.0)).expect("poll");
    assert_eq!(get_str(&action, "kind"), "fail");
    assert_coded(&get(&action, "error"), "NETWORK");
}

#[wasm_bindgen_test]
fn checkpoint_and_summary_warnings_through_the_js_api() {
    let p = with(&hosts_params(), "batchSize", num(2.0));
    let mut feed = JsFeed::new(p, JsValue::UNDEFINED, num(1.7e12)).expect("valid");
    assert_eq!(feed.checkpoint(), "", "nothing to resume before any record");
    let pages = [host_page(&[1, 2], Some(3)), host_page(&[3], None)];
    let mut seen = Vec::new();
    for page in pages.iter() {
        let action = feed.poll(num(1.7e12)).expect("poll");
        assert_eq!(get_str(&action, "kind"), "send");
        feed.handle_response_head(num(1.7e12), num(200.0), JsValue::UNDEFINED, get(&action, "id")).expect("head");
        let page = page.replace("</HOST_LIST>", "</HOST_LIST><WARNING><CODE>7</CODE><TEXT>odd</TEXT></WARNING>");
        feed.handle_body(bytes(page.as_bytes()), get(&action, "id")).expect("body");
        feed.handle_response_end(num(1.7e12), get(&action, "id")).expect("end");
        seen.push(feed.checkpoint());
    }
    assert!(seen[0].starts_with("qvt2;ds=hosts;") && seen[0].contains(";w=2"), "{seen:?}");
    let done = feed.poll(num(1.7e12)).expect("poll");
    assert_eq!(get_str(&done, "kind"), "done");
    assert_eq!(feed.checkpoint(), "", "a finished run leaves nothing to resume");
    let warnings = get(&get(&done, "summary"), "warnings");
    assert!(warnings.is_object());
    assert_eq!(get(&warnings, "qualysWarning").as_f64(), Some(2.0));
}

#[wasm_bindgen_test]
fn the_tables_are_exported_as_plain_data() {
    use js_sys::{Array, Reflect};
    use qualys_vm_transporter::params::table::PARAMS;
    use qualys_vm_transporter::qualys::DataSource;
    use qualys_vm_transporter::ErrorCode;

    let sources: Array = wasm::data_sources();
    assert_eq!(sources.length() as usize, DataSource::ALL.len());
    for (i, d) in DataSource::ALL.iter().enumerate() {
        let s = sources.get(i as u32);
        assert_eq!(get_str(&s, "name"), d.as_str());
        assert_eq!(get_str(&s, "urlKey"), d.url_key());
        assert_eq!(get_str(&s, "defaultRootNode"), d.default_root_node());
        assert_eq!(get_str(&s, "recordElement"), d.record_element());
    }

    let params: Array = wasm::parameters();
    assert_eq!(params.length() as usize, PARAMS.len());
    let batch = params.iter().find(|p| get_str(p, "key") == "batchSize").expect("batchSize");
    assert_eq!(get_str(&batch, "kind"), "integer");
    assert_eq!(
        (get(&batch, "default").as_f64(), get(&batch, "min").as_f64(), get(&batch, "max").as_f64()),
        (Some(500.0), Some(1.0), Some(1_000_000.0))
    );
    let ds = params.get(0);
    assert_eq!(get_str(&ds, "key"), "dataSource");
    assert_eq!(get_str(&ds, "required"), "always");
    assert_eq!(Array::from(&get(&ds, "values")).length(), 4);
    assert!(get(&ds, "default").is_null());
    let dk = params.iter().find(|p| get_str(p, "key") == "detectionKey").expect("detectionKey");
    assert_eq!((get_str(&dk, "kind"), get_str(&dk, "default")), ("choice".to_string(), "seed".to_string()));
    assert_eq!(Array::from(&get(&dk, "values")).length(), 3);

    let codes = wasm::error_codes();
    let info = wasm::error_code_info();
    for code in ErrorCode::ALL {
        assert_eq!(get_str(&codes, code.as_str()), code.as_str());
        let i = Reflect::get(&info, &JsValue::from_str(code.as_str())).expect("info");
        assert_eq!(get_str(&i, "blame"), code.blame().as_str());
        assert_eq!(get(&i, "retryable").as_bool(), Some(code.retryable()));
    }
}
