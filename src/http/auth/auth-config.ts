import { z } from 'zod';
import { loadTrustedKeys } from './trusted-keys.ts';

/**
 * Signature algorithms a registry token may use. Only asymmetric ones: a registry token is checked
 * against the token service's public keys, so `HS*` (which would let anyone holding the public key
 * "sign") and `none` can never be configured.
 */
export const TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
/** One of {@link TOKEN_ALGORITHMS}. */
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/** Authentication modes, one middleware factory each. */
export const AUTH_MODES = ['registry-token', 'registry-delegate', 'psk', 'api-key', 'none'] as const;
/** One of {@link AUTH_MODES}. */
export type AuthMode = (typeof AUTH_MODES)[number];

const name = z.string().min(1).max(1024);
/** A string or a non-empty list of strings, always read as a list. */
const oneOrMore = z.union([name, z.array(name).min(1).max(64)]).transform((v) => (typeof v === 'string' ? [v] : v));
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' });
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * `registry-token`: callers present the JWT their registry's token service gave them
 * (`Authorization: Bearer <jwt>`); it is verified as registry 2.8/3.x does, and it authorizes
 * exactly the repositories its `access` claims grant `pull` (or `*`) on.
 */
export const registryTokenAuthSchema = z
  .strictObject({
    mode: z.literal('registry-token'),
    /** The token service URL, sent as `realm` in challenges so clients know where to get a token. */
    realm: httpUrl,
    /** Accepted `aud` values; the first is the `service` in challenges (the registry's `auth.token.service`). */
    service: oneOrMore,
    /** Accepted `iss` values (the registry's `auth.token.issuer`). */
    issuers: oneOrMore,
    /** PEM contents of the token service's certificate bundle (`rootcertbundle`): x5c anchors and `kid` keys. */
    rootCertBundle: z.string().min(1).optional(),
    /** A JWKS (JSON text or object) of public keys trusted by their `kid` (registry 3.x `jwks`). */
    jwks: z.union([z.string().min(1), z.looseObject({ keys: z.array(z.record(z.string(), z.unknown())).max(256) })]).optional(),
    /** Signature algorithms accepted (default: every asymmetric one). */
    algorithms: z.array(z.enum(TOKEN_ALGORITHMS)).min(1).default([...TOKEN_ALGORITHMS]),
    /** Clock leeway for `exp` and `nbf`, in seconds (registry: 60). */
    leewaySeconds: z.number().int().min(0).max(600).default(60),
  })
  .superRefine((c, ctx) => {
    if (c.rootCertBundle === undefined && c.jwks === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rootCertBundle'], message: 'needs rootCertBundle or jwks (the keys the token service signs with)' });
      return;
    }
    try {
      loadTrustedKeys({ rootCertBundle: c.rootCertBundle, jwks: c.jwks });
    } catch (err) {
      const message = (err as Error).message;
      ctx.addIssue({ code: 'custom', path: [message.startsWith('jwks') ? 'jwks' : 'rootCertBundle'], message });
    }
  });
/** Validated `registry-token` settings. */
export type RegistryTokenAuthConfig = z.infer<typeof registryTokenAuthSchema>;

/**
 * `registry-delegate`: for a registry whose signing keys Lookout does not know. The caller's
 * `Authorization` header is forwarded to the configured registry (never a URL from the request)
 * and its answer decides; decisions are cached per (credential hash, repository).
 */
export const registryDelegateAuthSchema = z.strictObject({
  mode: z.literal('registry-delegate'),
  /** Base URL of the registry that decides (`/v2/…` is appended). */
  registryUrl: httpUrl,
  /** How long a decision (allow or deny) is reused, in seconds; 0 = ask every time. */
  cacheTtlSeconds: z.number().min(0).max(3600).default(30),
  /** Most decisions kept; the oldest go first. */
  cacheMaxEntries: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Time allowed for the registry to answer, in seconds. */
  timeoutSeconds: z.number().positive().max(120).default(10),
  /** Accept a registry TLS certificate that does not verify. */
  insecureTls: z.boolean().default(false),
});
/** Validated `registry-delegate` settings. */
export type RegistryDelegateAuthConfig = z.infer<typeof registryDelegateAuthSchema>;

/** `psk`: Clair's pre-shared key, as Quay sends it (HS256 JWT `{iss: "quay", exp}`); grants everything. */
export const pskAuthSchema = z.strictObject({
  mode: z.literal('psk'),
  /** The shared key, base64 (Quay's `SECURITY_SCANNER_V4_PSK`, Clair's `auth.psk.key`). */
  key: z
    .string()
    .regex(BASE64, 'must be base64')
    .refine((k) => Buffer.from(k, 'base64').length >= 16, 'must decode to at least 16 bytes'),
  /** Accepted `iss` values. */
  issuers: z.array(name).min(1).max(64).default(['quay']),
  /** Clock leeway for `exp`, `nbf` and `iat`, in seconds (Clair: 15). */
  leewaySeconds: z.number().int().min(0).max(600).default(15),
});
/** Validated `psk` settings. */
export type PskAuthConfig = z.infer<typeof pskAuthSchema>;

/** `api-key`: Harbor's scanner-adapter registration credential; grants everything. */
export const apiKeyAuthSchema = z.strictObject({
  mode: z.literal('api-key'),
  /** Accepted keys (several while one is being rotated). */
  keys: z.array(z.string().min(16, 'must be at least 16 characters').max(1024)).min(1).max(16),
});
/** Validated `api-key` settings. */
export type ApiKeyAuthConfig = z.infer<typeof apiKeyAuthSchema>;

/** `none`: development only; everyone reads everything. */
export const noneAuthSchema = z.strictObject({ mode: z.literal('none') });
/** Validated `none` settings. */
export type NoneAuthConfig = z.infer<typeof noneAuthSchema>;

/** Authentication of one route group: one of the modes above, chosen by `mode`. */
export const authConfigSchema = z.discriminatedUnion('mode', [
  registryTokenAuthSchema,
  registryDelegateAuthSchema,
  pskAuthSchema,
  apiKeyAuthSchema,
  noneAuthSchema,
]);
/** Validated authentication settings of one route group. */
export type AuthConfig = z.infer<typeof authConfigSchema>;
