//! The wasm-bindgen boundary of qualys-vm-transporter: the only crate that knows about JavaScript.
//!
//! A workspace member apart from the core (the package at the repository root, `src/`), as
//! lol-html keeps its js-api apart: the core has no wasm-only dependency at all, and this crate is
//! a plain `cdylib`, so the release profile's LTO applies without tricks.
//!
//! In scope: reading JS values (parameter objects, tokens, headers, byte chunks, numbers) into core
//! types, and core results to plain JS objects, and core errors to JS `Error`s carrying `code`,
//! `blame` and `retryable`. The boundary only tells JS types apart ([`read_value`]: strings,
//! numbers, booleans, bigints, Dates of any realm, null/undefined, anything else by type); the core
//! converts and validates them ([`qualys_vm_transporter::value`], [`qualys_vm_transporter::params::parse_values`]). Every argument
//! is taken as a `JsValue` and checked here, so a wrong type is a coded `BAD_ARGUMENT` error, never
//! a bare `TypeError` of the glue code; objects are read through `Reflect` (a throwing getter or
//! proxy is caught). Out of scope: any decision; everything here delegates to
//! [`qualys_vm_transporter::feed::Feed`] and [`qualys_vm_transporter::transform::Transform`].
//!
//! Crossing the boundary is per chunk, never per record: body chunks come in as bytes, output
//! leaves as one string per chunk.

#![warn(missing_docs)]
// One argued `unsafe` block: the output view in `view_chunk`.
#![deny(unsafe_code)]

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use qualys_vm_transporter::error::{Error, ErrorCode};
use qualys_vm_transporter::feed::{self, Action, TokenValues};
use qualys_vm_transporter::output::Chunk;
use qualys_vm_transporter::qualys::DataSource;
use qualys_vm_transporter::records::keys::DetectionKey;
use qualys_vm_transporter::records::Shape;
use qualys_vm_transporter::response::Limits;
use qualys_vm_transporter::transform::{self, Transform};
use qualys_vm_transporter::value::Value;

/// The crate version, for logs and the CLI's `--version`.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // Reflect::set on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// A JS `Error` with `code`, `blame` and `retryable` properties.
fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(e.message());
    err.set_name("QualysTransporterError");
    let obj: &Object = err.as_ref();
    set(obj, "code", e.code().as_str());
    set(obj, "blame", e.blame().as_str());
    set(obj, "retryable", e.is_retryable());
    err.into()
}

fn caller_error(code: ErrorCode, message: String) -> JsValue {
    js_error(&Error::caller(code, message))
}

fn bad_argument(message: String) -> JsValue {
    caller_error(ErrorCode::BadArgument, message)
}

/// What `Object.prototype.toString` says about `v` (`"[object Date]"`, ...): the type of an object
/// whatever realm it comes from (a Date made in Archer's vm context is not `instanceof` ours).
fn type_tag(v: &JsValue) -> Option<String> {
    let to_string = Reflect::get(&Object::new(), &JsValue::from_str("toString")).ok()?;
    let f = to_string.dyn_ref::<Function>()?;
    Reflect::apply(f, v, &Array::new()).ok()?.as_string()
}

/// The time value of a Date of any realm (`Date.prototype.getTime` reads the internal slot, which
/// any realm's Date has); `None` for anything else, even an object that claims to be a Date.
fn date_ms(v: &JsValue) -> Option<f64> {
    let get_time = Reflect::get(&js_sys::Date::new_0(), &JsValue::from_str("getTime")).ok()?;
    let f = get_time.dyn_ref::<Function>()?;
    Reflect::apply(f, v, &Array::new()).ok()?.as_f64()
}

