'use strict';
// HTTP control endpoints (simulator only, no auth). JSON in, JSON out:
//   GET    /__control                 info: URLs, model summary, now, limits, faults, counters
//   GET    /__control/log[?since=N&served=0]   request log (served IDs unless served=0)
//   DELETE /__control/log             clear the log
//   GET    /__control/faults          current fault list
//   POST   /__control/faults          body: spec | [spec...] | {faults:[...], replace?:true} | {clear:true}
//   DELETE /__control/faults          remove all faults
//   POST   /__control/touch           body: {hostIds?:[...], qids?:[...], at?: ISO}  (at defaults to now)
//   GET/POST /__control/now           body: {now: ISO | ms | "real"}
//   GET/POST /__control/limits        body: {rateLimit?: {limit, windowSec} | "N/secs" | "off", concurrency?: N | "off"}
//   POST   /__control/reset           back to the startup state

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj, null, 1);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

async function jsonBody(req, readBody) {
  const text = await readBody(req);
  if (!text.trim()) return {};
  return JSON.parse(text);
}

/**
 * @param {import('http').IncomingMessage} req @param {import('http').ServerResponse} res
 * @param {URL} u @param {object} control in-process control object @param {Function} readBody
 */
async function handleControl(req, res, u, control, readBody) {
  const route = u.pathname.replace(/\/+$/, '') || '/__control';
  const method = req.method;
  try {
    if (route === '/__control' && method === 'GET') return sendJson(res, 200, control.info());
    if (route === '/__control/log') {
      if (method === 'GET') {
        const since = Number(u.searchParams.get('since') || 0);
        const served = u.searchParams.get('served') !== '0';
        return sendJson(res, 200, control.log().toJSON({ since, served }));
      }
      if (method === 'DELETE') { control.clearLog(); return sendJson(res, 200, { ok: true }); }
    }
    if (route === '/__control/faults') {
      if (method === 'GET') return sendJson(res, 200, control.faults());
      if (method === 'DELETE') return sendJson(res, 200, control.clearFaults());
      if (method === 'POST') {
        const b = await jsonBody(req, readBody);
        if (b && b.clear) return sendJson(res, 200, control.clearFaults());
        if (Array.isArray(b)) return sendJson(res, 200, control.setFaults(b));
        if (b && Array.isArray(b.faults)) {
          if (b.replace === false) { for (const s of b.faults) control.addFault(s); return sendJson(res, 200, control.faults()); }
          return sendJson(res, 200, control.setFaults(b.faults));
        }
        return sendJson(res, 200, control.addFault(b));
      }
    }
    if (route === '/__control/touch' && method === 'POST') {
      const b = await jsonBody(req, readBody);
      return sendJson(res, 200, control.touch(b));
    }
    if (route === '/__control/now') {
      if (method === 'POST') {
        const b = await jsonBody(req, readBody);
        control.setNow(b.now);
      }
      if (method === 'POST' || method === 'GET') return sendJson(res, 200, { now: new Date(control.now()).toISOString() });
    }
    if (route === '/__control/limits') {
      if (method === 'POST') return sendJson(res, 200, control.setLimits(await jsonBody(req, readBody)));
      if (method === 'GET') return sendJson(res, 200, control.limits());
    }
    if (route === '/__control/reset' && method === 'POST') { control.reset(); return sendJson(res, 200, { ok: true }); }
    return sendJson(res, 404, { error: `no control endpoint ${method} ${route}` });
  } catch (e) {
    return sendJson(res, 400, { error: /** @type {any} */ (e).message });
  }
}

module.exports = { handleControl };
