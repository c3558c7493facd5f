import { z } from 'zod';
import type { Logger } from '../log/create-logger.ts';
import { describeUrl } from './describe-url.ts';
import { errorFromResponse } from './error-from-response.ts';
import { readLimited } from './read-limited.ts';
import type { RegistryConfig, RegistryLimits } from './registry-config.ts';
import { RegistryError } from './registry-error.ts';
import type { HttpRequest, HttpResponse, RegistryHttp } from './registry-http.ts';
import { findChallenge, parseWwwAuthenticate, type Challenge } from './www-authenticate.ts';

/** What `GET /v2/` asked for: a token service, Basic credentials, or nothing. */
type Discovered = { scheme: 'bearer'; realm: string; service: string | null } | { scheme: 'basic' } | { scheme: 'none' };

interface CachedToken {
  header: string;
  expiresAt: number;
}

const tokenResponse = z.object({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().int().nonnegative().optional(),
  refresh_token: z.string().max(16 * 1024).optional(),
});

/** Visible ASCII only: a token must be safe to put in a header. */
const TOKEN_VALUE = /^[\x21-\x7e]{1,16384}$/;
const MAX_CHALLENGE_SCOPES = 8;
const MIN_TOKEN_SECONDS = 60;

/**
 * Authentication for one registry (distribution token spec, OAuth2, Basic, static bearer).
 * `GET /v2/` is asked once to learn the challenge; bearer tokens are requested from the challenge's
 * realm for a set of scopes (GET with Basic credentials, or OAuth2 POST with a password or refresh
 * token), cached per (realm, service, scope set) until `expires_in` (at least 60 s) minus a skew,
 * and concurrent requests for the same scopes share one token request. Credentials go only to the
 * registry's origin (Basic) and to the realm (token requests); a https registry's realm must be https.
 */
export class RegistryAuth {
  private readonly config: RegistryConfig;
  private readonly http: RegistryHttp;
  private readonly limits: RegistryLimits;
  private readonly logger: Logger;
  private readonly now: () => number;
  private discovered: Discovered | null = null;
  private discovering: Promise<Discovered> | null = null;
  private readonly cache = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<string>>();
  private refreshToken: string | undefined;

  constructor(config: RegistryConfig, http: RegistryHttp, limits: RegistryLimits, logger: Logger, now: () => number = Date.now) {
    this.config = config;
    this.http = http;
    this.limits = limits;
    this.logger = logger;
    this.now = now;
    this.refreshToken = config.refreshToken;
  }

  /**
   * The `Authorization` value for a registry request that needs `scopes`
   * (`repository:<name>:pull`, `registry:catalog:*`), or null to go anonymously.
   */
  async authorization(scopes: readonly string[], signal?: AbortSignal): Promise<string | null> {
    if (this.config.bearerToken !== undefined) return `Bearer ${this.config.bearerToken}`;
    const found = await this.discover(signal);
    if (found.scheme === 'none') return null;
    if (found.scheme === 'basic') return this.basic();
    return this.bearer(found.realm, found.service, scopes, signal);
  }