/// A JS value's type, for the core to convert and validate.
fn read_value(v: &JsValue) -> Value {
    if v.is_null() || v.is_undefined() {
        return Value::Missing;
    }
    if let Some(s) = v.as_string() {
        return Value::Text(s);
    }
    if let Some(n) = v.as_f64() {
        return Value::Number(n);
    }
    if let Some(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if v.is_bigint() {
        let digits = v.dyn_ref::<js_sys::BigInt>().and_then(|b| b.to_string(10).ok()).and_then(|s| s.as_string());
        return digits.map_or(Value::Other("unreadable"), Value::BigInt);
    }
    if v.is_symbol() {
        return Value::Other("symbol");
    }
    if v.is_function() {
        return Value::Other("function");
    }
    match type_tag(v).as_deref() {
        Some("[object Date]") => date_ms(v).map_or(Value::Other("object"), Value::Date),
        Some("[object Array]") => Value::Other("array"),
        Some(_) => Value::Other("object"),
        None => Value::Other("unreadable"),
    }
}

/// The own enumerable string-keyed properties of a plain object (Archer's CustomParameters), each
/// value read by [`read_value`]. `null`/`undefined` is an empty object.
fn value_pairs(value: &JsValue, what: &str) -> Result<Vec<(String, Value)>, JsValue> {
    if value.is_null() || value.is_undefined() {
        return Ok(Vec::new());
    }
    let is_array = type_tag(value).as_deref() == Some("[object Array]");
    if !value.is_object() || is_array {
        return Err(bad_argument(format!(
            "{what} must be an object of key/value pairs, not {}",
            read_value(value).type_name()
        )));
    }
    let keys = Reflect::own_keys(value).map_err(|_| bad_argument(format!("{what}: its keys could not be read")))?;
    let obj: &Object = value.unchecked_ref();
    let mut out = Vec::with_capacity(keys.length() as usize);
    for key in keys.iter() {
        let Some(name) = key.as_string() else { continue }; // symbol keys
        let enumerable = Reflect::get_own_property_descriptor(obj, &key)
            .ok()
            .and_then(|d| Reflect::get(&d, &JsValue::from_str("enumerable")).ok())
            .and_then(|e| e.as_bool())
            .unwrap_or(false);
        if !enumerable {
            continue;
        }
        let v = Reflect::get(value, &key).map_or(Value::Other("unreadable"), |v| read_value(&v));
        out.push((name, v));
    }
    Ok(out)
}

/// A value as text where any text will do (a header value, a transport error message): strings as
/// they are, numbers/booleans/bigints/Dates converted, anything else `None`.
fn loose_text(v: &JsValue) -> Option<String> {
    read_value(v).param_text().ok().flatten()
}

/// At most this many header entries are read.
const MAX_HEADERS: u32 = 10_000;

/// Headers as `[[name, value], ...]` or a plain object; entries that are not a name and a value
/// are skipped.
fn header_pairs(value: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    if value.is_null() || value.is_undefined() {
        return Ok(Vec::new());
    }
    if type_tag(value).as_deref() == Some("[object Array]") {
        let len = Reflect::get(value, &JsValue::from_str("length")).ok().and_then(|l| l.as_f64()).unwrap_or(0.0);
        let len = if len.is_finite() && len > 0.0 { (len as u32).min(MAX_HEADERS) } else { 0 };
        let mut out = Vec::with_capacity(len as usize);
        for i in 0..len {
            let Ok(entry) = Reflect::get_u32(value, i) else { continue };
            if !entry.is_object() {
                continue;
            }
            let (Ok(k), Ok(v)) = (Reflect::get_u32(&entry, 0), Reflect::get_u32(&entry, 1)) else { continue };
            if let (Some(k), Some(v)) = (k.as_string(), loose_text(&v)) {
                out.push((k, v));
            }
        }
        return Ok(out);
    }
    let pairs = value_pairs(value, "headers")?;
    Ok(pairs
        .into_iter()
        .take(MAX_HEADERS as usize)
        .filter_map(|(k, v)| v.param_text().ok().flatten().map(|v| (k, v)))
        .collect())
}

/// One token of the tokens object (`null`/`undefined`/not an object: none).
fn token(tokens: &JsValue, key: &str) -> Value {
    if !tokens.is_object() {
        return Value::Missing;
    }
    Reflect::get(tokens, &JsValue::from_str(key)).map_or(Value::Other("unreadable"), |v| read_value(&v))
}

/// Milliseconds since the epoch, within the range of a JS Date (±8.64e15).
fn time_arg(v: &JsValue, what: &str) -> Result<i64, JsValue> {
    match v.as_f64() {
        Some(n) if n.is_finite() && n.abs() <= 8.64e15 => Ok(n as i64),
        _ => Err(bad_argument(format!(
            "{what} must be a time in milliseconds since 1970 (a finite number), not {}",
            read_value(v).type_name()
        ))),
    }
}

/// An optional request id: `undefined`/`null` = none, else a whole number >= 0.
fn id_arg(v: &JsValue) -> Result<Option<u64>, JsValue> {
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(Some(n as u64)),
        _ => Err(bad_argument(format!(
            "requestId must be the id of a send action (a whole number), not {}",
            read_value(v).type_name()
        ))),
    }
}

