import Router from '@koa/router';
import type { Readiness } from '../../app/readiness.ts';
import type { Metrics } from '../../metrics/metrics.ts';

/** `GET /healthz` (the process is up), `GET /readyz` (it can serve), `GET /metrics` (Prometheus). */
export function healthRoutes(deps: { readiness: Readiness; metrics: Metrics | null }): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const report = await deps.readiness.report();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = report.ready ? 200 : 503;
    ctx.body = { status: report.ready ? 'ready' : 'not ready', checks: report.checks };
  });
  const metrics = deps.metrics;
  if (metrics) {
    router.get('/metrics', async (ctx) => {
      ctx.set('Content-Type', metrics.contentType);
      ctx.body = await metrics.render();
    });
  }
  return router;
}