  /**
   * After a 401 carrying `wwwAuthenticate`: the `Authorization` value to retry once with, or null
   * when a retry cannot help. A new token is fetched when nothing (or Basic) was sent, when the
   * token was rejected (`error="invalid_token"`), when the challenge asks for scopes beyond `scopes`,
   * or when the realm changed; `insufficient_scope` for scopes already granted is final.
   */
  async afterUnauthorized(
    wwwAuthenticate: string | string[] | undefined,
    scopes: readonly string[],
    sent: string | null,
    signal?: AbortSignal,
  ): Promise<string | null> {
    if (this.config.bearerToken !== undefined) return null;
    const challenges = parseWwwAuthenticate(wwwAuthenticate);
    const bearer = findChallenge(challenges, 'bearer');
    if (bearer?.params.realm) {
      const realm = bearer.params.realm;
      const service = bearer.params.service ?? null;
      const asked = (bearer.params.scope ?? '').split(' ').filter((s) => s !== '' && s.length <= 512).slice(0, MAX_CHALLENGE_SCOPES);
      const wanted = [...new Set([...scopes, ...asked])];
      const previous = this.discovered;
      const changed = previous?.scheme !== 'bearer' || previous.realm !== realm || previous.service !== service;
      this.discovered = { scheme: 'bearer', realm, service };
      const hadToken = sent?.startsWith('Bearer ') === true;
      const widened = wanted.length > scopes.length;
      if (bearer.params.error === 'invalid_token') {
        this.cache.delete(cacheKey(realm, service, scopes));
        this.cache.delete(cacheKey(realm, service, wanted));
      }
      if (!hadToken || changed || widened || bearer.params.error === 'invalid_token') {
        return this.bearer(realm, service, wanted, signal);
      }
      return null;
    }
    if (findChallenge(challenges, 'basic') !== undefined) {
      this.discovered = { scheme: 'basic' };
      const basic = this.basic();
      return basic !== null && basic !== sent ? basic : null;
    }
    return null;
  }

  /** Forgets the challenge and every cached token (credentials changed, tests). */
  reset(): void {
    this.discovered = null;
    this.cache.clear();
  }

  private basic(): string | null {
    const { username, password } = this.config;
    if (username === undefined || password === undefined) return null;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  private discover(signal?: AbortSignal): Promise<Discovered> {
    if (this.discovered !== null) return Promise.resolve(this.discovered);
    this.discovering ??= this.ping(signal).then(
      (found) => {
        this.discovering = null;
        this.discovered ??= found;
        return this.discovered;
      },
      (err: unknown) => {
        this.discovering = null; // a transient failure is not remembered
        throw err;
      },
    );
    return this.discovering;
  }

  private async ping(signal?: AbortSignal): Promise<Discovered> {
    const url = new URL('v2/', baseWithSlash(this.config.url)).toString();
    const req: HttpRequest = { method: 'GET', url, signal };
    const res = await this.http.send(req);
    const challenges: Challenge[] = res.statusCode === 401 ? parseWwwAuthenticate(res.headers['www-authenticate']) : [];
    await res.body.dump().catch(() => undefined);
    const bearer = findChallenge(challenges, 'bearer');
    if (bearer?.params.realm) return { scheme: 'bearer', realm: bearer.params.realm, service: bearer.params.service ?? null };
    if (findChallenge(challenges, 'basic') !== undefined) return { scheme: 'basic' };
    return { scheme: 'none' };
  }

  private async bearer(realm: string, service: string | null, scopes: readonly string[], signal?: AbortSignal): Promise<string> {
    const sorted = [...new Set(scopes)].sort();
    const key = cacheKey(realm, service, sorted);
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expiresAt > this.now()) return cached.header;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.fetchToken(realm, service, sorted, signal).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(realm: string, service: string | null, scopes: string[], signal?: AbortSignal): Promise<string> {
    const realmUrl = this.checkRealm(realm);
    const { username, password } = this.config;
    const clientId = this.config.clientId ?? 'lookout';
    let res: HttpResponse | undefined;
    let method: 'GET' | 'POST' = 'GET';
    const form = (grant: Record<string, string>): string => {
      const body = new URLSearchParams(grant);
      if (service !== null) body.set('service', service);
      body.set('client_id', clientId);
      if (scopes.length > 0) body.set('scope', scopes.join(' '));
      return body.toString();
    };
    const post = (body: string): Promise<HttpResponse> =>
      this.http.send({ method: 'POST', url: realmUrl.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body, signal });

    if (this.refreshToken !== undefined) {
      method = 'POST';
      res = await post(form({ grant_type: 'refresh_token', refresh_token: this.refreshToken, access_type: 'offline' }));
    } else if (this.config.tokenGrant === 'oauth2-password' && username !== undefined && password !== undefined) {
      method = 'POST';
      res = await post(form({ grant_type: 'password', username, password }));
      if (res.statusCode === 404 || res.statusCode === 405) {
        await res.body.dump().catch(() => undefined);
        res = undefined;
        method = 'GET';
      }
    }
    if (res === undefined) {
      const url = new URL(realmUrl);
      if (service !== null) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (username !== undefined) url.searchParams.set('account', username);
      url.searchParams.set('client_id', clientId);
      const headers: Record<string, string> = { accept: 'application/json' };
      const basic = this.basic();
      if (basic !== null) headers.authorization = basic;
      res = await this.http.send({ method: 'GET', url: url.toString(), headers, signal });
    }

    const label = this.http.label({ method, url: realmUrl.toString() });
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump().catch(() => undefined);
      throw new RegistryError('unauthorized', `${label}: the token service refused the credentials (${res.statusCode})`, { httpStatus: res.statusCode });
    }
    if (res.statusCode !== 200) throw await errorFromResponse(res, label, 'token request');
    let bytes: Buffer;
    try {
      bytes = await readLimited(
        res.body,
        this.limits.jsonBytes,
        (n) => new RegistryError('too_large', `${label}: token response of ${n} bytes is over the limit`),
        res.headers['content-length'],
      );
    } catch (err) {
      throw this.http.toError(err, { method, url: realmUrl.toString(), signal });
    }
    let parsed: z.infer<typeof tokenResponse>;
    try {
      parsed = tokenResponse.parse(JSON.parse(bytes.toString('utf8')));
    } catch {
      throw new RegistryError('bad_response', `${label}: the token response is not the expected JSON`);
    }
    const token = parsed.token ?? parsed.access_token;
    if (token === undefined || !TOKEN_VALUE.test(token)) {
      throw new RegistryError('bad_response', `${label}: the token response has no usable token`);
    }
    if (parsed.refresh_token !== undefined && this.refreshToken !== undefined && TOKEN_VALUE.test(parsed.refresh_token)) {
      this.refreshToken = parsed.refresh_token;
    }
    const lifetimeMs = Math.max(parsed.expires_in ?? MIN_TOKEN_SECONDS, MIN_TOKEN_SECONDS) * 1000;
    const expiresAt = this.now() + lifetimeMs - Math.min(this.limits.tokenExpirySkewMs, lifetimeMs / 2);
    const header = `Bearer ${token}`;
    this.store(cacheKey(realm, service, scopes), { header, expiresAt });
    this.logger.debug(
      { registry: this.config.name, realm: describeUrl(realmUrl), method, scopes, expiresInS: Math.round(lifetimeMs / 1000) },
      'registry token fetched',
    );
    return header;
  }

