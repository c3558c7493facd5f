import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fetchFeedFiles, type FeedFile } from '../../feeds/fetch-feed-files.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { FeedHttp, Updater } from '../updater.ts';
import { parseSecdb } from './parse-secdb.ts';

/** Alpine's security database: one directory per release (`v3.19/`, `edge/`), one JSON file per repository. */
export const ALPINE_SECDB_URL = 'https://secdb.alpinelinux.org/';

/** The repositories secdb publishes. */
export const ALPINE_REPOSITORIES = ['main', 'community'] as const;

/** Options of {@link createAlpineUpdater}. */
export interface AlpineUpdaterOptions {
  /** The secdb base URL (default {@link ALPINE_SECDB_URL}). */
  url?: string;
  /**
   * Releases to fetch (`v3.19`, `3.19`, `edge`). Default: every release the secdb index lists,
   * with the repository files each release directory lists.
   */
  releases?: readonly string[];
  /** Repositories to fetch (default main and community). */
  repositories?: readonly string[];
}

/** Largest index page read while discovering releases. */
const MAX_INDEX_BYTES = 1024 * 1024;
const RELEASE = /^(v\d+\.\d+|edge)$/;
const FILE = /^alpine-(v\d+\.\d+|edge)-([a-z]+)\.json$/;

/** `v3.19` → `alpine:3.19`, `edge` → `alpine:edge` (the key `distributionKey` gives Alpine images). */
export function alpineDistribution(release: string): string {
  return release === 'edge' ? 'alpine:edge' : `alpine:${release.slice(1)}`;
}

/**
 * The `alpine` updater. Fetch: the secdb index and each release directory (discovery, always
 * fetched) unless `releases` is configured, then a conditional GET of every `<release>/<repo>.json`;
 * UNCHANGED when every file answers 304 and the set of files is the previous one. Parse: each file
 * streamed through {@link parseSecdb}, keyed by origin package, distribution from the release
 * directory (`alpine:3.19`, `alpine:edge`), repository from the file (`main`, `community`).
 */
export function createAlpineUpdater(options: AlpineUpdaterOptions = {}): Updater {
  const releases = options.releases?.map((r) => (r === 'edge' || r.startsWith('v') ? r : `v${r}`));
  for (const r of releases ?? []) if (!RELEASE.test(r)) throw new Error(`alpine updater: ${JSON.stringify(r)} is not an Alpine release`);
  const repositories = options.repositories ?? ALPINE_REPOSITORIES;
  for (const r of repositories) if (!/^[a-z]+$/.test(r)) throw new Error(`alpine updater: ${JSON.stringify(r)} is not a repository name`);
  return {
    name: 'alpine',
    version: '1',
    defaultUrl: options.url ?? ALPINE_SECDB_URL,
    async fetch(context) {
      const base = context.url.endsWith('/') ? context.url : `${context.url}/`;
      const files: FeedFile[] = [];
      if (releases !== undefined) {
        for (const release of releases) for (const repo of repositories) files.push(fileRequest(base, release, repo));
      } else {
        const found = listLinks(await readPage(context.http, base, context.signal), base).filter((name) => RELEASE.test(name.replace(/\/$/, '')) && name.endsWith('/'));
        if (found.length === 0) throw new FeedParseError(`alpine secdb index at ${base} lists no release directories`);
        for (const dir of found.sort(compareReleases)) {
          const release = dir.slice(0, -1);
          const listed = new Set(listLinks(await readPage(context.http, `${base}${dir}`, context.signal), `${base}${dir}`));
          for (const repo of repositories) if (listed.has(`${repo}.json`)) files.push(fileRequest(base, release, repo));
        }
      }
      return fetchFeedFiles(context, files);
    },
    async *parse(fetched) {
      for (const file of fetched.files) {
        const match = FILE.exec(path.basename(file));
        if (!match) throw new FeedParseError(`alpine: unexpected file ${path.basename(file)}`);
        const [, release, repository] = match as unknown as [string, string, string];
        yield* parseSecdb(createReadStream(file, { highWaterMark: 64 * 1024 }), {
          updater: 'alpine',
          distribution: alpineDistribution(release),
          repository,
          what: `Alpine secdb ${release}/${repository}.json`,
          link: (id) => (id.startsWith('CVE-') ? `https://security.alpinelinux.org/vuln/${id}` : null),
        });
      }
    },
  };
}

/** The `alpine` updater with default options. */
export const alpineUpdater: Updater = createAlpineUpdater();

function fileRequest(base: string, release: string, repo: string): FeedFile {
  return { url: `${base}${release}/${repo}.json`, fileName: `alpine-${release}-${repo}.json` };
}

/** Orders `v3.9/` before `v3.10/`, `edge/` last. */
function compareReleases(a: string, b: string): number {
  const key = (s: string): number[] => (s.startsWith('edge') ? [Infinity] : s.slice(1).replace(/\/$/, '').split('.').map(Number));
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
    const d = (ka[i] ?? 0) - (kb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Reads an index page (unconditionally: its links are needed every run), at most {@link MAX_INDEX_BYTES}. */
async function readPage(http: FeedHttp, url: string, signal?: AbortSignal): Promise<string> {
  const res = await http.get({ url }, signal);
  if (res.status !== 'ok') throw new FeedParseError(`alpine: ${url} answered 304 to an unconditional request`);
  return readLimited(res.body, MAX_INDEX_BYTES, url);
}

async function readLimited(body: Readable, max: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.destroy();
      throw new FeedParseError(`${what}: index page over ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The links of an HTML index page that stay directly under `pageUrl`, as names relative to it (`v3.19/`, `main.json`). */
export function listLinks(html: string, pageUrl: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(/href\s*=\s*"([^"]{1,512})"/gi)) {
    let resolved: URL;
    try {
      resolved = new URL(m[1]!, pageUrl);
    } catch {
      continue;
    }
    const page = new URL(pageUrl);
    if (resolved.origin !== page.origin || !resolved.pathname.startsWith(page.pathname)) continue;
    const rest = resolved.pathname.slice(page.pathname.length);
    if (rest !== '' && !rest.slice(0, -1).includes('/')) out.add(rest);
  }
  return [...out];
}
