//! The wasm-bindgen boundary: the only module that knows about JavaScript.
//!
//! In scope: converting JS values (parameter objects, tokens, headers, `Uint8Array` chunks) to core
//! types and core results to plain JS objects, and core errors to JS `Error`s carrying `code`,
//! `blame` and `retryable`. Out of scope: any decision; everything here delegates to
//! [`crate::feed::Feed`] and [`crate::transform::Transform`].
//!
//! Crossing the boundary is per chunk, never per record: body chunks come in as bytes, output
//! leaves as one string per chunk.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::feed::{self, Action, Tokens};
use crate::output::Chunk;
use crate::params::DataSource;
use crate::response::Limits;
use crate::transform::{self, Transform};

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
    set(obj, "code", e.code());
    set(obj, "blame", e.blame().as_str());
    set(obj, "retryable", e.is_retryable());
    err.into()
}

fn caller_error(code: &'static str, message: String) -> JsValue {
    js_error(&Error::caller(code, message))
}

/// Reads a plain object of string values (Archer's CustomParameters) into key/value pairs.
/// Non-string values are converted with `String(value)`; `null`/`undefined` become "".
fn string_pairs(value: &JsValue, what: &str) -> Result<Vec<(String, String)>, JsValue> {
    if value.is_null() || value.is_undefined() {
        return Ok(Vec::new());
    }
    if !value.is_object() {
        return Err(caller_error("BAD_ARGUMENT", format!("{what} must be an object of strings")));
    }
    let entries = Object::entries(value.unchecked_ref());
    let mut out = Vec::with_capacity(entries.length() as usize);
    for entry in entries.iter() {
        let pair: Array = entry.unchecked_into();
        let key = pair.get(0).as_string().unwrap_or_default();
        let v = pair.get(1);
        let v = if v.is_null() || v.is_undefined() {
            String::new()
        } else {
            v.as_string().unwrap_or_else(|| String::from(js_sys::JsString::from(v)))
        };
        out.push((key, v));
    }
    Ok(out)
}

/// Headers as `[[name, value], ...]` or a plain object.
fn header_pairs(value: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    if Array::is_array(value) {
        let arr: &Array = value.unchecked_ref();
        let mut out = Vec::with_capacity(arr.length() as usize);
        for entry in arr.iter() {
            let pair: Array = entry.unchecked_into();
            out.push((pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default()));
        }
        return Ok(out);
    }
    string_pairs(value, "headers")
}

