import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { ImageStatusService, ImageStatus, StatusHead } from '../../api/image-status-service.ts';
import { BadRequestError, NotFoundError } from '../../errors/app-error.ts';
import { renderCycloneDx } from '../../matcher/format/cyclonedx.ts';
import { renderHtml } from '../../matcher/format/html.ts';
import { renderSarif } from '../../matcher/format/sarif.ts';
import { buildIndexReport, type ImageReport } from '../../matcher/image-report.ts';
import { parseSeverityList, type FindingFilter } from '../../matcher/report-filter.ts';
import { isDigest } from '../../oci/digest.ts';
import { renderCycloneDxVex } from '../../vex/render-cyclonedx-vex.ts';
import { renderOpenVex } from '../../vex/render-openvex.ts';
import type { AuthHandle } from '../auth/auth-handle.ts';
import { accessOf } from '../auth/access-of.ts';
import { filterReadable } from '../auth/filter-readable.ts';
import { OPENAPI_DOCUMENT } from '../openapi-document.ts';
import { readJsonBody } from '../read-json-body.ts';
import { BodyCache } from '../body-cache.ts';

/** Starts scans asked for through the API (`POST /api/v1/scans`). */
export interface ScanRequester {
  /** Resolves `registry/repo:tag|@digest` on a configured registry and queues it; the digest to poll. */
  request(image: string): Promise<{ digest: string; repository: string }>;
  /** The repository an image reference names (for the permission check before anything is fetched). */
  repositoryOf(image: string): string;
}

export interface ApiRoutesDeps {
  status: ImageStatusService;
  scans: ScanRequester;
  auth: AuthHandle;
  bodyLimitBytes: number;
  /** Longest `?wait=` a client may ask for. */
  maxWaitSeconds?: number;
  /** Bound of the serialized status documents kept by ETag. */
  bodyCacheBytes?: number;
}

const DEFAULT_BODY_CACHE_BYTES = 64 * 1024 * 1024;

const scanBody = z.strictObject({ image: z.string().min(1).max(1024) });

/** `?format=` of an image's status: the document, or its report in another format (VEX exports carry the decisions). */
const FORMATS = ['json', 'sarif', 'cyclonedx', 'html', 'openvex', 'cyclonedx-vex'];

/**
 * The native API (`/api/v1`) and the HTML report (`/images/{digest}`). Every response about an
 * image checks that the caller may read one of the repositories it is known under, and answers
 * 404 when not, so existence does not leak. Status documents carry an ETag; `If-None-Match` gives
 * 304, and `?wait=SECONDS` holds the request until the document changes.
 */
