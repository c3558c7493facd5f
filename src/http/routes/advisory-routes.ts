import Router from '@koa/router';
import type { AdvisoryService, OsvInput } from '../../advisories/advisory-service.ts';
import { BadRequestError } from '../../errors/app-error.ts';
import type { AuthHandle } from '../auth/auth-handle.ts';
import { accessOf } from '../auth/access-of.ts';
import { readJsonBody } from '../read-json-body.ts';
import { requireFullAccess } from './require-full-access.ts';

export interface AdvisoryRoutesDeps {
  service: AdvisoryService;
  auth: AuthHandle;
  bodyLimitBytes: number;
}

/** Most OSV records in one `POST /api/v1/advisories?format=osv`. */
const MAX_OSV_DOCUMENTS = 1000;

/**
 * Custom advisories (`/api/v1/advisories`): any authenticated caller may read them (they describe
 * packages, not images, and reports already show their findings to whoever may read an image);
 * only callers with access to every repository may add (`POST`, or `POST ?format=osv` with an OSV
 * record or a list of them), change (`PUT /{id}`) or withdraw (`DELETE /{id}`) one. Bad input is a
 * 400 with `{code, message}` naming the field; nothing is stored then.
 */
export function advisoryRoutes(deps: AdvisoryRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const { service, auth } = deps;

  router.get('/advisories', auth.middleware, async (ctx) => {
    accessOf(ctx).assertAuthenticated();
    const state = ctx.query.state ?? 'active';
    if (state !== 'active' && state !== 'all') throw new BadRequestError('state must be active or all');
    const limit = ctx.query.limit === undefined ? undefined : Number(ctx.query.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) throw new BadRequestError('limit must be 1 to 500');
    const after = typeof ctx.query.after === 'string' ? ctx.query.after : undefined;
    const page = await service.list({ includeWithdrawn: state === 'all', ...(limit !== undefined ? { limit } : {}), ...(after !== undefined ? { after } : {}) });
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = { items: page.items, next: page.next === null ? null : `/api/v1/advisories?${new URLSearchParams({ state: String(state), after: page.next, ...(limit !== undefined ? { limit: String(limit) } : {}) })}` };
  });

  router.get('/advisories/:id', auth.middleware, async (ctx) => {
    accessOf(ctx).assertAuthenticated();
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await service.get(ctx.params.id!);
  });

  router.post('/advisories', auth.middleware, async (ctx) => {
    const access = requireFullAccess(ctx, 'write advisories');
    const body = await readJsonBody(ctx, deps.bodyLimitBytes);
    if (ctx.query.format === 'osv') {
      const list = Array.isArray(body) ? body : [body];
      if (list.length === 0 || list.length > MAX_OSV_DOCUMENTS) throw new BadRequestError(`expected 1 to ${MAX_OSV_DOCUMENTS} OSV records`, { code: 'invalid_advisory' });
      const inputs: OsvInput[] = list.map((value, i) => ({ name: Array.isArray(body) ? `/${i}` : 'body', value }));
      const result = await service.importOsv(inputs, access.subject, 'osv');
      ctx.status = 200;
      ctx.body = result;
      return;
    }
    if (ctx.query.format !== undefined && ctx.query.format !== 'lookout') throw new BadRequestError('format must be lookout (the default) or osv');
    const result = await service.add(body, access.subject, 'api');
    ctx.status = 201;
    ctx.set('Location', `/api/v1/advisories/${encodeURIComponent(result.advisory.id)}`);
    ctx.body = result;
  });

  router.put('/advisories/:id', auth.middleware, async (ctx) => {
    const access = requireFullAccess(ctx, 'write advisories');
    ctx.body = await service.replace(ctx.params.id!, await readJsonBody(ctx, deps.bodyLimitBytes), access.subject, 'api');
  });

  router.delete('/advisories/:id', auth.middleware, async (ctx) => {
    const access = requireFullAccess(ctx, 'withdraw advisories');
    ctx.body = await service.withdraw(ctx.params.id!, access.subject);
  });
  return router;
}
