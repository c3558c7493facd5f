import { Readable } from 'node:stream';
import { pino } from 'pino';
import { z } from 'zod';
import { hasherFor, isDigest, type Digest } from '../oci/digest.ts';
import type { Logger } from '../log/create-logger.ts';
import { describeUrl } from './describe-url.ts';
import { errorFromResponse } from './error-from-response.ts';
import { isRepositoryName, isTag } from './image-reference.ts';
import { nextLink } from './link-header.ts';
import { artifactReason, classifyIndexEntry, type SkipReason } from './classify-index-entry.ts';
import { MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES } from './media-types.ts';
import { parseImageConfig, type ImageConfig } from './parse-image-config.ts';
import { parseManifest, type Descriptor, type ImageManifest, type Manifest, type Platform } from './parse-manifest.ts';
import { LINUX_PLATFORMS, parsePlatformFilter, type PlatformFilter } from './platform-filter.ts';
import { readLimited } from './read-limited.ts';
import { baseWithSlash, RegistryAuth } from './registry-auth.ts';
import { REGISTRY_LIMITS, type RegistryConfig, type RegistryLimits } from './registry-config.ts';
import { RegistryError } from './registry-error.ts';
import { RegistryHttp, type HttpResponse } from './registry-http.ts';
import { Semaphore } from './semaphore.ts';
import { verifiedBlobStream, type BlobHasher, type BlobSource } from './verified-blob-stream.ts';

export type { BlobHasher, SkipReason };

/** Options of a {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Where retries, resumptions and token fetches are logged (never with credentials). */
  logger?: Logger;
  /** Overrides of {@link REGISTRY_LIMITS}. */
  limits?: Partial<RegistryLimits>;
  /** `User-Agent` sent to the registry. */
  userAgent?: string;
}

/** A manifest fetched and verified: its digest is the hash of exactly `bytes`. */
export interface FetchedManifest {
  repository: string;
  /** The tag or digest it was fetched by. */
  reference: string;
  digest: Digest;
  mediaType: string;
  size: number;
  bytes: Buffer;
  manifest: Manifest;
}

/** One platform image found by {@link RegistryClient.resolve}. */
export interface ResolvedImage {
  digest: Digest;
  mediaType: string;
  size: number;
  /** The platform from the index entry; null for a manifest fetched directly (read the config's `os`/`architecture`). */
  platform: Platform | null;
  manifest: ImageManifest;
}

/** A manifest left out of a resolution, with why. */
export interface SkippedManifest {
  digest: Digest;
  mediaType: string;
  platform: Platform | null;
  reason: SkipReason;
  /** Human-readable detail (`config media type application/vnd.cncf.helm.config.v1+json`). */
  detail: string;
}

/** What a tag or digest points at: the images to scan and what was skipped. */
export interface Resolution {
  repository: string;
  reference: string;
  /** Digest of the top manifest (the index for a multi-platform image). */
  digest: Digest;
  mediaType: string;
  images: ResolvedImage[];
  skipped: SkippedManifest[];
}

/** Options of {@link RegistryClient.blob}. */
export interface BlobOptions {
  /** The size from the descriptor: the stream fails unless exactly this many bytes arrive. */
  size?: number;
  /**
   * Continue a download the caller interrupted: the stream starts at `offset`, and `hash` (from
   * `hasherFor(digest)`, fed with bytes [0, offset)) keeps the verification covering the whole blob.
   */
  resume?: { offset: number; hash: BlobHasher };
  signal?: AbortSignal;
}

/** A config blob read and verified. */
export interface FetchedConfig {
  digest: Digest;
  bytes: Buffer;
  config: ImageConfig;
}

const SCOPE_CATALOG = 'registry:catalog:*';
const tagsPage = z.object({ name: z.string().max(512).optional(), tags: z.array(z.string().max(256)).max(100_000).nullable().optional() });
const catalogPage = z.object({ repositories: z.array(z.string().max(512)).max(100_000).nullable().optional() });

/**
 * An OCI distribution client for one configured registry, on undici. Every request carries an
 * explicit Accept list (manifests), authentication (see {@link RegistryAuth}), retries of transient
 * failures, a per-registry concurrency limit and timeouts; every manifest and blob is verified
 * against its digest; failures are {@link RegistryError}s with a `kind`.
 */
