/** TLS settings for a registry and its token service (PEM strings, not paths). */
export interface RegistryTlsOptions {
  /** Extra CA certificates to trust, PEM. */
  ca?: string;
  /** Client certificate and key for mutual TLS, PEM. */
  cert?: string;
  key?: string;
  /** Server name to verify instead of the URL's host. */
  servername?: string;
}

/**
 * Timeouts of one registry's connections, in milliseconds. undici checks the headers and body
 * timeouts on a coarse clock (about once a second), so they fire up to a second late.
 */
export interface RegistryTimeouts {
  /** TCP + TLS connect. */
  connectMs: number;
  /** From request sent to response headers received. */
  headersMs: number;
  /** Longest silence while a body streams (not the whole transfer: layers may take minutes). */
  bodyIdleMs: number;
}

/** Retries of transient failures (429, 5xx, connection errors, timeouts) per request. */
export interface RegistryRetries {
  /** Total attempts per request, including the first (1 = no retry). */
  attempts: number;
  /** First backoff delay; doubled per attempt, with jitter. */
  baseDelayMs: number;
  /** Longest wait between attempts; a `Retry-After` longer than this ends the retries at once. */
  maxDelayMs: number;
}

/**
 * One configured registry: where it is, how to authenticate, and how hard to push it.
 * Credentials here are used only for this registry's own origin and the token realm it names;
 * they never appear in logs or error messages.
 */
export interface RegistryConfig {
  /** Stable label for logs, metrics and errors (`harbor-prod`). */
  name: string;
  /** Base URL, `https://host[:port]` (a path prefix is kept; userinfo is refused). */
  url: string;
  /**
   * `host[:port]` names by which image references address this registry (a registry behind several
   * names). Defaults to the URL's host.
   */
  aliases?: string[];
  /** Credentials for Basic challenges and for the token service (docker token spec, GET with Basic). */
  username?: string;
  password?: string;
  /** OAuth2 refresh token: tokens are requested with `POST grant_type=refresh_token`. */
  refreshToken?: string;
  /** A static bearer token sent as is (Harbor's robot token, a pre-issued registry JWT). */
  bearerToken?: string;
  /**
   * How `username`/`password` are exchanged for a token: `get` (docker token spec, Basic credentials
   * on `GET realm?…`, the default) or `oauth2-password` (`POST grant_type=password`, falling back to
   * GET when the token service answers 404/405).
   */
  tokenGrant?: 'get' | 'oauth2-password';
  /** `client_id` sent to the token service; defaults to `lookout`. */
  clientId?: string;
  /** Skip TLS certificate verification (test registries only). */
  insecure?: boolean;
  tls?: RegistryTlsOptions;
  /** Requests in flight to this registry at once (blob streams hold their slot until they end). */
  concurrency: number;
  timeouts: RegistryTimeouts;
  retries: RegistryRetries;
}

/** Defaults for the tuning fields, for config loaders and tests. */
export const REGISTRY_DEFAULTS: Readonly<Pick<RegistryConfig, 'concurrency' | 'timeouts' | 'retries'>> = Object.freeze({
  concurrency: 4,
  timeouts: Object.freeze({ connectMs: 10_000, headersMs: 30_000, bodyIdleMs: 60_000 }),
  retries: Object.freeze({ attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 }),
});

/** Size and count limits on what registries send (bytes unless said otherwise). */
export interface RegistryLimits {
  /** Largest manifest or index body. */
  manifestBytes: number;
  /** Largest image config blob. */
  configBytes: number;
  /** Largest blob whose size is not known from a descriptor. */
  blobBytes: number;
  /** Largest token-service or tag/catalog page body. */
  jsonBytes: number;
  /** Redirects followed per request. */
  maxRedirects: number;
  /** Range resumptions of one interrupted blob download. */
  maxResumes: number;
  /** Index levels followed below the top index (an index of indexes). */
  maxIndexDepth: number;
  /** Child manifests fetched by one resolution (all index levels together). */
  maxResolvedManifests: number;
  /** Pages read by one tag or catalog listing. */
  maxPages: number;
  /** Entries of a tag or catalog page asked for (`n=`). */
  pageSize: number;
  /** Tokens cached per registry. */
  tokenCacheEntries: number;
  /** Taken off a token's lifetime so that it is renewed before it expires. */
  tokenExpirySkewMs: number;
}

/** The default limits: 4 MiB manifests and configs, 16 GiB blobs of unknown size. */
export const REGISTRY_LIMITS: Readonly<RegistryLimits> = Object.freeze({
  manifestBytes: 4 * 1024 * 1024,
  configBytes: 4 * 1024 * 1024,
  blobBytes: 16 * 1024 * 1024 * 1024,
  jsonBytes: 4 * 1024 * 1024,
  maxRedirects: 5,
  maxResumes: 3,
  maxIndexDepth: 2,
  maxResolvedManifests: 256,
  maxPages: 10_000,
  pageSize: 1000,
  tokenCacheEntries: 1000,
  tokenExpirySkewMs: 15_000,
});