/// An HTTP status (a whole number 0-999).
fn status_arg(v: &JsValue) -> Result<u16, JsValue> {
    match v.as_f64() {
        Some(n) if n.is_finite() && n.fract() == 0.0 && (0.0..=999.0).contains(&n) => Ok(n as u16),
        _ => Err(bad_argument(format!(
            "status must be an HTTP status code (a whole number), not {}",
            read_value(v).type_name()
        ))),
    }
}

/// An optional whole number within `u32` (`undefined`/`null` = none).
fn opt_u32_arg(v: &JsValue, what: &str) -> Result<Option<u32>, JsValue> {
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => Ok(Some(n as u32)),
        _ => Err(bad_argument(format!("{what} must be a whole number, not {}", read_value(v).type_name()))),
    }
}

/// An optional output shape: `undefined`/`null`/`""` = the default (`records`), else `"records"` or
/// `"qualys"` exactly.
fn shape_arg(v: &JsValue) -> Result<Shape, JsValue> {
    if v.is_null() || v.is_undefined() {
        return Ok(Shape::default());
    }
    let Some(text) = v.as_string() else {
        return Err(bad_argument(format!("outputShape must be a string, not {}", read_value(v).type_name())));
    };
    if text.is_empty() {
        return Ok(Shape::default());
    }
    Shape::from_param(&text).ok_or_else(|| {
        js_error(&Error::config(
            ErrorCode::ConfigInvalid,
            format!("outputShape: {:?} is not one of records, qualys", qualys_vm_transporter::text::server_text(&text)),
        ))
    })
}

/// The bytes of a chunk: a `Uint8Array` (a Node `Buffer` too), any other typed array or DataView
/// (its bytes), or an `ArrayBuffer`, of any realm.
fn bytes_arg(v: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    // Fast path: a Uint8Array of this realm.
    if let Some(u8s) = v.dyn_ref::<Uint8Array>() {
        return Ok(u8s.to_vec());
    }
    let bad = || bad_argument(format!("{what} must be a Uint8Array (or Buffer), not {}", read_value(v).type_name()));
    let get = |k: &str| Reflect::get(v, &JsValue::from_str(k)).ok();
    let (buffer, offset, length) = if js_sys::ArrayBuffer::is_view(v) {
        let num = |k: &str| get(k).and_then(|n| n.as_f64()).filter(|n| n.is_finite() && *n >= 0.0);
        (get("buffer").ok_or_else(bad)?, num("byteOffset").ok_or_else(bad)?, num("byteLength").ok_or_else(bad)?)
    } else if type_tag(v).as_deref() == Some("[object ArrayBuffer]") {
        let len = get("byteLength").and_then(|n| n.as_f64()).ok_or_else(bad)?;
        (v.clone(), 0.0, len)
    } else {
        return Err(bad());
    };
    let ctor: Function = Uint8Array::new_with_length(0).constructor();
    let args = Array::of3(&buffer, &JsValue::from_f64(offset), &JsValue::from_f64(length));
    let view = Reflect::construct(&ctor, &args).map_err(|_| bad())?;
    Ok(view.unchecked_into::<Uint8Array>().to_vec())
}

