import Router from '@koa/router';
import type { IntakeService } from '../../intake/intake-service.ts';
import type { WebhookSource } from '../../intake/registry-event.ts';
import { readJsonBody } from '../read-json-body.ts';

const SOURCES: readonly WebhookSource[] = ['distribution', 'harbor', 'quay'];

/**
 * `POST /webhooks/{distribution|harbor|quay}/:registry`: authenticate (before reading the body),
 * parse, store durably with the job, answer 202 `{accepted, duplicates, ignored}`.
 */
export function webhookRoutes(deps: { intake: IntakeService; bodyLimitBytes: number }): Router {
  const router = new Router({ prefix: '/webhooks' });
  for (const source of SOURCES) {
    router.post(`/${source}/:registry`, async (ctx) => {
      const registry = deps.intake.authenticate(source, ctx.params.registry!, {
        headers: ctx.headers as Record<string, string | undefined>,
        query: Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])),
      });
      const body = await readJsonBody(ctx, deps.bodyLimitBytes);
      const result = await deps.intake.receive(source, registry, body);
      ctx.status = 202;
      ctx.body = result;
    });
  }
  return router;
}
