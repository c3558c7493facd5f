import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify, type JWTHeaderParameters } from 'jose';
import { readableRepositories } from './access-claims.ts';
import type { RegistryTokenAuthConfig } from './auth-config.ts';
import { TokenRejectedError } from './token-rejected-error.ts';
import { tokenRejectionOf } from './token-rejection-of.ts';
import { loadTrustedKeys, type TrustedKeys } from './trusted-keys.ts';
import { verifyX5cChain } from './verify-x5c-chain.ts';

/** Longest token read (an x5c chain of a few certificates fits easily). */
export const MAX_TOKEN_CHARS = 16 * 1024;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** What a verified registry token says. */
export interface VerifiedRegistryToken {
  /** `sub`, or null when absent. */
  subject: string | null;
  issuer: string;
  /** Repositories the token may pull (see `readableRepositories`). */
  readable: ReadonlySet<string>;
  /** `exp`, in seconds since the epoch. */
  expiresAt: number;
}

/** Checks registry-issued JWTs; see {@link createRegistryTokenVerifier}. */
export interface RegistryTokenVerifier {
  readonly keys: TrustedKeys;
  /** Resolves with the token's grants, or rejects with a {@link TokenRejectedError}. */
  verify(token: string): Promise<VerifiedRegistryToken>;
}

/**
 * A verifier of registry tokens as registry 2.8 and 3.x accept them: compact JWS signed with one
 * of the configured asymmetric algorithms (the header's `alg` is checked against that list before
 * any key is looked at, so `none` and `HS*` never reach a key); the key found by `x5c` (chain
 * verified to a bundle certificate), else `jwk` (must be a trusted key), else `kid` (libtrust id
 * or RFC 7638 thumbprint of a trusted key, or a JWKS `kid`; a JWKS `alg` must match); `iss` in the
 * allow-list; `aud` (string or list) containing a configured service; `exp` required, `exp` and
 * `nbf` checked with the configured leeway; `access` read into pullable repositories.
 * Throws at creation when the bundle or JWKS cannot be read.
 */
export function createRegistryTokenVerifier(config: RegistryTokenAuthConfig, options: { now?: () => number } = {}): RegistryTokenVerifier {
  const keys = loadTrustedKeys({ rootCertBundle: config.rootCertBundle, jwks: config.jwks });
  const now = options.now ?? Date.now;

  const keyFor = (header: JWTHeaderParameters, at: Date): KeyObject => {
    if (header.x5c !== undefined) return verifyX5cChain(header.x5c, keys.anchors, at);
    if (header.jwk !== undefined) {
      const jwk = header.jwk as unknown;
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk) || 'd' in jwk || (jwk as { kty?: unknown }).kty === 'oct') {
        throw new TokenRejectedError('malformed', 'the jwk header is not a public key');
      }
      let key: KeyObject;
      try {
        key = createPublicKey({ key: jwk as never, format: 'jwk' });
      } catch (err) {
        throw new TokenRejectedError('malformed', 'the jwk header is not a valid public key', { cause: err });
      }
      const x5c = (jwk as { x5c?: unknown }).x5c;
      if (x5c !== undefined) {
        const leafKey = verifyX5cChain(x5c, keys.anchors, at);
        if (!leafKey.equals(key)) throw new TokenRejectedError('untrusted key', 'the jwk header does not match its own x5c leaf');
        return leafKey;
      }
      const trusted = keys.trustedKey(key);
      if (trusted === undefined) throw new TokenRejectedError('untrusted key', 'the jwk header names a key that is not trusted');
      return trusted.key;
    }
    if (typeof header.kid === 'string') {
      const trusted = keys.keyForKid(header.kid);
      if (trusted === undefined) throw new TokenRejectedError('untrusted key', `no trusted key has kid ${JSON.stringify(header.kid.slice(0, 100))}`);
      if (trusted.alg !== undefined && trusted.alg !== header.alg) {
        throw new TokenRejectedError('algorithm not accepted', `${trusted.source} is for ${trusted.alg}, not ${String(header.alg)}`);
      }
      return trusted.key;
    }
    throw new TokenRejectedError('untrusted key', 'the token names no key (no x5c, jwk or kid header)');
  };

  return {
    keys,
    async verify(token) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !COMPACT_JWS.test(token)) {
        throw new TokenRejectedError('malformed', 'not a compact JWS of acceptable size');
      }
      const at = new Date(now());
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, (header) => keyFor(header, at), {
          algorithms: config.algorithms,
          issuer: config.issuers,
          audience: config.service,
          clockTolerance: config.leewaySeconds,
          requiredClaims: ['exp'],
          currentDate: at,
        }));
      } catch (err) {
        throw tokenRejectionOf(err);
      }
      if (payload.sub !== undefined && typeof payload.sub !== 'string') throw new TokenRejectedError('invalid claims', 'sub is not a string');
      return {
        subject: typeof payload.sub === 'string' ? payload.sub : null,
        issuer: payload.iss as string,
        readable: readableRepositories(payload.access),
        expiresAt: payload.exp as number,
      };
    },
  };
}