/// A `u64` as a JS number (exact up to 2^53, as every count and ID here is in practice).
fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// An optional string or number as the value, or `null`.
fn opt_str(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

/// A run's counters as a plain JS object (camelCase keys, `null` for what is absent). Written out
/// field by field: this is the shape the shim, the CLI and `index.d.ts`'s `Summary` rely on.
fn summary_to_js(s: &feed::Summary) -> JsValue {
    let o = Object::new();
    set(&o, "dataSource", s.data_source.as_str());
    set(&o, "records", num(s.records));
    set(&o, "pages", s.pages);
    set(&o, "requests", s.requests);
    set(&o, "retries", s.retries);
    set(&o, "waits", s.waits);
    set(&o, "waitMs", num(s.wait_ms));
    set(&o, "bytesIn", num(s.bytes_in));
    set(&o, "bytesWire", s.bytes_wire.map_or(JsValue::NULL, num));
    set(&o, "bytesOut", num(s.bytes_out));
    set(&o, "chunks", s.chunks);
    set(&o, "duplicatesSkipped", num(s.duplicates_skipped));
    set(&o, "outOfWindowSkipped", num(s.out_of_window_skipped));
    let stalled = Array::new();
    for id in &s.stalled_hosts_skipped {
        stalled.push(&num(*id));
    }
    set(&o, "stalledHostsSkipped", stalled);
    set(&o, "keyCollisions", num(s.key_collisions));
    set(&o, "deviceLinkCollisions", num(s.device_link_collisions));
    set(&o, "highestId", s.highest_id.map_or(JsValue::NULL, num));
    set(&o, "lastRunTimeUsed", opt_str(s.last_run_time_used.as_deref()));
    set(&o, "previousRunContext", s.previous_run_context.as_str());
    set(&o, "elapsedMs", num(s.elapsed_ms));
    set(&o, "rateLimit", s.rate_limit.map_or(JsValue::NULL, num));
    set(&o, "rateWindowSec", s.rate_window_sec.map_or(JsValue::NULL, num));
    set(&o, "callsLeft", s.calls_left.map_or(JsValue::NULL, num));
    set(&o, "concurrencyLimit", s.concurrency_limit.map_or(JsValue::NULL, num));
    set(&o, "windows", num(s.windows));
    set(&o, "windowsDone", num(s.windows_done));
    let w = Object::new();
    for (kind, n) in &s.warnings {
        set(&w, kind, num(*n));
    }
    set(&o, "warnings", w);
    let check = Array::new();
    for f in &s.check {
        let fo = Object::new();
        set(&fo, "check", f.check);
        set(&fo, "outcome", f.outcome.as_str());
        set(&fo, "text", f.text.as_str());
        check.push(&fo);
    }
    set(&o, "check", check);
    o.into()
}

/// An offline transform's counters as a plain JS object (see [`summary_to_js`]).
fn transform_summary_to_js(s: &transform::TransformSummary) -> JsValue {
    let o = Object::new();
    set(&o, "records", num(s.records));
    set(&o, "bytesIn", num(s.bytes_in));
    set(&o, "bytesOut", num(s.bytes_out));
    set(&o, "chunks", s.chunks);
    set(&o, "nextPage", opt_str(s.next_page.as_deref()));
    let notices = Array::new();
    for n in &s.notices {
        notices.push(&JsValue::from_str(n));
    }
    set(&o, "notices", notices);
    set(&o, "keyCollisions", num(s.key_collisions));
    set(&o, "deviceLinkCollisions", num(s.device_link_collisions));
    o.into()
}

/// One data-feed run. See `feed::Feed` for the protocol.
#[wasm_bindgen(js_name = Feed)]
pub struct JsFeed {
    inner: feed::Feed,
    /// The chunk whose bytes the last `takeOutputChunk` handed out as a view (kept alive until
    /// the next call).
    viewed: Option<Chunk>,
}

#[wasm_bindgen(js_class = Feed)]
impl JsFeed {
    /// `new Feed(customParameters, tokens, nowMs)`; throws a configuration error (every problem
    /// of every parameter at once) or a `BAD_ARGUMENT` caller error. Values may be strings,
    /// numbers, booleans, bigints or Dates; `LastRunTime` a string, a Date or a number of seconds
    /// or milliseconds since 1970 (see `qualys_vm_transporter::last_run_time::token_text`).
    #[wasm_bindgen(constructor)]
    pub fn new(params: JsValue, tokens: JsValue, now_ms: JsValue) -> Result<JsFeed, JsValue> {
        let now = time_arg(&now_ms, "nowMs")?;
        let params = value_pairs(&params, "CustomParameters")?;
        let tokens = TokenValues {
            last_run_time: token(&tokens, "LastRunTime"),
            previous_run_context: token(&tokens, "PreviousRunContext"),
        };
        feed::Feed::with_values(&params, &tokens, now)
            .map(|inner| JsFeed { inner, viewed: None })
            .map_err(|e| js_error(&e))
    }

    /// `{ socketLimit, requestTimeoutMs, responseTimeoutMs, verifyCerts, caCert, proxy: {url, authorization}|null, rootNode, dataSource, testConnection }`.
    pub fn transport(&self) -> JsValue {
        let t = self.inner.transport();
        let o = Object::new();
        set(&o, "socketLimit", t.socket_limit);
        set(&o, "requestTimeoutMs", t.request_timeout_ms as f64);
        set(&o, "responseTimeoutMs", t.response_timeout_ms as f64);
        set(&o, "verifyCerts", t.verify_certs);
        set(&o, "caCert", t.ca_cert.as_deref().map_or(JsValue::NULL, JsValue::from_str));
        set(&o, "rootNode", t.root_node.as_str());
        set(&o, "dataSource", self.inner.data_source().as_str());
        set(&o, "testConnection", self.inner.is_connection_test());
        match t.proxy {
            Some(p) => {
                let po = Object::new();
                set(&po, "url", p.url.as_str());
                set(
                    &po,
                    "authorization",
                    p.authorization.as_ref().map_or(JsValue::NULL, |a| JsValue::from_str(a.expose())),
                );
                set(&o, "proxy", po);
            }
            None => set(&o, "proxy", JsValue::NULL),
        }
        o.into()
    }

    /// `{kind:"send", id, method, url, body, headers:[[k,v]...], page, attempt}` (start it, poll
    /// again; `body` is the form body of a POST, `null` for a GET) |
    /// `{kind:"wait", ms, reason}` (sleep up to ms or until a response settles) |
    /// `{kind:"pending"}` (wait until a response settles) | `{kind:"done", summary}` | `{kind:"fail", error}`.
    pub fn poll(&mut self, now_ms: JsValue) -> Result<JsValue, JsValue> {
        let now = time_arg(&now_ms, "nowMs")?;
        let o = Object::new();
        match self.inner.poll(now) {
            Action::Send(req) => {
                set(&o, "kind", "send");
                set(&o, "id", req.id as f64);
                set(&o, "method", req.method.as_str());
                set(&o, "url", req.url.as_str());
                set(&o, "body", req.body.as_deref().map_or(JsValue::NULL, JsValue::from_str));
                let headers = Array::new();
                for (k, v) in req.all_headers() {
                    headers.push(&Array::of2(&JsValue::from_str(&k), &JsValue::from_str(&v)));
                }
                set(&o, "headers", headers);
                set(&o, "page", req.page);
                set(&o, "attempt", req.attempt);
            }
            Action::Wait { ms, reason } => {
                set(&o, "kind", "wait");
                set(&o, "ms", ms as f64);
                set(&o, "reason", reason.as_str());
            }
            Action::Pending => set(&o, "kind", "pending"),
            Action::Done(s) => {
                set(&o, "kind", "done");
                set(&o, "summary", summary_to_js(&s));
            }
            Action::Fail(e) => {
                set(&o, "kind", "fail");
                set(&o, "error", js_error(&e));
            }
        }
        Ok(o.into())
    }

    /// The request id from the `send` action; may be omitted while only one request is in flight.
    fn request_id(&mut self, id: &JsValue) -> Result<u64, JsValue> {
        // 0 is never a valid id: the core then reports an out-of-order call.
        Ok(id_arg(id)?.or_else(|| self.inner.sole_request_id()).unwrap_or(0))
    }

    /// `handleResponseHead(nowMs, status, headers, requestId?)`: the response's status line and headers (`[[name, value], ...]` or an object).
    #[wasm_bindgen(js_name = handleResponseHead)]
    pub fn handle_response_head(
        &mut self,
        now_ms: JsValue,
        status: JsValue,
        headers: JsValue,
        request_id: JsValue,
    ) -> Result<(), JsValue> {
        let now = time_arg(&now_ms, "nowMs")?;
        let status = status_arg(&status)?;
        let headers = header_pairs(&headers)?;
        let id = self.request_id(&request_id)?;
        self.inner.handle_response_head(id, now, status, &headers);
        Ok(())
    }

    /// Returns false when reading further is pointless: abort, then call `handleResponseEnd`.
    #[wasm_bindgen(js_name = handleBody)]
    pub fn handle_body(&mut self, chunk: JsValue, request_id: JsValue) -> Result<bool, JsValue> {
        let bytes = bytes_arg(&chunk, "the body chunk")?;
        let id = self.request_id(&request_id)?;
        Ok(self.inner.handle_body(id, &bytes))
    }

    /// `handleWireBytes(bytes, requestId?)`: bytes of a compressed answer as received on the wire
    /// (the body chunks are the decoded bytes); a client that decodes inside may not call it.
    #[wasm_bindgen(js_name = handleWireBytes)]
    pub fn handle_wire_bytes(&mut self, bytes: JsValue, request_id: JsValue) -> Result<(), JsValue> {
        let n = match bytes.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 => n as u64,
            _ => {
                return Err(bad_argument(format!(
                    "bytes must be a whole number >= 0, not {}",
                    read_value(&bytes).type_name()
                )))
            }
        };
        let id = self.request_id(&request_id)?;
        self.inner.handle_wire_bytes(id, n);
        Ok(())
    }

    /// `noteTlsIssuer(issuer)`: the issuer of the server's TLS certificate, for the connection
    /// test's TLS line (ignored outside a connection test, and when not a string).
    #[wasm_bindgen(js_name = noteTlsIssuer)]
    pub fn note_tls_issuer(&mut self, issuer: JsValue) {
        if let Some(issuer) = issuer.as_string() {
            self.inner.note_tls_issuer(&issuer);
        }
    }

    /// `handleResponseEnd(nowMs, requestId?)`: the response body ended.
    #[wasm_bindgen(js_name = handleResponseEnd)]
    pub fn handle_response_end(&mut self, now_ms: JsValue, request_id: JsValue) -> Result<(), JsValue> {
        let now = time_arg(&now_ms, "nowMs")?;
        let id = self.request_id(&request_id)?;
        self.inner.handle_response_end(id, now);
        Ok(())
    }

    /// `code` and `message` may be of any type (what the HTTP client gave); they are shown as text.
    #[wasm_bindgen(js_name = handleTransportError)]
    pub fn handle_transport_error(
        &mut self,
        now_ms: JsValue,
        code: JsValue,
        message: JsValue,
        request_id: JsValue,
    ) -> Result<(), JsValue> {
        let now = time_arg(&now_ms, "nowMs")?;
        let id = self.request_id(&request_id)?;
        let code = loose_text(&code).unwrap_or_else(|| "UNKNOWN".to_string());
        let message = loose_text(&message).unwrap_or_else(|| read_value(&message).type_name().to_string());
        self.inner.handle_transport_error(id, now, &code, &message);
        Ok(())
    }

    /// The next output chunk (a string of sibling record fragments), or `undefined`.
    #[wasm_bindgen(js_name = takeOutput)]
    pub fn take_output(&mut self) -> Option<String> {
        self.inner.take_output().map(|c| c.xml)
    }

    /// The next output chunk as `{bytes, ascii, records}`, or `undefined`. `bytes` is UTF-8 and,
    /// when `ascii` is true, pure ASCII (decode it as latin1: several times faster than UTF-8). It
    /// is a view into the core's memory, valid only until the next call on this object: decode
    /// or copy it at once.
    #[wasm_bindgen(js_name = takeOutputChunk)]
    pub fn take_output_chunk(&mut self) -> JsValue {
        view_chunk(&mut self.viewed, self.inner.take_output())
    }

    /// All pending log lines as `[{level, text}]`.
    #[wasm_bindgen(js_name = takeLogs)]
    pub fn take_logs(&mut self) -> Array {
        let out = Array::new();
        while let Some(line) = self.inner.take_log() {
            let o = Object::new();
            set(&o, "level", line.level.as_str());
            set(&o, "text", line.text.as_str());
            out.push(&o);
        }
        out
    }

    /// The counters so far; `warnings` is an object of kind -> count.
    pub fn summary(&self) -> JsValue {
        summary_to_js(self.inner.summary())
    }

    /// The resume checkpoint a failure at this moment would leave (`""` when there is nothing to
    /// resume). A host may keep the latest one, so that it can still hand Archer a checkpoint if
    /// the core stops working.
    pub fn checkpoint(&self) -> String {
        self.inner.checkpoint_now()
    }
}

