'use strict';
// The simulator's TEST-ONLY TLS certificates, made fresh in memory at every start, so that no
// private key is ever kept in the repository or shipped in the npm package.
//
// generateTestCertificates() makes a throw-away CA and a server certificate for IP 127.0.0.1 and
// DNS localhost signed by it (both ECDSA P-256 / SHA-256, valid from a day before `now` for 90
// days), and returns {ca, cert, key} as PEM; the CA's private key is dropped on return, so nothing
// else can ever be signed by that CA. A client trusts the simulator by its `ca` (caCert).
//
// Node signs (node:crypto) but has no API that builds an X.509 certificate, so this module writes
// the DER itself: the few ASN.1 types a certificate needs (RFC 5280 4.1), nothing more. Why not
// the openssl CLI: it is missing on many machines (Windows, slim containers) and the simulator is
// part of the package (`qualys-vm-transporter simulate`); ~150 lines of DER are checked by Node's
// X509Certificate, by `openssl verify -x509_strict` and by real TLS handshakes
// (tests/js/simulator-tls.test.js).
//
// In scope: what a TLS server certificate for 127.0.0.1 needs. Out of scope: any other use; these
// certificates protect nothing and must never be trusted outside a test.

const crypto = require('crypto');

const DAY_MS = 86400e3;
const VALID_DAYS = 90;

// ---- DER (X.690): tag, definite length, contents ----

/**
 * @param {number} tag
 * @param {Buffer} contents
 * @returns {Buffer}
 */
function tlv(tag, contents) {
  const n = contents.length;
  let len;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, contents]);
}

/** @param {...Buffer} items */
const seq = (...items) => tlv(0x30, Buffer.concat(items));
/** @param {...Buffer} items */
const set = (...items) => tlv(0x31, Buffer.concat(items));
/** @param {number} n @param {Buffer} inner */
const explicit = (n, inner) => tlv(0xa0 | n, inner);
/** @param {boolean} b */
const bool = (b) => tlv(0x01, Buffer.from([b ? 0xff : 0x00]));
/** @param {Buffer} b */
const octets = (b) => tlv(0x04, b);
/** @param {Buffer} b whole bytes (no unused bits) */
const bits = (b) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
/** @param {string} s */
const utf8 = (s) => tlv(0x0c, Buffer.from(s, 'utf8'));

/** A non-negative INTEGER from big-endian bytes (minimal, with a 0 byte when the top bit is set). */
function uint(bytes) {
  let b = Buffer.from(bytes);
  while (b.length > 1 && b[0] === 0 && b[1] < 0x80) b = b.subarray(1);
  if (b[0] >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/** @param {string} dotted */
function oid(dotted) {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const groups = [];
    for (let v = p; ; v = Math.floor(v / 128)) {
      groups.unshift(v % 128);
      if (v < 128) break;
    }
    for (let i = 0; i < groups.length - 1; i++) groups[i] |= 0x80;
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). @param {number} ms */
function time(ms) {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z'; // YYYYMMDDHHMMSSZ
  const year = Number(iso.slice(0, 4));
  return year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

/** @param {string} cn */
const name = (cn) => seq(
  set(seq(oid(OID.organization), utf8('qualys-vm-transporter simulator'))),
  set(seq(oid(OID.commonName), utf8(cn))),
);

/** @param {string} id @param {boolean} critical @param {Buffer} value */
const extension = (id, critical, value) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** The key identifier of RFC 5280 4.2.1.2 (1): SHA-1 of the subjectPublicKey bits. @param {Buffer} spki */
function keyId(spki) {
  // SubjectPublicKeyInfo = SEQUENCE { AlgorithmIdentifier, BIT STRING }: for a P-256 key the BIT
  // STRING is the last 66 bytes (03 42 00 + the 65-byte point).
  return crypto.createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
}

/**
 * One signed certificate.
 * @param {{subject: string, issuer: string, spki: Buffer, signer: crypto.KeyObject, ca: boolean,
 *          authorityKeyId: Buffer, now: number}} o
 * @returns {string} PEM
 */
function certificate(o) {
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const extensions = [
    extension(OID.basicConstraints, true, o.ca ? seq(bool(true)) : seq()),
    // keyCertSign + cRLSign (bits 5, 6) for the CA; digitalSignature (bit 0) for the server.
    extension(OID.keyUsage, true, o.ca ? tlv(0x03, Buffer.from([1, 0x06])) : tlv(0x03, Buffer.from([7, 0x80]))),
    extension(OID.subjectKeyId, false, octets(keyId(o.spki))),
    extension(OID.authorityKeyId, false, seq(tlv(0x80, o.authorityKeyId))),
  ];
  if (!o.ca) {
    extensions.push(extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))));
    // iPAddress [7] 127.0.0.1, dNSName [2] localhost
    extensions.push(extension(OID.subjectAltName, false, seq(tlv(0x87, Buffer.from([127, 0, 0, 1])), tlv(0x82, Buffer.from('localhost', 'ascii')))));
  }
  const serial = crypto.randomBytes(16);
  serial[0] &= 0x7f; // positive
  serial[0] |= 0x40; // and 16 bytes long
  const tbs = seq(
    explicit(0, uint([2])), // v3
    uint(serial),
    algorithm,
    name(o.issuer),
    seq(time(o.now - DAY_MS), time(o.now + VALID_DAYS * DAY_MS)),
    name(o.subject),
    o.spki,
    explicit(3, seq(...extensions)),
  );
  const signature = crypto.sign('sha256', tbs, o.signer); // DER ECDSA-Sig-Value
  const der = seq(tbs, algorithm, bits(signature));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}

/**
 * A fresh throw-away CA and a server certificate for 127.0.0.1/localhost signed by it.
 * @param {{now?: number}} [options] the clock (ms since 1970; default Date.now())
 * @returns {{ca: string, cert: string, key: string}} PEM: the CA certificate, the server
 *          certificate and the server's private key (PKCS#8)
 */
function generateTestCertificates(options = {}) {
  const now = options.now === undefined ? Date.now() : options.now;
  const caKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const serverKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caSpki = caKeys.publicKey.export({ type: 'spki', format: 'der' });
  const serverSpki = serverKeys.publicKey.export({ type: 'spki', format: 'der' });
  const caName = 'Qualys Simulator TEST-ONLY CA';
  const ca = certificate({ subject: caName, issuer: caName, spki: caSpki, signer: caKeys.privateKey, ca: true, authorityKeyId: keyId(caSpki), now });
  const cert = certificate({ subject: 'localhost', issuer: caName, spki: serverSpki, signer: caKeys.privateKey, ca: false, authorityKeyId: keyId(caSpki), now });
  const key = String(serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { ca, cert, key };
}

module.exports = { generateTestCertificates };
