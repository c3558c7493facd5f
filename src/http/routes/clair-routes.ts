import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { BadRequestError, ForbiddenError, NotFoundError } from '../../errors/app-error.ts';
import { etagMatches, type ClairIndexer } from '../../compat/clair-indexer.ts';
import type { ClairMatcher } from '../../compat/clair-matcher.ts';
import type { ClairNotifier } from '../../compat/clair-notifier.ts';
import { CLAIR_MEDIA_TYPES } from '../../compat/clair-types.ts';
import { COMPAT_LIMITS, type CompatLimits } from '../../compat/compat-limits.ts';
import { isClairDigest, parseClairManifest } from '../../compat/parse-clair-manifest.ts';
import type { Logger } from '../../log/create-logger.ts';
import type { AuthHandle } from '../auth/auth-handle.ts';
import { accessOf } from '../auth/access-of.ts';
import { toAppError } from '../middleware/error-handler.ts';
import { readJsonBody } from '../read-json-body.ts';

/** What the Clair v4-compatible routes need. */
export interface ClairRoutesDeps {
  indexer: ClairIndexer;
  matcher: ClairMatcher;
  notifier: ClairNotifier;
  /** The `auth.clair` group (Clair's PSK as Quay sends it, typically). */
  auth: AuthHandle;
  logger: Logger;
  limits?: Partial<CompatLimits>;
}

const CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  412: 'precondition-failed',
  413: 'bad-request',
  415: 'bad-request',
  429: 'too-many-requests',
};

/**
 * The Clair v4 API as Quay calls it: `/indexer/api/v1/index_report` (POST indexes and answers 201
 * with the IndexReport, `Location`, two `Link`s and the indexer state as `ETag`; 412 when
 * `If-None-Match` names the state the manifest is already indexed with; 429 when busy),
 * `GET|DELETE /indexer/api/v1/index_report/{digest}`, bulk `DELETE /indexer/api/v1/index_report`,
 * `GET /indexer/api/v1/index_state` (ETag, 304), `GET /matcher/api/v1/vulnerability_report/{digest}`
 * (200; 202 with no body before any vulnerability data exists; 404 when not indexed) and
 * `GET|DELETE /notifier/api/v1/notification/{id}` (`page_size`, `next`). Only service credentials
 * (an auth mode granting every repository) are accepted; others get 403. Errors, authentication
 * failures included, are Clair's `{code, message}` with Clair's codes (`bad-request`, `not-found`, …).
 */