/// The default Archer root node of a data source (`kb`, `hosts`, `hostDetections`, `detections`),
/// or `undefined` for an unknown one.
#[wasm_bindgen(js_name = defaultRootNode)]
pub fn default_root_node(data_source: JsValue) -> Option<String> {
    let data_source = data_source.as_string()?;
    DataSource::from_param(&data_source).map(|s| s.default_root_node().to_string())
}

/// Every data source, in the guide's order, as `[{name, urlKey, defaultRootNode, recordElement}]`:
/// the `dataSource` value, the Custom Parameter holding its URL, the default Archer root node of
/// its output and the element name of each output record (`qualys_vm_transporter::qualys`).
#[wasm_bindgen(js_name = dataSources)]
pub fn data_sources() -> Array {
    let out = Array::new();
    for d in DataSource::ALL {
        let o = Object::new();
        set(&o, "name", d.as_str());
        set(&o, "urlKey", d.url_key());
        set(&o, "defaultRootNode", d.default_root_node());
        set(&o, "recordElement", d.record_element());
        out.push(&o);
    }
    out
}

/// The Custom Parameters in table order (`qualys_vm_transporter::params::table`), each
/// `{key, kind, default, min, max, values, required, summary, doc}`: `kind` is `integer`, `boolean`,
/// `choice`, `url`, `secret`, `pem`, `proxy`, `xmlName` or `text`; `default` a number, boolean or
/// (an optional choice) string (`null` when the kind has none); `min`/`max` numbers for integers (else `null`); `values` the
/// allowed values of a choice (else `null`); `required` `always`, `forItsDataSource` or `no`;
/// `summary` one line for help texts; `doc` the README's "Meaning" text.
#[wasm_bindgen]
pub fn parameters() -> Array {
    use qualys_vm_transporter::params::table::{Kind, Required, PARAMS};
    let out = Array::new();
    for p in PARAMS {
        let o = Object::new();
        set(&o, "key", p.key);
        set(&o, "kind", p.kind.as_str());
        let (default, min, max, values) = match p.kind {
            Kind::Integer { min, max, default } => (
                JsValue::from_f64(default as f64),
                JsValue::from_f64(min as f64),
                JsValue::from_f64(max as f64),
                JsValue::NULL,
            ),
            Kind::Boolean { default } => (JsValue::from_bool(default), JsValue::NULL, JsValue::NULL, JsValue::NULL),
            Kind::Choice(values) => {
                let list = Array::new();
                for v in values {
                    list.push(&JsValue::from_str(v));
                }
                // An optional choice defaults to its first value.
                let default = match (p.required, values.first()) {
                    (Required::No, Some(first)) => JsValue::from_str(first),
                    _ => JsValue::NULL,
                };
                (default, JsValue::NULL, JsValue::NULL, list.into())
            }
            _ => (JsValue::NULL, JsValue::NULL, JsValue::NULL, JsValue::NULL),
        };
        set(&o, "default", default);
        set(&o, "min", min);
        set(&o, "max", max);
        set(&o, "values", values);
        set(&o, "required", p.required.as_str());
        set(&o, "summary", p.summary);
        set(&o, "doc", p.doc);
        out.push(&o);
    }
    out
}