fn token(tokens: &JsValue, key: &str) -> Option<String> {
    if !tokens.is_object() {
        return None;
    }
    Reflect::get(tokens, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
}

/// Serialises a core summary (serde) into a plain JS object with camelCase keys and `null`s.
fn to_js<T: serde::Serialize>(value: &T) -> JsValue {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&ser).unwrap_or(JsValue::NULL)
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
    /// `new Feed(customParameters, tokens, nowMs)`; throws a configuration error.
    #[wasm_bindgen(constructor)]
    pub fn new(params: JsValue, tokens: JsValue, now_ms: f64) -> Result<JsFeed, JsValue> {
        let params = string_pairs(&params, "CustomParameters")?;
        let tokens = Tokens {
            last_run_time: token(&tokens, "LastRunTime"),
            previous_run_context: token(&tokens, "PreviousRunContext"),
        };
        feed::Feed::new(&params, &tokens, now_ms as i64)
            .map(|inner| JsFeed { inner, viewed: None })
            .map_err(|e| js_error(&e))
    }

    /// `{ socketLimit, requestTimeoutMs, responseTimeoutMs, verifyCerts, caCert, proxy: {url, authorization}|null, rootNode, dataSource }`.
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

    /// `{kind:"send", id, method, url, headers:[[k,v]...], page, attempt}` (start it, poll again) |
    /// `{kind:"wait", ms, reason}` (sleep up to ms or until a response settles) |
    /// `{kind:"pending"}` (wait until a response settles) | `{kind:"done", summary}` | `{kind:"fail", error}`.
    pub fn poll(&mut self, now_ms: f64) -> JsValue {
        let o = Object::new();
        match self.inner.poll(now_ms as i64) {
            Action::Send(req) => {
                set(&o, "kind", "send");
                set(&o, "id", req.id as f64);
                set(&o, "method", req.method.as_str());
                set(&o, "url", req.url.as_str());
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
                set(&o, "summary", to_js(&s));
            }
            Action::Fail(e) => {
                set(&o, "kind", "fail");
                set(&o, "error", js_error(&e));
            }
        }
        o.into()
    }

    /// The request id from the `send` action; may be omitted while only one request is in flight.
    fn request_id(&mut self, id: Option<f64>) -> u64 {
        // 0 is never a valid id: the core then reports an out-of-order call.
        id.map(|v| v as u64).or_else(|| self.inner.sole_request_id()).unwrap_or(0)
    }

    #[wasm_bindgen(js_name = handleResponseHead)]
    pub fn handle_response_head(
        &mut self,
        now_ms: f64,
        status: u16,
        headers: JsValue,
        request_id: Option<f64>,
    ) -> Result<(), JsValue> {
        let headers = header_pairs(&headers)?;
        let id = self.request_id(request_id);
        self.inner.handle_response_head(id, now_ms as i64, status, &headers);
        Ok(())
    }

    /// Returns false when reading further is pointless: abort, then call `handleResponseEnd`.
    #[wasm_bindgen(js_name = handleBody)]
    pub fn handle_body(&mut self, chunk: &[u8], request_id: Option<f64>) -> bool {
        let id = self.request_id(request_id);
        self.inner.handle_body(id, chunk)
    }

    #[wasm_bindgen(js_name = handleResponseEnd)]
    pub fn handle_response_end(&mut self, now_ms: f64, request_id: Option<f64>) {
        let id = self.request_id(request_id);
        self.inner.handle_response_end(id, now_ms as i64);
    }

    #[wasm_bindgen(js_name = handleTransportError)]
    pub fn handle_transport_error(&mut self, now_ms: f64, code: &str, message: &str, request_id: Option<f64>) {
        let id = self.request_id(request_id);
        self.inner.handle_transport_error(id, now_ms as i64, code, message);
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

    pub fn summary(&self) -> JsValue {
        to_js(self.inner.summary())
    }
}

/// The default Archer root node of a data source (`kb`, `hosts`, `hostDetections`, `detections`),
/// or `undefined` for an unknown one.
#[wasm_bindgen(js_name = defaultRootNode)]
pub fn default_root_node(data_source: &str) -> Option<String> {
    DataSource::from_param(data_source).map(|s| crate::records::default_root_node(s).to_string())
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
    #[wasm_bindgen(constructor)]
    pub fn new(
        data_source: &str,
        chunk_records: Option<u32>,
        chunk_bytes: Option<u32>,
    ) -> Result<JsTransformer, JsValue> {
        let source = DataSource::from_param(data_source).ok_or_else(|| {
            js_error(&Error::config(
                "CONFIG_INVALID",
                format!("dataSource: {data_source:?} is not one of kb, hosts, hostDetections, detections"),
            ))
        })?;
        let records = chunk_records.unwrap_or(transform::DEFAULT_CHUNK_RECORDS);
        let bytes = chunk_bytes.map_or(transform::DEFAULT_CHUNK_BYTES, |b| b as usize);
        Ok(JsTransformer { inner: Transform::new(source, records, bytes, Limits::default()), viewed: None })
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.inner.push(chunk).map_err(|e| js_error(&e))
    }

    /// Ends the document; returns `{records, bytesIn, bytesOut, chunks, nextPage, notices}`.
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let s = self.inner.finish().map_err(|e| js_error(&e))?;
        Ok(to_js(&s))
    }

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
    let bytes = unsafe { js_sys::Uint8Array::view(c.xml.as_bytes()) };
    let o = Object::new();
    set(&o, "bytes", bytes);
    set(&o, "ascii", c.ascii);
    set(&o, "records", c.records);
    o.into()
}
