import Router from '@koa/router';
import type { SubscriptionService } from '../../api/subscription-service.ts';
import type { AuthHandle } from '../auth/auth-handle.ts';
import { accessOf } from '../auth/access-of.ts';
import { readJsonBody } from '../read-json-body.ts';

export interface SubscriptionRoutesDeps {
  service: SubscriptionService;
  auth: AuthHandle;
  bodyLimitBytes: number;
}

/**
 * Subscriptions (`POST|GET /api/v1/subscriptions`, `GET|DELETE /api/v1/subscriptions/{id}`) and
 * their deliveries (`GET /api/v1/notifications?state=&subscription=&before=&limit=`,
 * `GET /api/v1/notifications/{id}`, `POST /api/v1/notifications/{id}/retry`), behind the API's
 * auth; {@link SubscriptionService} decides who sees what.
 */
export function subscriptionRoutes(deps: SubscriptionRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const { service, auth } = deps;

  router.post('/subscriptions', auth.middleware, async (ctx) => {
    const { subscription, secret } = await service.create(accessOf(ctx), await readJsonBody(ctx, deps.bodyLimitBytes));
    ctx.status = 201;
    ctx.set('Location', subscription.links.self);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = secret === null ? subscription : { ...subscription, secret };
  });
  router.get('/subscriptions', auth.middleware, async (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = { items: await service.list(accessOf(ctx)) };
  });
  router.get('/subscriptions/:id', auth.middleware, async (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await service.get(accessOf(ctx), ctx.params.id!);
  });
  router.delete('/subscriptions/:id', auth.middleware, async (ctx) => {
    await service.delete(accessOf(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  router.get('/notifications', auth.middleware, async (ctx) => {
    const { items, before } = await service.deliveries(accessOf(ctx), ctx.query);
    let next: string | null = null;
    if (before !== null) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(ctx.query)) if (typeof v === 'string' && k !== 'before') params.set(k, v);
      params.set('before', before);
      next = `/api/v1/notifications?${params}`;
    }
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = { items, next };
  });
  router.get('/notifications/:id', auth.middleware, async (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await service.delivery(accessOf(ctx), ctx.params.id!);
  });
  router.post('/notifications/:id/retry', auth.middleware, async (ctx) => {
    ctx.status = 202;
    ctx.body = await service.retry(accessOf(ctx), ctx.params.id!);
  });
  return router;
}
