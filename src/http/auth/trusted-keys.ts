import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { jwkThumbprint } from './jwk-thumbprint.ts';
import { libtrustKeyId } from './libtrust-key-id.ts';

/** A public key tokens may be signed with. */
export interface TrustedKey {
  readonly key: KeyObject;
  /** The algorithm a JWKS entry is restricted to (`alg`), if it says. */
  readonly alg?: string;
  /** Where it came from (`rootCertBundle[0]`, `jwks[k1]`), for logs. */
  readonly source: string;
}

/** The token service's keys, indexed every way a token header can name one. */
export interface TrustedKeys {
  /** Bundle certificates: an `x5c` chain must end at (or be issued by) one of them. */
  readonly anchors: readonly X509Certificate[];
  /** Number of distinct trusted public keys. */
  readonly size: number;
  /** The key a `kid` names: libtrust id or RFC 7638 thumbprint of any trusted key, or a JWKS `kid`. */
  keyForKid(kid: string): TrustedKey | undefined;
  /** The trusted entry with the same public key (compared by DER SubjectPublicKeyInfo), if any. */
  trustedKey(publicKey: KeyObject): TrustedKey | undefined;
}

/** What {@link loadTrustedKeys} reads. */
export interface TrustedKeySources {
  /** PEM text with one or more `CERTIFICATE` blocks. */
  rootCertBundle?: string | undefined;
  /** A JWKS as JSON text or object: `{ "keys": [ … ] }`, public keys only. */
  jwks?: string | { keys: unknown[] } | undefined;
}

const MAX_KEYS = 256;
const PEM_CERT = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/**
 * Reads the certificate bundle and the JWKS into {@link TrustedKeys}. Throws an `Error` whose
 * message says which entry is wrong: no certificate in the bundle, an unparsable certificate or
 * JWK, a private or symmetric JWK, one `kid` naming two different keys, more than 256 keys.
 */
export function loadTrustedKeys(sources: TrustedKeySources): TrustedKeys {
  const anchors: X509Certificate[] = [];
  const entries: TrustedKey[] = [];
  const kids = new Map<string, TrustedKey>();
  const bySpki = new Map<string, TrustedKey>();

  const addKid = (kid: string, entry: TrustedKey): void => {
    const existing = kids.get(kid);
    if (existing !== undefined && spkiHash(existing.key) !== spkiHash(entry.key)) {
      throw new Error(`kid ${JSON.stringify(kid)} names two different keys (${existing.source} and ${entry.source})`);
    }
    if (existing === undefined) kids.set(kid, entry);
  };
  const add = (entry: TrustedKey, explicitKid?: string): void => {
    if (entries.length >= MAX_KEYS) throw new Error(`more than ${MAX_KEYS} trusted keys`);
    entries.push(entry);
    const hash = spkiHash(entry.key);
    if (!bySpki.has(hash)) bySpki.set(hash, entry);
    if (explicitKid !== undefined) addKid(explicitKid, entry);
    addKid(libtrustKeyId(entry.key), entry);
    addKid(jwkThumbprint(entry.key), entry);
  };

  if (sources.rootCertBundle !== undefined) {
    const blocks = [...sources.rootCertBundle.matchAll(PEM_CERT)];
    if (blocks.length === 0) throw new Error('rootCertBundle holds no PEM CERTIFICATE block');
    blocks.forEach((block, i) => {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(Buffer.from(block[1]!.replace(/\s+/g, ''), 'base64'));
      } catch (err) {
        throw new Error(`rootCertBundle certificate ${i} is not a valid X.509 certificate: ${(err as Error).message}`);
      }
      anchors.push(cert);
      add({ key: cert.publicKey, source: `rootCertBundle[${i}] ${cert.subject.replace(/\n/g, ', ')}` });
    });
  }

  if (sources.jwks !== undefined) {
    let set: unknown = sources.jwks;
    if (typeof set === 'string') {
      try {
        set = JSON.parse(set);
      } catch (err) {
        throw new Error(`jwks is not valid JSON: ${(err as Error).message}`);
      }
    }
    const keys = (set as { keys?: unknown })?.keys;
    if (!Array.isArray(keys) || keys.length === 0) throw new Error('jwks must be an object with a non-empty "keys" array');
    keys.forEach((jwk, i) => {
      const label = `jwks key ${i}`;
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new Error(`${label} is not an object`);
      const j = jwk as Record<string, unknown>;
      if (j.kty === 'oct') throw new Error(`${label} is a symmetric key; only public keys can be trusted`);
      if ('d' in j) throw new Error(`${label} holds a private key; give only the public part`);
      if (j.kid !== undefined && (typeof j.kid !== 'string' || j.kid === '')) throw new Error(`${label} has an invalid "kid"`);
      if (j.alg !== undefined && typeof j.alg !== 'string') throw new Error(`${label} has an invalid "alg"`);
      if (j.use !== undefined && j.use !== 'sig') return; // an encryption key never signs tokens
      let key: KeyObject;
      try {
        key = createPublicKey({ key: j as never, format: 'jwk' });
      } catch (err) {
        throw new Error(`${label} is not a valid public JWK: ${(err as Error).message}`);
      }
      const kid = j.kid as string | undefined;
      add({ key, source: `jwks[${kid ?? i}]`, ...(typeof j.alg === 'string' ? { alg: j.alg } : {}) }, kid);
    });
  }

  if (entries.length === 0) throw new Error('no trusted keys: give rootCertBundle or jwks');
  return {
    anchors,
    size: bySpki.size,
    keyForKid: (kid) => kids.get(kid),
    trustedKey: (publicKey) => bySpki.get(spkiHash(publicKey)),
  };
}

function spkiHash(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}