export function apiRoutes(deps: ApiRoutesDeps): Router {
  const router = new Router();
  const maxWait = deps.maxWaitSeconds ?? 60;
  const bodies = new BodyCache(deps.bodyCacheBytes ?? DEFAULT_BODY_CACHE_BYTES);

  router.get('/api/v1/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = OPENAPI_DOCUMENT;
  });

  const api = new Router({ prefix: '/api/v1' });
  api.use(deps.auth.middleware);

  api.get('/images/:digest', async (ctx) => {
    const digest = parseDigestParam(ctx.params.digest);
    const format = typeof ctx.query.format === 'string' ? ctx.query.format : 'json';
    if (!FORMATS.includes(format)) throw new BadRequestError(`unknown format ${format}: ${FORMATS.join(', ')}`);
    const vex = format === 'openvex' || format === 'cyclonedx-vex';
    // VEX exports carry the decisions, so they always hold the suppressed findings.
    const filter = findingFilter(ctx, vex);
    // The validator covers whether suppressed findings are shown.
    const variant = filter.includeSuppressed === true ? `${format};suppressed=include` : format;
    const wait = waitSeconds(ctx, maxWait);
    const read = async () => visibleHead(ctx, deps.status, digest);
    let head = await read();
    let etag = deps.status.etagOf(head, filter, variant);
    if (wait > 0 && ctx.get('if-none-match') === etag) {
      const deadline = Date.now() + wait * 1000;
      while (Date.now() < deadline && ctx.get('if-none-match') === etag && !ctx.req.destroyed) {
        await new Promise((r) => setTimeout(r, 250));
        head = await read();
        etag = deps.status.etagOf(head, filter, variant);
      }
    }
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', 'no-cache');
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    const render = async (): Promise<string> => {
      const document = await deps.status.document(head, filter);
      if (format === 'json') return JSON.stringify(document);
      const report = reportOf(document);
      if (!report) throw new NotFoundError(`image ${digest} has no report yet (status ${document.status})`, { code: 'report_not_ready' });
      if (format === 'sarif') return JSON.stringify(renderSarif(report));
      if (format === 'cyclonedx') return JSON.stringify(renderCycloneDx(report));
      const location = document.repositories[0];
      const repository = location ? location.repository : null;
      if (format === 'openvex') return JSON.stringify(renderOpenVex(report, { repository }));
      if (format === 'cyclonedx-vex') return JSON.stringify(renderCycloneDxVex(report, { repository }));
      return renderHtml(report);
    };
    ctx.type = format === 'html' ? 'text/html' : format === 'cyclonedx' || format === 'cyclonedx-vex' ? 'application/vnd.cyclonedx+json' : format === 'sarif' ? 'application/sarif+json' : 'application/json';
    ctx.body = await bodies.get(etag, render);
  });

  // Repository names hold slashes: `/repositories/team/app/tags/v1`.
  api.get('/repositories/*rest', async (ctx) => {
    const rest = pathParam(ctx.params.rest);
    const at = rest.lastIndexOf('/tags/');
    if (at <= 0) throw new NotFoundError(`no route for ${ctx.method} ${ctx.path}`, { code: 'route_not_found' });
    const repository = rest.slice(0, at);
    const tag = rest.slice(at + '/tags/'.length);
    const access = accessOf(ctx);
    await access.assertRead(repository, { reference: tag });
    const registry = typeof ctx.query.registry === 'string' ? ctx.query.registry : null;
    const found = await deps.status.tag(registry, repository, tag);
    if (!found) throw new NotFoundError(`tag ${repository}:${tag} is not known`);
    const status = await visibleStatus(ctx, deps.status, found.digest, findingFilter(ctx));
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = { registry: found.registry, repository, tag, digest: found.digest, status };
  });

  api.get('/images', async (ctx) => {
    const access = accessOf(ctx);
    access.assertAuthenticated();
    const limit = Math.min(200, Math.max(1, Number(ctx.query.limit ?? 50) || 50));
    const cursor = typeof ctx.query.cursor === 'string' ? Number.parseInt(ctx.query.cursor, 10) : undefined;
    if (cursor !== undefined && (!Number.isSafeInteger(cursor) || cursor <= 0)) throw new BadRequestError('cursor must come from a previous page');
    const severities = typeof ctx.query.severity === 'string' ? parseSeverityList(ctx.query.severity) : undefined;
    const page = await deps.status.list({
      ...(typeof ctx.query.repository === 'string' ? { repository: ctx.query.repository } : {}),
      ...(typeof ctx.query.tag === 'string' ? { tag: ctx.query.tag } : {}),
      ...(severities ? { severities } : {}),
      readable: (repo) => access.mayRead(repo),
      limit,
      ...(cursor !== undefined ? { cursor } : {}),
    });
    ctx.body = { items: page.items, next: page.next === null ? null : `/api/v1/images?${nextQuery(ctx, page.next)}` };
  });

  api.post('/scans', async (ctx) => {
    const parsed = scanBody.safeParse(await readJsonBody(ctx, deps.bodyLimitBytes));
    if (!parsed.success) throw new BadRequestError('expected {"image": "registry/repository:tag"}', { code: 'invalid_request' });
    const repository = deps.scans.repositoryOf(parsed.data.image);
    await accessOf(ctx).assertRead(repository);
    const { digest } = await deps.scans.request(parsed.data.image);
    ctx.status = 202;
    ctx.set('Location', `/api/v1/images/${digest}`);
    ctx.body = { digest, status: `/api/v1/images/${digest}`, report: `/images/${digest}` };
  });

  router.use(api.routes());

  // The human-readable report, for browsers.
  // Auth on the route itself: router-level `use` on an unprefixed router would run on every route.
  const html = new Router();
  html.get('/images/:digest', deps.auth.middleware, async (ctx) => {
    const digest = parseDigestParam(ctx.params.digest);
    const document = await visibleStatus(ctx, deps.status, digest, findingFilter(ctx));
    const report = reportOf(document);
    ctx.set('Cache-Control', 'no-cache');
    if (!report) {
      ctx.status = 202;
      ctx.type = 'text/html';
      ctx.body = `<!doctype html><meta charset="utf-8"><title>Lookout</title><p>Image ${digest} is ${document.status}. Reload in a moment.</p>`;
      return;
    }
    ctx.type = 'text/html';
    ctx.body = renderHtml(report);
  });
  router.use(html.routes());
  return router;
}