/// Every stable error code, as `{CONFIG_INVALID: "CONFIG_INVALID", ...}`: the core's and the
/// shim's (one list, `qualys_vm_transporter::error::ErrorCode`), so JavaScript names a code by a property that
/// exists rather than by a string literal.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> JsValue {
    let o = Object::new();
    for code in ErrorCode::ALL {
        set(&o, code.as_str(), code.as_str());
    }
    o.into()
}

/// Every stable error code -> `{blame, retryable, meaning}` (its default blame and retryable flag,
/// and one line saying what it means).
#[wasm_bindgen(js_name = errorCodeInfo)]
pub fn error_code_info() -> JsValue {
    let o = Object::new();
    for code in ErrorCode::ALL {
        let info = Object::new();
        set(&info, "blame", code.blame().as_str());
        set(&info, "retryable", code.retryable());
        set(&info, "meaning", code.meaning());
        set(&o, code.as_str(), info);
    }
    o.into()
}

/// Offline transform of one saved response: `new Transformer("detections")`.
#[wasm_bindgen(js_name = Transformer)]
pub struct JsTransformer {
    inner: Transform,
    /// See `JsFeed::viewed`.
    viewed: Option<Chunk>,
}

#[wasm_bindgen(js_class = Transformer)]
impl JsTransformer {
    /// `new Transformer(dataSource, chunkRecords?, chunkBytes?, outputShape?, detectionKey?)`
    /// (`outputShape`: `"records"`, the default, or `"qualys"`; `detectionKey`: `"seed"`, the
    /// default, `"uniqueVulnId"` or `"hostQid"`, as the Custom Parameters); throws `CONFIG_INVALID`
    /// for an unknown data source, shape or detection key.
    #[wasm_bindgen(constructor)]
    pub fn new(
        data_source: JsValue,
        chunk_records: JsValue,
        chunk_bytes: JsValue,
        output_shape: JsValue,
        detection_key: JsValue,
    ) -> Result<JsTransformer, JsValue> {
        // A value the core does not take, as a message may show it.
        let bad = |key: &str, v: &JsValue, values: &str| {
            let shown = match v.as_string() {
                Some(s) => format!("{:?}", qualys_vm_transporter::text::server_text(&s)),
                None => read_value(v).type_name().to_string(),
            };
            js_error(&Error::config(ErrorCode::ConfigInvalid, format!("{key}: {shown} is not one of {values}")))
        };
        let source = data_source
            .as_string()
            .as_deref()
            .and_then(DataSource::from_param)
            .ok_or_else(|| bad("dataSource", &data_source, "kb, hosts, hostDetections, detections"))?;
        let records = opt_u32_arg(&chunk_records, "chunkRecords")?.unwrap_or(transform::DEFAULT_CHUNK_RECORDS);
        let bytes = opt_u32_arg(&chunk_bytes, "chunkBytes")?.map_or(transform::DEFAULT_CHUNK_BYTES, |b| b as usize);
        let shape = shape_arg(&output_shape)?;
        let key = if detection_key.is_undefined() || detection_key.is_null() {
            DetectionKey::default()
        } else {
            detection_key
                .as_string()
                .as_deref()
                .and_then(DetectionKey::from_param)
                .ok_or_else(|| bad("detectionKey", &detection_key, "seed, uniqueVulnId, hostQid"))?
        };
        let inner = Transform::with_shape(source, shape, records, bytes, Limits::default()).with_detection_key(key);
        Ok(JsTransformer { inner, viewed: None })
    }

