import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { downloadToSpool, type SpoolResult } from '../../feeds/download-to-spool.ts';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { directoryUrl, sha256File } from '../../feeds/fetch-feed-files.ts';
import { openFeedFile } from '../../feeds/open-feed-file.ts';
import { streamXmlElements, type XmlLimits } from '../oval/stream-xml-elements.ts';
import { UNCHANGED, type FetchContext, type Fetched, type Updater } from '../updater.ts';
import { amazonUpdateRecords } from './amazon-update-records.ts';
import { readRepomdUpdateinfo } from './repomd-updateinfo.ts';

/** Amazon Linux 2 and 2023 repositories are served from here. */
export const AMAZON_LINUX_URL = 'https://cdn.amazonlinux.com/';

/** One Amazon Linux release: its release id (`2`, `2023`) and its mirror list (relative to the base URL, or absolute). */
export interface AmazonRelease {
  release: string;
  mirrorList: string;
}

/**
 * Releases fetched by default. Amazon Linux 1 (end of life) is on another host:
 * `{ release: '1', mirrorList: 'http://repo.us-west-2.amazonaws.com/2018.03/updates/x86_64/mirror.list' }`.
 */
export const DEFAULT_AMAZON_RELEASES: readonly AmazonRelease[] = [
  { release: '2', mirrorList: '2/core/latest/x86_64/mirror.list' },
  { release: '2023', mirrorList: 'al2023/core/mirrors/latest/x86_64/mirror.list' },
];

export interface AmazonUpdaterOptions {
  releases?: readonly AmazonRelease[];
  limits?: XmlLimits;
  maxFileBytes?: number;
}

/** What the fingerprint remembers per release, so a 304 on the mirror list or repomd.xml can be followed. */
interface ReleaseState {
  mirror: string;
  updateinfo: string;
  sha256: string;
}

function readState(fingerprint: string | null): Record<string, ReleaseState> {
  if (fingerprint === null) return {};
  try {
    const parsed = JSON.parse(fingerprint) as { v?: number; releases?: Record<string, ReleaseState> };
    return parsed.v === 1 && parsed.releases && typeof parsed.releases === 'object' ? parsed.releases : {};
  } catch {
    return {};
  }
}

function joinUrl(base: string, relative: string): string {
  return new URL(relative, directoryUrl(base)).toString();
}

