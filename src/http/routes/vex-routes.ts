import Router from '@koa/router';
import { BadRequestError } from '../../errors/app-error.ts';
import { VEX_FORMATS, type VexFormat } from '../../vex/parsed-vex.ts';
import { VexService } from '../../vex/vex-service.ts';
import type { AuthHandle } from '../auth/auth-handle.ts';
import { readRawBody } from '../read-raw-body.ts';
import { requireFullAccess } from './require-full-access.ts';

export interface VexRoutesDeps {
  service: VexService;
  auth: AuthHandle;
  /** The API's body limit; a document is also bounded by the service's `maxBytes`. */
  bodyLimitBytes: number;
}

/**
 * VEX documents (`/api/v1/vex`): `POST` imports one (OpenVEX, CycloneDX VEX or CSAF VEX, told
 * apart by content or `?format=`) for one image (`?image=sha256:…`), repositories matching a glob
 * (`?repository=team/*`) or everywhere (no scope); `GET` lists them, `GET /{id}` shows one with its
 * statements, `DELETE /{id}` removes one. A VEX decision changes what every reader of an image
 * sees, so only callers with access to every repository may call these; others see the decisions
 * that apply to their images in those images' reports (`?suppressed=include`). A malformed
 * document is a 400 naming where the problem is, and nothing is stored.
 */
export function vexRoutes(deps: VexRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const { service, auth } = deps;
  const limit = Math.min(deps.bodyLimitBytes, service.documentLimits.maxBytes);

  router.post('/vex', auth.middleware, async (ctx) => {
    const access = requireFullAccess(ctx, 'import VEX documents');
    const format = ctx.query.format;
    if (format !== undefined && (typeof format !== 'string' || !(VEX_FORMATS as readonly string[]).includes(format))) throw new BadRequestError(`format must be one of ${VEX_FORMATS.join(', ')}`);
    const one = (v: unknown, name: string): string | undefined => {
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw new BadRequestError(`give ${name} once`);
      return v;
    };
    const image = one(ctx.query.image, 'image');
    const repository = one(ctx.query.repository, 'repository');
    const scope = VexService.scope({ ...(image !== undefined ? { image } : {}), ...(repository !== undefined ? { repository } : {}) });
    const body = await readRawBody(ctx, limit);
    const result = await service.import(body, { scope, importedBy: access.subject, ...(format !== undefined ? { format: format as VexFormat } : {}) });
    ctx.status = 201;
    ctx.set('Location', `/api/v1/vex/${result.document.id}`);
    ctx.body = result;
  });

  router.get('/vex', auth.middleware, async (ctx) => {
    requireFullAccess(ctx, 'list VEX documents');
    const n = ctx.query.limit === undefined ? undefined : Number(ctx.query.limit);
    if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 200)) throw new BadRequestError('limit must be 1 to 200');
    const before = typeof ctx.query.before === 'string' ? ctx.query.before : undefined;
    const page = await service.list({ ...(n !== undefined ? { limit: n } : {}), ...(before !== undefined ? { before } : {}) });
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = { items: page.items, next: page.next === null ? null : `/api/v1/vex?before=${page.next}${n !== undefined ? `&limit=${n}` : ''}` };
  });

  router.get('/vex/:id', auth.middleware, async (ctx) => {
    requireFullAccess(ctx, 'read VEX documents');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await service.get(ctx.params.id!);
  });

  router.delete('/vex/:id', auth.middleware, async (ctx) => {
    requireFullAccess(ctx, 'delete VEX documents');
    await service.delete(ctx.params.id!);
    ctx.status = 204;
  });
  return router;
}