    /// Pushes the next piece of the document (bytes); complete records become output at once.
    pub fn push(&mut self, chunk: JsValue) -> Result<(), JsValue> {
        let bytes = bytes_arg(&chunk, "the chunk")?;
        self.inner.push(&bytes).map_err(|e| js_error(&e))
    }

    /// Ends the document; returns `{records, bytesIn, bytesOut, chunks, nextPage, notices,
    /// keyCollisions, deviceLinkCollisions}`.
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let s = self.inner.finish().map_err(|e| js_error(&e))?;
        Ok(transform_summary_to_js(&s))
    }

    /// The next output chunk as a string, or `undefined`.
    #[wasm_bindgen(js_name = takeOutput)]
    pub fn take_output(&mut self) -> Option<String> {
        self.inner.take_output().map(|c| c.xml)
    }

    /// Like `Feed.takeOutputChunk` (the same view rules).
    #[wasm_bindgen(js_name = takeOutputChunk)]
    pub fn take_output_chunk(&mut self) -> JsValue {
        view_chunk(&mut self.viewed, self.inner.take_output())
    }
}

/// `{bytes, ascii, records}` for a chunk (`bytes` viewing the chunk, which `keep` then holds), or
/// `undefined` for none. The previous chunk in `keep` is freed.
fn view_chunk(keep: &mut Option<Chunk>, chunk: Option<Chunk>) -> JsValue {
    *keep = chunk;
    let Some(c) = keep.as_ref() else { return JsValue::UNDEFINED };
    // SAFETY: the view reads `c.xml`, which `keep` holds until the next call on the owning object.
    // Nothing between here and the caller's decoding allocates in wasm memory (building this
    // object and its properties happens on the JavaScript heap), so the memory is neither freed
    // nor grown under the view; the caller is told to decode or copy it before calling again.
    #[allow(unsafe_code)]
    let bytes = unsafe { js_sys::Uint8Array::view(c.xml.as_bytes()) };
    let o = Object::new();
    set(&o, "bytes", bytes);
    set(&o, "ascii", c.ascii);
    set(&o, "records", c.records);
    o.into()
}