/** The repository base URL of a mirror list: its first http(s) line. */
export function firstMirror(text: string, label: string): string {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let url: URL;
    try {
      url = new URL(line);
    } catch {
      throw new FeedParseError(`${label}: ${JSON.stringify(line.slice(0, 200))} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FeedParseError(`${label}: ${JSON.stringify(line.slice(0, 200))} is not an http(s) URL`);
    return url.toString();
  }
  throw new FeedParseError(`${label}: no mirror listed`);
}

async function readSmall(file: string, maxBytes: number, label: string): Promise<string> {
  if ((await stat(file)).size > maxBytes) throw new FeedParseError(`${label}: larger than ${maxBytes} bytes`);
  return readFile(file, 'utf8');
}

/**
 * The `amazon` updater: Amazon Linux security advisories (ALAS) from each release's yum
 * repository: `mirror.list` → `<mirror>/repodata/repomd.xml` → its `updateinfo` file.
 *
 * Fetch: the mirror list and repomd.xml of each release are asked conditionally (the mirror and
 * updateinfo location of the previous run are kept in the fingerprint, so 304s can be followed);
 * when every repomd.xml answers 304 for the same mirror the result is unchanged. Otherwise each
 * release's updateinfo is downloaded and checked against the sha256 repomd.xml declares. The
 * fingerprint lists, per release, the mirror, the updateinfo URL and the sha256 of its bytes.
 * Parse: streams each `<update>` into records (see {@link amazonUpdateRecords}), `amzn:<release>`.
 */
export function createAmazonUpdater(options: AmazonUpdaterOptions = {}): Updater {
  const releases = options.releases ?? DEFAULT_AMAZON_RELEASES;
  for (const r of releases) if (!/^(1|2|20\d\d)$/.test(r.release)) throw new Error(`amazon updater: ${JSON.stringify(r.release)} is not an Amazon Linux release`);
  if (new Set(releases.map((r) => r.release)).size !== releases.length) throw new Error('amazon updater: a release is listed twice');
  return {
    name: 'amazon',
    version: '1',
    defaultUrl: AMAZON_LINUX_URL,
    fetch: (context) => fetchAmazon(context, releases),
    async *parse(fetched) {
      const files = fetched.files.filter((f) => /updateinfo/.test(path.basename(f)));
      if (files.length === 0) throw new FeedParseError('amazon: no updateinfo files to parse');
      for (const file of files) {
        const label = path.basename(file);
        const release = /^amzn-(\d+)-updateinfo/.exec(label)?.[1];
        const fallback = release ? `amzn:${release}` : null;
        const updates = streamXmlElements(await openFeedFile(file, { maxBytes: options.maxFileBytes }), {
          maxElementsPerSubtree: 200_000,
          ...options.limits,
          label,
          select: (name, _attributes, p) => {
            if (p.length === 0 && name !== 'updates') throw new FeedParseError(`${label}: not an updateinfo document (root element <${name}>)`);
            return name === 'update' && p.length === 1;
          },
        });
        for await (const update of updates) yield* amazonUpdateRecords(update, fallback);
      }
    },
  };
}

async function fetchAmazon(context: FetchContext, releases: readonly AmazonRelease[]): Promise<Fetched | typeof UNCHANGED> {
  const previous = readState(context.previousFingerprint);
  const conditional = context.previousFingerprint !== null;
  const base = directoryUrl(context.url);
  const get = (url: string, name: string, validators: Fetched['validators'][string] | undefined): Promise<SpoolResult> =>
    downloadToSpool(context.http, url, context.spoolDir, name, validators, context.signal);
  const must = async (url: string, name: string, first: SpoolResult): Promise<SpoolResult & { file: string }> => {
    const r = first.file === null ? await get(url, name, undefined) : first;
    if (r.file === null) throw new Error(`${url} answered 304 Not Modified to a request without validators`);
    return r as SpoolResult & { file: string };
  };

  const validators: Fetched['validators'] = {};
  const plans: Array<{ release: string; mirror: string; updateinfo: string; declared: string | null; unchanged: boolean }> = [];
  for (const { release, mirrorList } of releases) {
    const before = previous[release];
    const listUrl = new URL(mirrorList, base).toString();
    const listName = `amzn-${release}-mirror.list`;
    let list = await get(listUrl, listName, conditional ? context.validators[listUrl] : undefined);
    let mirror: string;
    if (list.file === null && before) mirror = before.mirror;
    else {
      list = await must(listUrl, listName, list);
      mirror = firstMirror(await readSmall(list.file!, 1024 * 1024, listName), listName);
    }
    validators[listUrl] = { etag: list.etag, lastModified: list.lastModified };

    const repomdUrl = joinUrl(mirror, 'repodata/repomd.xml');
    const repomdName = `amzn-${release}-repomd.xml`;
    const sameMirror = before?.mirror === mirror;
    let repomd = await get(repomdUrl, repomdName, conditional && sameMirror ? context.validators[repomdUrl] : undefined);
    validators[repomdUrl] = { etag: repomd.etag, lastModified: repomd.lastModified };
    if (repomd.file === null && before && sameMirror) {
      plans.push({ release, mirror, updateinfo: before.updateinfo, declared: before.sha256, unchanged: true });
      continue;
    }
    repomd = await must(repomdUrl, repomdName, repomd);
    validators[repomdUrl] = { etag: repomd.etag, lastModified: repomd.lastModified };
    const entry = await readRepomdUpdateinfo(await openFeedFile(repomd.file!, { maxBytes: 16 * 1024 * 1024 }), repomdName);
    plans.push({ release, mirror, updateinfo: joinUrl(mirror, entry.location), declared: entry.sha256, unchanged: false });
  }
  if (plans.every((p) => p.unchanged)) return UNCHANGED;

  const state: Record<string, ReleaseState> = {};
  const files: string[] = [];
  for (const plan of plans) {
    const ext = /\.(gz|bz2|zst|xml)$/.exec(new URL(plan.updateinfo).pathname)?.[0] ?? '';
    const name = `amzn-${plan.release}-updateinfo.xml${ext === '.xml' ? '' : ext}`;
    const got = await must(plan.updateinfo, name, await get(plan.updateinfo, name, undefined));
    const sha256 = await sha256File(got.file);
    if (plan.declared !== null && !plan.unchanged && sha256 !== plan.declared) {
      throw new FeedParseError(`amazon ${plan.release}: ${plan.updateinfo} has sha256 ${sha256}, repomd.xml says ${plan.declared}`);
    }
    state[plan.release] = { mirror: plan.mirror, updateinfo: plan.updateinfo, sha256 };
    files.push(got.file);
  }
  const fingerprint = JSON.stringify({ v: 1, releases: Object.fromEntries(Object.entries(state).sort(([a], [b]) => a.localeCompare(b))) });
  if (fingerprint === context.previousFingerprint) return UNCHANGED;
  return { fingerprint, validators, files };
}

/** The `amazon` updater with default options. */
export const amazonUpdater: Updater = createAmazonUpdater();
