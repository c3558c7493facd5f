import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fingerprintOf, sha256File } from '../../feeds/fetch-feed-files.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { UNCHANGED, type FeedRequest, type FetchContext, type Fetched, type Updater } from '../updater.ts';
import { parseNvdPage, readNvdPageHeader } from './parse-nvd-pages.ts';

/** NVD's CVE API 2.0. */
export const NVD_CVE_API_URL = 'https://services.nvd.nist.gov/rest/json/cves/2.0';

/** The longest lastModStartDate..lastModEndDate window NVD accepts. */
const MAX_WINDOW_MS = 120 * 24 * 3600 * 1000;

/** Options of {@link createNvdUpdater}. */
export interface NvdUpdaterOptions {
  /** The API URL (default {@link NVD_CVE_API_URL}). */
  url?: string;
  /** An NVD API key, sent as the `apiKey` header (never logged); raises NVD's rate limit. */
  apiKey?: string;
  /** CVEs per page, at most 2000 (NVD's maximum, the default). */
  resultsPerPage?: number;
  /** Pause between page requests. Default: 6 s without a key, 0.6 s with one (NVD's public rate limits). */
  pageDelayMs?: number;
  /** Most pages one run fetches (a bound on a misbehaving server). Default 1000. */
  maxPages?: number;
  /** Retries of a page that failed with a network error, 403, 429 or 5xx. Default 3. */
  retries?: number;
  /** Pause before the first retry (doubled, tripled… after). Default: the page delay, at least 1 s. */
  retryDelayMs?: number;
  /**
   * Fetch only the CVEs modified since the previous run (lastModStartDate/lastModEndDate) when the
   * previous run is less than 120 days old. Default true. The parse of such a run yields only
   * those CVEs: an `nvd` enrichment is a per-CVE upsert, not a full snapshot.
   */
  incremental?: boolean;
  now?: () => Date;
}

/** A {@link FeedRequest} carrying the API key header. */
type NvdRequest = FeedRequest;

/**
 * The `nvd` enrichment updater. Fetch: pages of the CVE API into the spool (`startIndex` /
 * `resultsPerPage`), paced for NVD's rate limits; with a previous run less than 120 days old only
 * the CVEs modified since (the window's end is kept as the API URL's `lastModified` validator),
 * UNCHANGED when there are none (one request). Parse: each page streamed to `nvd` enrichments.
 */
export function createNvdUpdater(options: NvdUpdaterOptions = {}): Updater & { readonly incremental: boolean } {
  const perPage = options.resultsPerPage ?? 2000;
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 2000) throw new Error('nvd updater: resultsPerPage must be 1 to 2000');
  const apiKey = options.apiKey?.trim() || null;
  const delay = options.pageDelayMs ?? (apiKey ? 600 : 6000);
  const maxPages = options.maxPages ?? 1000;
  const retries = options.retries ?? 3;
  const retryDelay = options.retryDelayMs ?? Math.max(delay, 1000);
  const incremental = options.incremental ?? true;
  const now = options.now ?? (() => new Date());

  async function getPage(context: FetchContext, url: string, file: string): Promise<void> {
    const request: NvdRequest = { url, ...(apiKey ? { headers: { apiKey } } : {}) };
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await context.http.get(request, context.signal);
        if (res.status !== 'ok') throw new FeedParseError(`nvd: ${url} answered 304 to an unconditional request`);
        await pipeline(res.body, createWriteStream(file), context.signal ? { signal: context.signal } : {});
        return;
      } catch (err) {
        const transient = /answered (403|429|5\d\d)|failed:/.test((err as Error).message);
        if (!transient || attempt >= retries || context.signal?.aborted) throw err;
        await sleep(retryDelay * (attempt + 1), undefined, context.signal ? { signal: context.signal } : {});
      }
    }
  }

  async function fetch(context: FetchContext): Promise<Fetched | typeof UNCHANGED> {
    const base = context.url;
    const end = now();
    const since = Date.parse(context.validators[base]?.lastModified ?? '');
    const window =
      incremental && context.previousFingerprint !== null && Number.isFinite(since) && since <= end.getTime() && end.getTime() - since <= MAX_WINDOW_MS
        ? { start: new Date(since).toISOString(), end: end.toISOString() }
        : null;
    const files: string[] = [];
    const parts: Array<{ url: string; sha256: string }> = [];
    let startIndex = 0;
    for (let page = 0; ; page++) {
      if (page >= maxPages) throw new FeedParseError(`nvd: more than ${maxPages} pages`);
      if (page > 0 && delay > 0) await sleep(delay, undefined, context.signal ? { signal: context.signal } : {});
      const params = new URLSearchParams({ resultsPerPage: String(perPage), startIndex: String(startIndex) });
      if (window) {
        params.set('lastModStartDate', window.start);
        params.set('lastModEndDate', window.end);
      }
      const url = `${base}${base.includes('?') ? '&' : '?'}${params}`;
      const file = path.join(context.spoolDir, `nvd-page-${String(page).padStart(5, '0')}.json`);
      await getPage(context, url, file);
      const header = await readNvdPageHeader(file);
      if (window && page === 0 && header.totalResults === 0) return UNCHANGED;
      files.push(file);
      parts.push({ url, sha256: await sha256File(file) });
      const next = header.startIndex + header.resultsPerPage;
      if (header.resultsPerPage === 0 || next >= header.totalResults) break;
      startIndex = next;
    }
    return {
      fingerprint: fingerprintOf(parts),
      validators: { [base]: { etag: null, lastModified: end.toISOString() } },
      files,
      ...(window ? { delta: true } : {}),
    };
  }

  return {
    name: 'nvd',
    version: '1',
    defaultUrl: options.url ?? NVD_CVE_API_URL,
    incremental,
    fetch,
    async *parse(fetched) {
      for (const file of fetched.files) yield* parseNvdPage(createReadStream(file, { highWaterMark: 64 * 1024 }));
    },
  };
}

/** The `nvd` updater with default options (no API key). */
export const nvdUpdater: Updater = createNvdUpdater();