/** A wildcard parameter (segments or one string) as one path. */
function pathParam(value: unknown): string {
  return Array.isArray(value) ? value.join('/') : String(value ?? '');
}

function parseDigestParam(value: string | undefined): string {
  if (!isDigest(value)) throw new BadRequestError('not a valid sha256/sha512 digest', { code: 'invalid_digest' });
  return value;
}

function findingFilter(ctx: Context, includeSuppressed = false): FindingFilter {
  const filter: FindingFilter = {};
  // `?suppressed=include`: findings a VEX statement or an exception suppressed stay, with why.
  if (ctx.query.suppressed === 'include' || includeSuppressed) filter.includeSuppressed = true;
  else if (ctx.query.suppressed !== undefined && ctx.query.suppressed !== 'exclude') throw new BadRequestError('suppressed must be include or exclude');
  if (typeof ctx.query.severity === 'string' && ctx.query.severity !== '') filter.severities = parseSeverityList(ctx.query.severity);
  if (ctx.query.fixable === 'true') filter.fixable = true;
  else if (ctx.query.fixable === 'false') filter.fixable = false;
  else if (ctx.query.fixable !== undefined) throw new BadRequestError('fixable must be true or false');
  return filter;
}

function waitSeconds(ctx: Context, max: number): number {
  if (ctx.query.wait === undefined) return 0;
  const wait = Number(ctx.query.wait);
  if (!Number.isFinite(wait) || wait < 0) throw new BadRequestError('wait must be a number of seconds');
  return Math.min(wait, max);
}

/**
 * What decides the image's status, narrowed to the repositories the caller may read (its platform
 * images' too); 404 when it is in none of them, as when it is not known.
 */
async function visibleHead(ctx: Context, service: ImageStatusService, digest: string): Promise<StatusHead> {
  const access = accessOf(ctx);
  if (!access.all) access.assertAuthenticated();
  const head = await service.head(digest);
  if (!head) throw new NotFoundError(`image ${digest} is not known`);
  if (!access.all) {
    const all = [...new Set([head, ...(head.children ?? [])].flatMap((h) => h.locations.map((l) => l.repository)))];
    const visible = new Set(await filterReadable(access, all));
    if (!head.locations.some((l) => visible.has(l.repository))) throw new NotFoundError(`image ${digest} is not known`);
    for (const h of [head, ...(head.children ?? [])]) h.locations = h.locations.filter((l) => visible.has(l.repository));
  }
  return head;
}

/** The status document, if the caller may read one of the repositories it is known under; 404 otherwise. */
async function visibleStatus(ctx: Context, service: ImageStatusService, digest: string, filter: FindingFilter): Promise<ImageStatus> {
  return service.document(await visibleHead(ctx, service, digest), filter);
}

function reportOf(status: ImageStatus): ImageReport | ReturnType<typeof buildIndexReport> | null {
  if (status.kind === 'image') return status.report;
  if (status.kind !== 'index' || !status.manifests) return null;
  const reports = status.manifests.map((m) => m.report).filter((r): r is ImageReport => r !== null);
  if (reports.length === 0) return null;
  return buildIndexReport({
    digest: status.digest,
    mediaType: status.mediaType,
    generation: Math.max(...reports.map((r) => r.vulnerabilityDatabase.generation)),
    generatedAt: new Date(),
    manifests: reports,
  });
}

function nextQuery(ctx: Context, cursor: number): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(ctx.query)) if (typeof v === 'string' && k !== 'cursor') params.set(k, v);
  params.set('cursor', String(cursor));
  return params.toString();
}
