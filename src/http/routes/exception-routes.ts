import Router from '@koa/router';
import { BadRequestError } from '../../errors/app-error.ts';
import type { ExceptionService } from '../../exceptions/exception-service.ts';
import type { AuthHandle } from '../auth/auth-handle.ts';
import { readJsonBody } from '../read-json-body.ts';
import { requireFullAccess } from './require-full-access.ts';

export interface ExceptionRoutesDeps {
  service: ExceptionService;
  auth: AuthHandle;
  bodyLimitBytes: number;
}

/**
 * Exceptions (`/api/v1/exceptions`): `POST` accepts a finding until a date
 * (`{vulnerability, package?, repository?, image?, reason, expires, author?}`; the author is the
 * caller's subject when its credentials name one), `GET ?state=active|expired|deleted|all` lists
 * them, `GET /{id}` shows one, `DELETE /{id}` ends one early. Only callers with access to every
 * repository may call these (an exception hides findings from every reader of an image);
 * others see the exceptions that apply to their images in those images' reports.
 */
export function exceptionRoutes(deps: ExceptionRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const { service, auth } = deps;

  router.post('/exceptions', auth.middleware, async (ctx) => {
    const access = requireFullAccess(ctx, 'create exceptions');
    const created = await service.create(await readJsonBody(ctx, deps.bodyLimitBytes), access.subject);
    ctx.status = 201;
    ctx.set('Location', `/api/v1/exceptions/${created.id}`);
    ctx.body = created;
  });

  router.get('/exceptions', auth.middleware, async (ctx) => {
    requireFullAccess(ctx, 'list exceptions');
    const limit = ctx.query.limit === undefined ? undefined : Number(ctx.query.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) throw new BadRequestError('limit must be 1 to 1000');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = {
      items: await service.list({
        ...(typeof ctx.query.state === 'string' ? { state: ctx.query.state } : {}),
        ...(typeof ctx.query.vulnerability === 'string' ? { vulnerability: ctx.query.vulnerability } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    };
  });

  router.get('/exceptions/:id', auth.middleware, async (ctx) => {
    requireFullAccess(ctx, 'read exceptions');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await service.get(ctx.params.id!);
  });

  router.delete('/exceptions/:id', auth.middleware, async (ctx) => {
    const access = requireFullAccess(ctx, 'delete exceptions');
    await service.delete(ctx.params.id!, access.subject);
    ctx.status = 204;
  });
  return router;
}
