import { X509Certificate, type KeyObject } from 'node:crypto';
import { TokenRejectedError } from './token-rejected-error.ts';

/** Most certificates read from an `x5c` header. */
export const MAX_X5C_CERTIFICATES = 8;
/** Longest certificate (base64 characters) read from an `x5c` header. */
export const MAX_X5C_CERTIFICATE_CHARS = 16 * 1024;

const STD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Verifies a JWS `x5c` header (RFC 7515 §4.1.6: standard-base64 DER, leaf first) as registry 2.8
 * does with Go's x509: the leaf must be a bundle certificate itself or be linked to one through
 * the other `x5c` certificates (in any order, each used once, each a CA), every link checked by
 * issuer/subject (and key identifiers) and signature, every certificate on the path (anchor
 * included) within its validity dates at `now`. Returns the leaf's public key, which must then
 * verify the token. Throws {@link TokenRejectedError} (`malformed` or `untrusted key`).
 */
export function verifyX5cChain(x5c: unknown, anchors: readonly X509Certificate[], now: Date = new Date()): KeyObject {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_X5C_CERTIFICATES) {
    throw new TokenRejectedError('malformed', `x5c must be a list of 1 to ${MAX_X5C_CERTIFICATES} certificates`);
  }
  const chain = x5c.map((entry, i) => {
    if (typeof entry !== 'string' || entry.length > MAX_X5C_CERTIFICATE_CHARS || !STD_BASE64.test(entry)) {
      throw new TokenRejectedError('malformed', `x5c[${i}] is not a base64 certificate`);
    }
    try {
      return new X509Certificate(Buffer.from(entry, 'base64'));
    } catch (err) {
      throw new TokenRejectedError('malformed', `x5c[${i}] is not an X.509 certificate`, { cause: err });
    }
  });
  const leaf = chain[0]!;
  const intermediates = chain.slice(1);
  const used = new Set<X509Certificate>();
  let current = leaf;
  assertCurrent(current, now, 'x5c[0]');
  for (let depth = 0; depth <= MAX_X5C_CERTIFICATES; depth++) {
    if (anchors.some((a) => a.raw.equals(current.raw))) return leaf.publicKey;
    const anchor = anchors.find((a) => issued(a, current));
    if (anchor !== undefined) {
      assertCurrent(anchor, now, 'the bundle certificate');
      return leaf.publicKey;
    }
    const next = intermediates.find((c) => !used.has(c) && c.ca && issued(c, current));
    if (next === undefined) break;
    used.add(next);
    assertCurrent(next, now, `x5c[${chain.indexOf(next)}]`);
    current = next;
  }
  throw new TokenRejectedError('untrusted key', `x5c chain of ${leaf.subject.replace(/\n/g, ', ')} does not lead to a bundle certificate`);
}

function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function assertCurrent(cert: X509Certificate, now: Date, what: string): void {
  if (now < cert.validFromDate || now > cert.validToDate) {
    throw new TokenRejectedError('untrusted key', `${what} is outside its validity dates (${cert.validFrom} – ${cert.validTo})`);
  }
}
