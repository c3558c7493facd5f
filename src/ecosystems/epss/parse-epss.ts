import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { EnrichmentRecord } from '../vulnerability-record.ts';

const CVE = /^CVE-\d{4}-\d{4,}$/;
const MAX_LINE = 1024;

/**
 * Splits a byte stream into lines (LF or CRLF), refusing a line longer than `maxLine` characters
 * so a file without line breaks cannot fill memory.
 */
export async function* lines(input: AsyncIterable<Buffer | string>, what: string, maxLine = MAX_LINE): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  let number = 0;
  const decode = (chunk: Buffer | string | undefined): string => {
    try {
      return chunk === undefined ? decoder.decode() : typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    } catch (err) {
      throw new FeedParseError(`${what}: not valid UTF-8 near line ${number + 1}`, { cause: err });
    }
  };
  for await (const chunk of input) {
    rest += decode(chunk);
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      number += 1;
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.length > maxLine) throw new FeedParseError(`${what}: line ${number} is longer than ${maxLine} characters`);
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
    }
    if (rest.length > maxLine) throw new FeedParseError(`${what}: line ${number + 1} is longer than ${maxLine} characters`);
  }
  rest += decode(undefined);
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/**
 * Parses an EPSS scores file: an optional `#model_version:…,score_date:…` comment line, the
 * `cve,epss,percentile` header, then one row per CVE → `epss` enrichments dated by `score_date`
 * (YYYY-MM-DD). Rows of the wrong shape, ids that are not CVEs, probabilities outside [0, 1], a
 * missing header or score date throw {@link FeedParseError} naming the line.
 */
export async function* parseEpss(input: AsyncIterable<Buffer | string>, what = 'EPSS scores'): AsyncGenerator<EnrichmentRecord> {
  let date: string | null = null;
  let header = false;
  let number = 0;
  for await (const raw of lines(input, what)) {
    number += 1;
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /score_date:(\d{4}-\d{2}-\d{2})/.exec(line);
      if (m) date = m[1]!;
      continue;
    }
    if (!header) {
      if (line.replace(/\s/g, '').toLowerCase() !== 'cve,epss,percentile') throw new FeedParseError(`${what}: line ${number} is not the cve,epss,percentile header`);
      if (date === null) throw new FeedParseError(`${what}: no score_date before the header`);
      header = true;
      continue;
    }
    const fields = line.split(',');
    const [cve, epss, percentile] = fields.map((f) => f.trim());
    const score = Number(epss);
    const pct = Number(percentile);
    if (fields.length !== 3 || !CVE.test(cve ?? '') || epss === '' || percentile === '' || !(score >= 0 && score <= 1) || !(pct >= 0 && pct <= 1)) {
      throw new FeedParseError(`${what}: line ${number} is not a cve,epss,percentile row: ${JSON.stringify(line.slice(0, 100))}`);
    }
    yield { kind: 'epss', vulnName: cve!, data: { score, percentile: pct, date: date! } };
  }
  if (!header) throw new FeedParseError(`${what}: no cve,epss,percentile header`);
}

/** Opens an EPSS file, gunzipping it when it starts with the gzip magic bytes. */
export async function epssInput(file: string): Promise<AsyncIterable<Buffer>> {
  const handle = await open(file, 'r');
  const magic = Buffer.alloc(2);
  try {
    await handle.read(magic, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return stream;
  const gunzip = createGunzip();
  stream.on('error', (err) => gunzip.destroy(err));
  return stream.pipe(gunzip);
}
