import { z } from 'zod';
import { BadRequestError } from '../errors/app-error.ts';
import type { ClairManifest } from './clair-types.ts';
import type { CompatLimits } from './compat-limits.ts';

/** A digest as Clair's schema allows it (sha256, or sha512). */
export const CLAIR_DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const HEADER_NAME = /^[A-Za-z0-9_-]{1,128}$/;
/** Headers that describe the connection, not the request: never forwarded from a manifest. */
const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-connection', 'expect']);

/** Whether `value` is a digest Clair's schema accepts. */
export function isClairDigest(value: unknown): boolean {
  return typeof value === 'string' && CLAIR_DIGEST.test(value);
}

/**
 * Validates the body of `POST /indexer/api/v1/index_report` as Clair does: `hash` a digest,
 * at least one layer, each with a digest and a URI; header names as the schema allows them, hop-by-hop
 * headers dropped. Anything else (or over `limits`) is a 400 naming the first problem.
 */
export function parseClairManifest(body: unknown, limits: Pick<CompatLimits, 'maxLayers' | 'maxLayerHeaders' | 'maxLayerUriChars' | 'maxHeaderValueChars'>): ClairManifest {
  const header = z.array(z.string().max(limits.maxHeaderValueChars)).max(limits.maxLayerHeaders);
  const layer = z.object({
    hash: z.string().regex(CLAIR_DIGEST, 'must be a sha256 or sha512 digest'),
    uri: z.string().min(1, 'is required').max(limits.maxLayerUriChars),
    headers: z
      .record(z.string(), header)
      .nullish()
      .refine((h) => h == null || Object.keys(h).length <= limits.maxLayerHeaders, `has more than ${limits.maxLayerHeaders} headers`),
    media_type: z.string().max(256).optional(),
  });
  const schema = z.object({
    hash: z.string().min(1, 'is required').regex(CLAIR_DIGEST, 'must be a sha256 or sha512 digest'),
    layers: z.array(layer).min(1, 'must list at least one layer').max(limits.maxLayers, `lists more than ${limits.maxLayers} layers`),
  });
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'manifest';
    throw new BadRequestError(`invalid manifest: ${where} ${issue.code === 'invalid_type' ? `must be ${describeExpected(issue)}` : issue.message}`, { code: 'bad-request' });
  }
  return {
    hash: parsed.data.hash,
    layers: parsed.data.layers.map((l, i) => {
      const headers: Record<string, string[]> = {};
      for (const [name, values] of Object.entries(l.headers ?? {})) {
        if (!HEADER_NAME.test(name)) throw new BadRequestError(`invalid manifest: layers.${i}.headers: ${JSON.stringify(name.slice(0, 60))} is not a header name`, { code: 'bad-request' });
        if (HOP_BY_HOP.has(name.toLowerCase())) continue;
        if (values.some((v) => /[\r\n\0]/.test(v))) throw new BadRequestError(`invalid manifest: layers.${i}.headers.${name} has a control character`, { code: 'bad-request' });
        headers[name] = values;
      }
      return { hash: l.hash, uri: l.uri, headers, ...(l.media_type !== undefined ? { media_type: l.media_type } : {}) };
    }),
  };
}

function describeExpected(issue: z.core.$ZodIssue): string {
  return 'expected' in issue && typeof issue.expected === 'string' ? `a${/^[aeiou]/.test(issue.expected) ? 'n' : ''} ${issue.expected}` : 'of another type';
}
