'use strict';
// Small XML text helpers shared by the renderers.

const ESC_RE = /[&<>"]/g;
const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Escape character data for an element's text content (or an attribute value). */
function escapeText(s) {
  s = String(s);
  return ESC_RE.test(s) ? s.replace(ESC_RE, (c) => ESC[c]) : s;
}

/**
 * Wrap text in a CDATA section. A `]]>` inside the text is split across two sections
 * (`]]` closes one, `>` opens the next), the standard way to carry it.
 */
function cdata(s) {
  s = String(s);
  if (s.indexOf(']]>') !== -1) s = s.split(']]>').join(']]]]><![CDATA[>');
  return '<![CDATA[' + s + ']]>';
}

const TWO = Array.from({ length: 60 }, (_, i) => (i < 10 ? '0' : '') + i);
const dayPrefixCache = new Map();

/** "YYYY-MM-DDT" of a day number since the epoch (civil-from-days, proleptic Gregorian). */
function dayPrefix(days) {
  let p = dayPrefixCache.get(days);
  if (p !== undefined) return p;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) return new Date(days * 86400000).toISOString().slice(0, 11);
  p = `${String(y).padStart(4, '0')}-${TWO[m]}-${TWO[d]}T`;
  if (dayPrefixCache.size > 20000) dayPrefixCache.clear();
  dayPrefixCache.set(days, p);
  return p;
}

/** Qualys date-time: YYYY-MM-DDTHH:MM:SSZ (UTC, no milliseconds). Hot path: no Date objects. */
function isoSeconds(ms) {
  const s = Math.floor(ms / 1000);
  const days = Math.floor(s / 86400);
  let sod = s - days * 86400;
  const h = Math.floor(sod / 3600);
  sod -= h * 3600;
  const mi = Math.floor(sod / 60);
  return `${dayPrefix(days)}${TWO[h]}:${TWO[mi]}:${TWO[sod - mi * 60]}Z`;
}

/** Qualys date: YYYY-MM-DD. */
function isoDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Parse a Qualys filter date: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[Z] (UTC). Returns ms or NaN.
 */
function parseQualysDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?Z?)?$/.exec(String(s).trim());
  if (!m) return NaN;
  const [y, mo, d, h = '0', mi = '0', se = '0'] = m.slice(1);
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +se);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== +y || back.getUTCMonth() !== +mo - 1 || back.getUTCDate() !== +d) return NaN;
  if (+h > 23 || +mi > 59 || +se > 59) return NaN;
  return ms;
}

module.exports = { escapeText, cdata, isoSeconds, isoDay, parseQualysDate };