export class RegistryClient {
  readonly name: string;
  /** The registry base URL (no trailing slash). */
  readonly url: string;
  private readonly config: RegistryConfig;
  private readonly origin: string;
  private readonly limits: RegistryLimits;
  private readonly logger: Logger;
  private readonly http: RegistryHttp;
  private readonly auth: RegistryAuth;
  private readonly semaphore: Semaphore;
  private readonly userAgent: string;

  constructor(config: RegistryConfig, options: RegistryClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(config.url);
    } catch {
      throw new RegistryError('not_allowed', `registry ${JSON.stringify(config.name)}: url is not a valid URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new RegistryError('not_allowed', `registry ${JSON.stringify(config.name)}: url must be http or https`);
    }
    if (parsed.username !== '' || parsed.password !== '') {
      throw new RegistryError('not_allowed', `registry ${JSON.stringify(config.name)}: put credentials in username/password, not in the url`);
    }
    this.name = config.name;
    this.config = config;
    this.origin = parsed.origin;
    this.url = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
    this.limits = { ...REGISTRY_LIMITS, ...options.limits };
    this.logger = options.logger ?? pino({ enabled: false });
    this.userAgent = options.userAgent ?? 'lookout';
    this.http = new RegistryHttp(config, this.logger);
    this.auth = new RegistryAuth({ ...config, url: this.url }, this.http, this.limits, this.logger);
    this.semaphore = new Semaphore(Math.max(1, config.concurrency));
  }

  /** Checks that the registry answers `GET /v2/` (200, or 401 asking for credentials). */
  async ping(signal?: AbortSignal): Promise<void> {
    const url = this.urlFor('v2/');
    const res = await this.http.send({ method: 'GET', url, headers: this.baseHeaders(), signal });
    if (res.statusCode === 200 || res.statusCode === 401) {
      await res.body.dump().catch(() => undefined);
      return;
    }
    throw await errorFromResponse(res, this.http.label({ method: 'GET', url }), 'ping');
  }

  /**
   * `HEAD` a manifest: its digest, media type and size without the body (a tag without
   * `Docker-Content-Digest` in the answer falls back to a verified GET).
   */
  async head(repository: string, reference: string, options: { signal?: AbortSignal } = {}): Promise<Descriptor> {
    const ref = this.checkManifestRef(repository, reference);
    const what = `manifest ${repository}${refSuffix(ref)}`;
    const fromHeaders = await this.limited(options.signal, async () => {
      const { res, url } = await this.call('HEAD', `v2/${repository}/manifests/${ref}`, [pullScope(repository)], { accept: MANIFEST_ACCEPT }, false, options.signal);
      if (res.statusCode !== 200) throw await errorFromResponse(res, this.http.label({ method: 'HEAD', url }), what);
      await res.body.dump().catch(() => undefined);
      const headerDigest = first(res.headers['docker-content-digest']);
      const digest = isDigest(ref) ? ref : isDigest(headerDigest) ? headerDigest : null;
      const size = Number(first(res.headers['content-length']));
      const mediaType = (first(res.headers['content-type']) ?? '').split(';', 1)[0]!.trim();
      return digest !== null && Number.isSafeInteger(size) && MANIFEST_MEDIA_TYPES.has(mediaType) ? { mediaType, digest, size } : null;
    });
    if (fromHeaders !== null) return fromHeaders;
    const fetched = await this.manifest(repository, reference, options);
    return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.size };
  }

  /**
   * Fetches, verifies and parses a manifest by tag or digest. By digest, the body must hash to it;
   * by tag, it must hash to the `Docker-Content-Digest` the registry sent (sha256 of the body when
   * none). Bodies over `limits.manifestBytes` are refused (`too_large`).
   */
  async manifest(repository: string, reference: string, options: { signal?: AbortSignal } = {}): Promise<FetchedManifest> {
    const ref = this.checkManifestRef(repository, reference);
    const what = `manifest ${repository}${refSuffix(ref)}`;
    return this.limited(options.signal, async () => {
      const { res, url } = await this.call('GET', `v2/${repository}/manifests/${ref}`, [pullScope(repository)], { accept: MANIFEST_ACCEPT }, false, options.signal);
      const label = this.http.label({ method: 'GET', url });
      if (res.statusCode !== 200) throw await errorFromResponse(res, label, what);
      let bytes: Buffer;
      try {
        bytes = await readLimited(
          res.body,
          this.limits.manifestBytes,
          (n) => new RegistryError('too_large', `${label}: ${what} of ${n} bytes is over the limit of ${this.limits.manifestBytes}`),
          res.headers['content-length'],
        );
      } catch (err) {
        throw this.http.toError(err, { method: 'GET', url, signal: options.signal });
      }
      const headerDigest = first(res.headers['docker-content-digest']);
      const expected: Digest | null = isDigest(ref) ? ref : isDigest(headerDigest) ? headerDigest : null;
      let digest: Digest;
      if (expected !== null) {
        const hasher = hasherFor(expected);
        hasher.update(bytes);
        digest = hasher.digest();
        if (digest !== expected) {
          throw new RegistryError('digest_mismatch', `${label}: ${what} hashes to ${digest}, expected ${expected}`);
        }
      } else {
        const hasher = hasherFor('sha256:0' as Digest);
        hasher.update(bytes);
        digest = hasher.digest();
      }
      const manifest = parseManifest(bytes, first(res.headers['content-type']), `${what} (${digest})`);
      return { repository, reference: ref, digest, mediaType: manifest.mediaType, size: bytes.length, bytes, manifest };
    });
  }

  /**
   * What `reference` points at: for an index, the child manifests of the requested platforms
   * (default: every linux platform; `['linux/arm64']`, `['*']` …), fetched and verified; attestation
   * manifests, artifacts (by `artifactType` or a non-image config media type), other platforms and
   * unknown media types are listed in `skipped` with a reason. A single manifest is returned as the
   * one image unless it is an artifact.
   */
  async resolve(repository: string, reference: string, options: { platforms?: readonly (string | PlatformFilter)[]; signal?: AbortSignal } = {}): Promise<Resolution> {
    const filters = options.platforms === undefined ? LINUX_PLATFORMS : options.platforms.map((p) => (typeof p === 'string' ? parsePlatformFilter(p) : p));
    const top = await this.manifest(repository, reference, options);
    const out: Resolution = { repository, reference: top.reference, digest: top.digest, mediaType: top.mediaType, images: [], skipped: [] };
    const budget = { fetched: 0 };
    await this.collect(repository, top, null, 0, filters, out, budget, options.signal);
    return out;
  }

  /**
   * Streams a blob, verified while it flows: the stream errors with `digest_mismatch` when the bytes
   * do not hash to `digest` or differ from `options.size`, and with `too_large` past
   * `limits.blobBytes` when no size is given. Redirects are followed by hand (to any http(s) host,
   * without the Authorization header once the origin changes); an interrupted transfer resumes with
   * `Range` (up to `limits.maxResumes` times) and the hash still covers every byte. The stream holds
   * one of the registry's concurrency slots until it ends or is destroyed: always consume or destroy it.
   */
  async blob(repository: string, digest: Digest, options: BlobOptions = {}): Promise<Readable> {
    this.checkRepository(repository);
    if (!isDigest(digest)) throw new RegistryError('invalid_reference', `blob digest ${JSON.stringify(String(digest).slice(0, 80))} is not a valid digest`);
    const expected = options.size ?? null;
    if (expected !== null && (!Number.isSafeInteger(expected) || expected < 0)) throw new RegistryError('invalid_reference', 'blob size must be a non-negative integer');
    const offset0 = options.resume?.offset ?? 0;
    if (!Number.isSafeInteger(offset0) || offset0 < 0 || (expected !== null && offset0 > expected)) {
      throw new RegistryError('invalid_reference', 'resume offset must be between 0 and the blob size');
    }
    const hasher = options.resume?.hash ?? hasherFor(digest);
    const what = `blob ${repository}@${digest}`;
    const blobUrl = this.urlFor(`v2/${repository}/blobs/${digest}`);
    const label = this.http.label({ method: 'GET', url: blobUrl });
    const release = await this.semaphore.acquire(options.signal);
    let first: BlobSource;
    try {
      first = await this.openBlob(repository, digest, offset0, expected, what, options.signal);
    } catch (err) {
      release();
      throw err;
    }
    return verifiedBlobStream({
      digest,
      expected,
      offset: offset0,
      hasher,
      maxBytes: this.limits.blobBytes,
      maxResumes: this.limits.maxResumes,
      label,
      what,
      first,
      reopen: (at) => this.openBlob(repository, digest, at, expected, what, options.signal),
      isInterruption: (err) => this.http.isInterruption(err) && options.signal?.aborted !== true,
      toError: (err) => this.http.toError(err, { method: 'GET', url: blobUrl, signal: options.signal }),
      logger: this.logger,
      logFields: { registry: this.name, repository, digest },
      onClose: release,
    });
  }

  /** Reads and parses an image config blob (verified, at most `limits.configBytes`). */
  async configBlob(repository: string, descriptor: Digest | Pick<Descriptor, 'digest' | 'size'>, options: { signal?: AbortSignal } = {}): Promise<FetchedConfig> {
    const digest = typeof descriptor === 'string' ? descriptor : descriptor.digest;
    const size = typeof descriptor === 'string' ? undefined : descriptor.size;
    const what = `config ${repository}@${digest}`;
    if (size !== undefined && size > this.limits.configBytes) {
      throw new RegistryError('too_large', `registry ${JSON.stringify(this.name)}: ${what} of ${size} bytes is over the limit of ${this.limits.configBytes}`);
    }
    const stream = await this.blob(repository, digest, { ...(size !== undefined ? { size } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    const bytes = await readLimited(
      stream,
      this.limits.configBytes,
      (n) => new RegistryError('too_large', `registry ${JSON.stringify(this.name)}: ${what} of ${n} bytes is over the limit of ${this.limits.configBytes}`),
    );
    return { digest, bytes, config: parseImageConfig(bytes, what) };
  }

  /** Every tag of `repository`, following `Link: <…>; rel="next"` pages (same origin only). */
  async *tags(repository: string, options: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    this.checkRepository(repository);
    const n = clampPageSize(options.pageSize ?? this.limits.pageSize);
    for await (const body of this.pages(`v2/${repository}/tags/list?n=${n}`, [pullScope(repository)], `tags of ${repository}`, options.signal)) {
      const parsed = tagsPage.safeParse(body);
      if (!parsed.success) throw new RegistryError('bad_response', `registry ${JSON.stringify(this.name)}: tag list of ${repository} is not the expected JSON`);
      for (const tag of parsed.data.tags ?? []) if (isTag(tag)) yield tag;
    }
  }

  /** Every repository of the registry (`/v2/_catalog`, needs `registry:catalog:*`), page by page. */
  async *catalog(options: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    const n = clampPageSize(options.pageSize ?? this.limits.pageSize);
    for await (const body of this.pages(`v2/_catalog?n=${n}`, [SCOPE_CATALOG], 'catalog', options.signal)) {
      const parsed = catalogPage.safeParse(body);
      if (!parsed.success) throw new RegistryError('bad_response', `registry ${JSON.stringify(this.name)}: catalog page is not the expected JSON`);
      for (const repository of parsed.data.repositories ?? []) if (isRepositoryName(repository)) yield repository;
    }
  }

  /** Closes the connection pool; streams still open fail. */
  async close(): Promise<void> {
    await this.http.close();
  }

  private async collect(
    repository: string,
    fetched: FetchedManifest,
    platform: Platform | null,
    depth: number,
    filters: readonly PlatformFilter[],
    out: Resolution,
    budget: { fetched: number },
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const m = fetched.manifest;
    if (m.kind === 'image') {
      const artifact = artifactReason(m);
      if (artifact !== null) out.skipped.push({ digest: fetched.digest, mediaType: fetched.mediaType, platform, reason: 'artifact', detail: artifact });
      else out.images.push({ digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.size, platform, manifest: m });
      return;
    }
    const children: Array<Promise<() => Promise<void>>> = [];
    for (const entry of m.manifests) {
      const entryPlatform = entry.platform ?? null;
      let decision = classifyIndexEntry(entry, filters, depth, this.limits.maxIndexDepth);
      if (decision.action === 'fetch' && budget.fetched >= this.limits.maxResolvedManifests) {
        decision = { action: 'skip', reason: 'too-many-manifests', detail: `more than ${this.limits.maxResolvedManifests} child manifests` };
      }
      if (decision.action === 'skip') {
        out.skipped.push({ digest: entry.digest, mediaType: entry.mediaType, platform: entryPlatform, reason: decision.reason, detail: decision.detail });
        continue;
      }
      budget.fetched++;
      const nextDepth = decision.isIndex ? depth + 1 : depth;
      // fetched in parallel (bounded by the semaphore), recorded in index order
      children.push(
        this.manifest(repository, entry.digest, signal ? { signal } : {}).then((child) => {
          if (child.size !== entry.size) {
            throw new RegistryError('digest_mismatch', `registry ${JSON.stringify(this.name)}: manifest ${repository}@${entry.digest} is ${child.size} bytes, the index says ${entry.size}`);
          }
          return () => this.collect(repository, child, entryPlatform, nextDepth, filters, out, budget, signal);
        }),
      );
    }
    for (const next of await Promise.all(children)) await next();
  }

  /** Opens the blob at `offset`: follows redirects, checks 200/206 and sizes; `skip` bytes to drop when Range was ignored. */
  private async openBlob(repository: string, digest: Digest, offset: number, expected: number | null, what: string, signal: AbortSignal | undefined): Promise<BlobSource> {
    if (expected !== null && offset === expected) return { body: Readable.from([]), skip: 0 };
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const { res, url } = await this.call('GET', `v2/${repository}/blobs/${digest}`, [pullScope(repository)], headers, true, signal);
    const label = this.http.label({ method: 'GET', url });
    if (res.statusCode === 200) {
      const length = Number(first(res.headers['content-length']));
      if (expected !== null && Number.isFinite(length) && length !== expected) {
        res.body.destroy();
        throw new RegistryError('digest_mismatch', `${label}: ${what} is ${length} bytes, its descriptor says ${expected}`);
      }
      return { body: res.body, skip: offset };
    }
    if (res.statusCode === 206 && offset > 0) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(first(res.headers['content-range']) ?? '');
      if (!m || Number(m[1]) !== offset) {
        res.body.destroy();
        throw new RegistryError('bad_response', `${label}: ${what}: Content-Range does not start at ${offset}`);
      }
      if (expected !== null && m[3] !== '*' && Number(m[3]) !== expected) {
        res.body.destroy();
        throw new RegistryError('digest_mismatch', `${label}: ${what} is ${m[3]} bytes, its descriptor says ${expected}`);
      }
      return { body: res.body, skip: 0 };
    }
    throw await errorFromResponse(res, label, what);
  }

  /** Pages of a Link-paginated JSON listing; each page body is parsed JSON. */
  private async *pages(path: string, scopes: string[], what: string, signal: AbortSignal | undefined): AsyncGenerator<unknown> {
    let next: string | null = this.urlFor(path);
    const seen = new Set<string>();
    for (let page = 0; next !== null; page++) {
      if (page >= this.limits.maxPages) throw new RegistryError('too_large', `registry ${JSON.stringify(this.name)}: ${what} has more than ${this.limits.maxPages} pages`);
      seen.add(next);
      const current: string = next;
      const result: { body: unknown; link: string | null } = await this.limited(signal, async () => {
        const { res, url } = await this.call('GET', current, scopes, { accept: 'application/json' }, false, signal);
        const label = this.http.label({ method: 'GET', url });
        if (res.statusCode !== 200) throw await errorFromResponse(res, label, what);
        const link = nextLink(res.headers.link, url);
        let bytes: Buffer;
        try {
          bytes = await readLimited(res.body, this.limits.jsonBytes, (n) => new RegistryError('too_large', `${label}: ${what} page of ${n} bytes is over the limit`), res.headers['content-length']);
        } catch (err) {
          throw this.http.toError(err, { method: 'GET', url, signal });
        }
        try {
          return { body: JSON.parse(bytes.toString('utf8')) as unknown, link };
        } catch {
          throw new RegistryError('bad_response', `${label}: ${what} page is not JSON`);
        }
      });
      yield result.body;
      next = result.link;
      if (next !== null) {
        if (new URL(next).origin !== this.origin) throw new RegistryError('not_allowed', `registry ${JSON.stringify(this.name)}: ${what} links to another host`);
        if (seen.has(next)) next = null;
      }
    }
  }

  /**
   * One authenticated request to the registry (relative `path` or absolute URL on its origin):
   * a 401 is answered once with the credentials its challenge asks for; redirects are followed by
   * hand (cross-origin only when `crossOrigin`, and then without Authorization).
   */
  private async call(
    method: 'GET' | 'HEAD',
    path: string,
    scopes: string[],
    headers: Record<string, string>,
    crossOrigin: boolean,
    signal: AbortSignal | undefined,
  ): Promise<{ res: HttpResponse; url: string }> {
    let url = /^https?:\/\//.test(path) ? path : this.urlFor(path);
    let auth = await this.auth.authorization(scopes, signal);
    let res: HttpResponse;
    for (let round = 0; ; round++) {
      res = await this.http.send({ method, url, headers: this.withAuth(headers, auth), signal });
      if (res.statusCode !== 401 || round > 0) break;
      const challenge = res.headers['www-authenticate'];
      await res.body.dump().catch(() => undefined);
      const next = await this.auth.afterUnauthorized(challenge, scopes, auth, signal);
      if (next === null) {
        throw new RegistryError('unauthorized', `${this.http.label({ method, url })} answered 401: ${auth === null ? 'credentials required' : 'credentials not accepted'}`, { httpStatus: 401 });
      }
      auth = next;
    }
    if (res.statusCode === 401) {
      await res.body.dump().catch(() => undefined);
      throw new RegistryError('unauthorized', `${this.http.label({ method, url })} answered 401 again after new credentials`, { httpStatus: 401 });
    }
    for (let hops = 0; [301, 302, 303, 307, 308].includes(res.statusCode); hops++) {
      const location = first(res.headers.location);
      await res.body.dump().catch(() => undefined);
      const label = this.http.label({ method, url });
      if (hops >= this.limits.maxRedirects) throw new RegistryError('bad_response', `${label}: more than ${this.limits.maxRedirects} redirects`);
      if (location === undefined) throw new RegistryError('bad_response', `${label}: redirect without Location`);
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        throw new RegistryError('bad_response', `${label}: redirect to an invalid URL`);
      }
      if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new RegistryError('not_allowed', `${label}: redirect to scheme ${target.protocol} refused`);
      if (new URL(url).protocol === 'https:' && target.protocol === 'http:' && this.config.insecure !== true) {
        throw new RegistryError('not_allowed', `${label}: redirect from https to http refused`);
      }
      const sameOrigin = target.origin === this.origin;
      if (!sameOrigin && !crossOrigin) throw new RegistryError('not_allowed', `${label}: redirect to another host refused`);
      url = target.toString();
      this.logger.debug({ registry: this.name, to: describeUrl(target), sameOrigin }, 'registry redirect');
      res = await this.http.send({ method, url, headers: sameOrigin ? this.withAuth(headers, auth) : this.withAuth(headers, null), signal });
    }
    return { res, url };
  }

  private withAuth(headers: Record<string, string>, auth: string | null): Record<string, string> {
    const out: Record<string, string> = { ...this.baseHeaders(), ...headers };
    if (auth !== null) out.authorization = auth;
    return out;
  }

  private baseHeaders(): Record<string, string> {
    return { 'user-agent': this.userAgent };
  }

  private urlFor(path: string): string {
    return new URL(path, baseWithSlash(this.url)).toString();
  }

  private async limited<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const release = await this.semaphore.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private checkRepository(repository: string): void {
    if (typeof repository !== 'string' || !isRepositoryName(repository)) {
      throw new RegistryError('invalid_reference', `invalid repository name ${JSON.stringify(String(repository).slice(0, 80))}`);
    }
  }

  private checkManifestRef(repository: string, reference: string): string {
    this.checkRepository(repository);
    if (typeof reference !== 'string' || !(isTag(reference) || isDigest(reference))) {
      throw new RegistryError('invalid_reference', `invalid tag or digest ${JSON.stringify(String(reference).slice(0, 80))}`);
    }
    return reference;
  }
}

function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

function refSuffix(ref: string): string {
  return isDigest(ref) ? `@${ref}` : `:${ref}`;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function clampPageSize(n: number): number {
  return Math.min(10_000, Math.max(1, Math.floor(n)));
}
