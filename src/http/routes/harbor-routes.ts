import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { HarborAdapter, HarborReportType } from '../../compat/harbor-adapter.ts';
import { ForbiddenError } from '../../errors/app-error.ts';
import { HarborError } from '../../compat/harbor-error.ts';
import { HARBOR_MEDIA_TYPES, SBOM_MEDIA_TYPES, type SbomMediaType } from '../../compat/harbor-types.ts';
import { COMPAT_LIMITS, type CompatLimits } from '../../compat/compat-limits.ts';
import { normalizeMediaType, parseHarborScanRequest } from '../../compat/parse-harbor-scan-request.ts';
import type { Logger } from '../../log/create-logger.ts';
import type { AuthHandle } from '../auth/auth-handle.ts';
import { accessOf } from '../auth/access-of.ts';
import { toAppError } from '../middleware/error-handler.ts';
import { readJsonBody } from '../read-json-body.ts';

/** What the Harbor adapter routes need. */
export interface HarborRoutesDeps {
  adapter: HarborAdapter;
  /** The `auth.harbor` group (API key in `X-ScannerAdapter-API-Key` or `Authorization: Bearer`). */
  auth: AuthHandle;
  logger: Logger;
  /** Where the adapter is mounted (Harbor's registration URL is `<Lookout>/<prefix>`); default `/harbor`. */
  prefix?: string;
  limits?: Partial<CompatLimits>;
}

const RAW_REPORT = 'application/vnd.scanner.adapter.vuln.report.raw';

/**
 * Harbor's pluggable scanner API (spec v1.2) under `<prefix>/api/v1`: `GET /metadata`,
 * `POST /scan` (202 `{id}`), `GET /scan/{id}/report` (302 with `Refresh-After` until ready, 200
 * with the report in the media type asked for — vulnerability report 1.1, harbor+json 1.0, or the
 * SBOM report with `sbom_media_type` — 404 for an unknown id, 500 when the scan failed). Only
 * service credentials (an auth mode granting every repository) are accepted; others get 403. Every
 * error, authentication failures included, is `{"error":{"message"}}` in
 * `application/vnd.scanner.adapter.error+json; version=1.0`.
 */
export function harborRoutes(deps: HarborRoutesDeps): Router {
  const limits = { ...COMPAT_LIMITS, ...deps.limits };
  const prefix = (deps.prefix ?? '/harbor').replace(/\/+$/, '');
  const router = new Router({ prefix: `${prefix}/api/v1` });
  router.use(harborErrors(deps.logger));
  router.use(deps.auth.middleware);
  router.use(serviceOnly('Harbor adapter'));

  router.get('/metadata', async (ctx) => {
    const version = /version\s*=\s*1\.1/.test(ctx.get('accept')) ? '1.1' : '1.0';
    sendJson(ctx, `${HARBOR_MEDIA_TYPES.metadata}; version=${version}`, await deps.adapter.metadata());
  });

  router.post('/scan', async (ctx) => {
    const request = parseHarborScanRequest(await readJsonBody(ctx, limits.bodyBytes));
    const id = await deps.adapter.accept(request);
    ctx.status = 202;
    sendJson(ctx, HARBOR_MEDIA_TYPES.scanResponse, { id });
  });

  router.get('/scan/:id/report', async (ctx) => {
    const type = reportType(ctx.get('accept'), ctx.query.sbom_media_type);
    const outcome = await deps.adapter.report(ctx.params.id!, type);
    switch (outcome.kind) {
      case 'not-found':
        throw new HarborError(404, `scan request ${JSON.stringify(ctx.params.id!.slice(0, 80))} not found`);
      case 'pending':
        ctx.status = 302;
        ctx.set('Refresh-After', String(outcome.refreshAfterSeconds));
        ctx.body = '';
        return;
      case 'failed':
        throw new HarborError(500, outcome.message);
      case 'report':
        sendJson(ctx, outcome.mediaType, outcome.body);
    }
  });

  return router;
}

/** The report type an `Accept` header asks for (any or none: the 1.1 vulnerability report). */
function reportType(accept: string, sbomParam: unknown): HarborReportType {
  const asked = accept
    .split(',')
    .map((t) => normalizeMediaType(t.split(';').filter((p) => !/^\s*q\s*=/.test(p)).join(';')))
    .filter((t) => t !== '');
  if (asked.length === 0 || asked.includes('*/*')) return { kind: 'vulnerability', mediaType: HARBOR_MEDIA_TYPES.vulnerabilityReport };
  for (const type of asked) {
    if (type === HARBOR_MEDIA_TYPES.vulnerabilityReport || type === HARBOR_MEDIA_TYPES.harborReport) return { kind: 'vulnerability', mediaType: type };
    if (type === HARBOR_MEDIA_TYPES.sbomReport) {
      const sbom = Array.isArray(sbomParam) ? sbomParam[0] : sbomParam;
      if (typeof sbom !== 'string' || !(SBOM_MEDIA_TYPES as readonly string[]).includes(sbom)) {
        throw new HarborError(400, `sbom_media_type must be one of ${SBOM_MEDIA_TYPES.join(', ')}`);
      }
      return { kind: 'sbom', sbomMediaType: sbom as SbomMediaType };
    }
  }
  throw new HarborError(501, `report type ${JSON.stringify(asked[0]!.slice(0, 100))} is not produced${asked.includes(RAW_REPORT) ? ' (no raw report)' : ''}`);
}

/**
 * JSON in exactly `mediaType` (Koa would replace a media type without "json" in its name, such as
 * the 1.1 report's, by `application/json` for an object body).
 */
function sendJson(ctx: Context, mediaType: string, body: unknown): void {
  ctx.type = mediaType;
  ctx.body = JSON.stringify(body);
}

/** Renders anything thrown below it as the spec's error body and media type. */
function harborErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = toAppError(err);
      if (e.status >= 500 && !(e instanceof HarborError && e.expose)) logger.error({ err: e.cause ?? e, requestId: ctx.state.requestId }, 'harbor request error');
      ctx.status = e.status;
      for (const [name, value] of Object.entries(e.headers)) ctx.set(name, value);
      sendJson(ctx, HARBOR_MEDIA_TYPES.error, { error: { message: e.expose ? e.message : `internal error (request ${String(ctx.state.requestId ?? 'unknown')})` } });
    }
  };
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