  private checkRealm(realm: string): URL {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError('bad_response', `registry ${JSON.stringify(this.config.name)}: the token realm is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError('not_allowed', `registry ${JSON.stringify(this.config.name)}: token realm scheme ${url.protocol} refused`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new RegistryError('not_allowed', `registry ${JSON.stringify(this.config.name)}: token realm with user info refused`);
    }
    if (url.protocol === 'http:' && new URL(this.config.url).protocol === 'https:' && this.config.insecure !== true) {
      throw new RegistryError('not_allowed', `registry ${JSON.stringify(this.config.name)}: plain-http token realm ${describeUrl(url)} refused for a https registry`);
    }
    return url;
  }

  private store(key: string, token: CachedToken): void {
    if (this.cache.size >= this.limits.tokenCacheEntries) {
      const now = this.now();
      for (const [k, v] of this.cache) if (v.expiresAt <= now) this.cache.delete(k);
      while (this.cache.size >= this.limits.tokenCacheEntries) {
        const oldest = this.cache.keys().next().value;
        if (oldest === undefined) break;
        this.cache.delete(oldest);
      }
    }
    this.cache.set(key, token);
  }
}

function cacheKey(realm: string, service: string | null, scopes: readonly string[]): string {
  return JSON.stringify([realm, service, [...new Set(scopes)].sort()]);
}

/** The registry base URL with a trailing slash, so that `v2/…` resolves under a path prefix. */
export function baseWithSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