export function clairRoutes(deps: ClairRoutesDeps): Router {
  const limits = { ...COMPAT_LIMITS, ...deps.limits };
  const { indexer, matcher, notifier } = deps;
  const router = new Router();
  // Scoped to Clair's paths: a router without a prefix would otherwise run these on every route
  // of the app once the routers are nested in one.
  const paths = ['/indexer', '/matcher', '/notifier'];
  router.use(paths, clairErrors(deps.logger));
  router.use(paths, deps.auth.middleware);
  router.use(paths, serviceOnly('Clair'));

  router.post('/indexer/api/v1/index_report', async (ctx) => {
    const manifest = parseClairManifest(await readJsonBody(ctx, limits.bodyBytes), limits);
    const ifNoneMatch = ctx.get('if-none-match');
    const result = await indexer.index(manifest, ifNoneMatch === '' ? {} : { ifNoneMatch });
    ctx.status = 201;
    ctx.set('Location', `/indexer/api/v1/index_report/${manifest.hash}`);
    ctx.set('Link', [
      `</indexer/api/v1/index_report/${manifest.hash}>; rel="https://projectquay.io/clair/v1/index_report"`,
      `</matcher/api/v1/vulnerability_report/${manifest.hash}>; rel="https://projectquay.io/clair/v1/vulnerability_report"`,
    ]);
    ctx.set('ETag', `"${result.indexerState ?? indexer.state()}"`);
    respond(ctx, CLAIR_MEDIA_TYPES.indexReport, result.report);
  });

  router.delete('/indexer/api/v1/index_report', async (ctx) => {
    const body = await readJsonBody(ctx, limits.bodyBytes);
    if (!Array.isArray(body)) throw new BadRequestError('the body must be a JSON array of manifest digests', { code: 'bad-request' });
    if (body.length > limits.maxBulkDelete) throw new BadRequestError(`at most ${limits.maxBulkDelete} digests per request`, { code: 'bad-request' });
    const bad = body.findIndex((d) => !isClairDigest(d));
    if (bad >= 0) throw new BadRequestError(`item ${bad} is not a manifest digest`, { code: 'bad-request' });
    respond(ctx, CLAIR_MEDIA_TYPES.bulkDelete, await indexer.delete(body as string[]));
  });

  router.get('/indexer/api/v1/index_report/:digest', async (ctx) => {
    const digest = digestParam(ctx);
    const found = await indexer.indexReport(digest);
    if (found === null) throw new NotFoundError(`index report for ${digest} not found`);
    if (found.indexerState !== null) {
      ctx.set('ETag', `"${found.indexerState}"`);
      if (notModified(ctx, found.indexerState)) return;
    }
    respond(ctx, CLAIR_MEDIA_TYPES.indexReport, found.report);
  });

  router.delete('/indexer/api/v1/index_report/:digest', async (ctx) => {
    await indexer.delete([digestParam(ctx)]);
    ctx.status = 204;
  });

  router.get('/indexer/api/v1/index_state', (ctx) => {
    const state = indexer.state();
    ctx.set('ETag', `"${state}"`);
    if (notModified(ctx, state)) return;
    respond(ctx, CLAIR_MEDIA_TYPES.indexState, { state });
  });

  router.get('/matcher/api/v1/vulnerability_report/:digest', async (ctx) => {
    const digest = digestParam(ctx);
    const outcome = await matcher.vulnerabilityReport(digest);
    if (outcome.kind === 'initializing') {
      ctx.status = 202;
      ctx.body = '';
      return;
    }
    if (outcome.kind === 'not-found') throw new NotFoundError(`no finished index report for ${digest}`);
    ctx.set('ETag', outcome.etag);
    if (etagMatches(ctx.get('if-none-match') || '\u0000', outcome.etag.replace(/^"|"$/g, ''))) {
      ctx.status = 304;
      return;
    }
    respond(ctx, CLAIR_MEDIA_TYPES.vulnerabilityReport, outcome.report);
  });

  router.get('/notifier/api/v1/notification/:id', async (ctx) => {
    const pageSize = pageSizeParam(ctx.query.page_size, limits);
    const next = single(ctx.query.next);
    const page = await notifier.page(ctx.params.id!, { pageSize, ...(next !== undefined && next !== '' ? { next } : {}) });
    if (page === null) throw new NotFoundError('notification not found');
    respond(ctx, CLAIR_MEDIA_TYPES.notificationPage, page);
  });

  router.delete('/notifier/api/v1/notification/:id', async (ctx) => {
    if (!(await notifier.delete(ctx.params.id!))) throw new NotFoundError('notification not found');
    ctx.status = 200;
    ctx.body = '';
  });

  return router;
}

/** Renders anything thrown below it as Clair's error body; unexposed (5xx) messages stay hidden. */
function clairErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = toAppError(err);
      if (e.status >= 500) logger.error({ err: e.cause ?? e, requestId: ctx.state.requestId }, 'clair request error');
      ctx.status = e.status;
      for (const [name, value] of Object.entries(e.headers)) ctx.set(name, value);
      ctx.type = CLAIR_MEDIA_TYPES.error;
      ctx.body = {
        code: CODES[e.status] ?? (e.status >= 500 ? 'internal-error' : 'bad-request'),
        message: e.expose ? e.message : `internal error (request ${String(ctx.state.requestId ?? 'unknown')})`,
      };
    }
  };
}

/** JSON in the Clair media type, or `application/json` when the client prefers it. */
function respond(ctx: Context, mediaType: string, body: unknown): void {
  const type = ctx.accepts(mediaType, 'application/json');
  ctx.type = typeof type === 'string' ? type : mediaType;
  ctx.body = body;
}

function notModified(ctx: Context, state: string): boolean {
  const given = ctx.get('if-none-match');
  if (given === '' || !etagMatches(given, state)) return false;
  ctx.status = 304;
  return true;
}

function digestParam(ctx: Context): string {
  const digest = (ctx.params as Record<string, string | undefined>).digest ?? '';
  if (!isClairDigest(digest)) throw new BadRequestError(`${JSON.stringify(digest.slice(0, 80))} is not a manifest digest`, { code: 'bad-request' });
  return digest;
}

function pageSizeParam(value: unknown, limits: Pick<CompatLimits, 'defaultPageSize' | 'maxPageSize'>): number {
  const raw = single(value);
  if (raw === undefined || raw === '') return limits.defaultPageSize;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new BadRequestError('page_size must be a positive integer', { code: 'bad-request' });
  return Math.min(n, limits.maxPageSize);
}

function single(value: unknown): string | undefined {
  return Array.isArray(value) ? (value[0] as string | undefined) : (value as string | undefined);
}

/**
 * The API serves every image by digest, so only callers whose credentials grant everything (a
 * pre-shared key, an API key, or auth `none`) may use it; a registry user's token is refused (403).
 */
function serviceOnly(api: string): Middleware {
  return async (ctx, next) => {
    if (!accessOf(ctx).all) throw new ForbiddenError(`the ${api} API needs service credentials (psk or api-key)`);
    await next();
  };
}
