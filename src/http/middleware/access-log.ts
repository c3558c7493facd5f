import type { Middleware } from 'koa';
import type { Logger } from '../../log/create-logger.ts';
import type { Metrics } from '../../metrics/metrics.ts';

/**
 * One structured line per request (`http request`) and the HTTP metrics. It logs the path, never
 * the query string (webhook tokens may ride in it), and the matched route pattern as the metric label.
 */
export function accessLog(logger: Logger, metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? '(unmatched)';
      metrics.httpRequest(ctx.method, route, ctx.status, seconds);
      const level = ctx.status >= 500 ? 'error' : 'info';
      logger[level](
        {
          requestId: ctx.state.requestId,
          method: ctx.method,
          path: ctx.path,
          route,
          status: ctx.status,
          ms: Math.round(seconds * 10_000) / 10,
          length: ctx.response.length,
        },
        'http request',
      );
    }
  };
}
