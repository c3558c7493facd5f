import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from '../log/create-logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { accessLog } from './middleware/access-log.ts';
import { bodyLimit } from './middleware/body-limit.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { requestId } from './middleware/request-id.ts';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  trustProxy: boolean;
  /** Route groups, mounted in order; each part contributes its own router. */
  routers: Router[];
}

/**
 * The Koa application: request id → access log and metrics → error rendering → body limit →
 * routes. Built only by the composition root; handlers get their services by closure, never from
 * `app.context`.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy });
  app.silent = true;
  app.on('error', (err: unknown) => deps.logger.error({ err }, 'http server error'));
  app.use(requestId());
  app.use(accessLog(deps.logger, deps.metrics));
  app.use(errorHandler(deps.logger));
  app.use(bodyLimit(deps.bodyLimitBytes));
  const root = new Router();
  for (const router of deps.routers) root.use(router.routes());
  app.use(root.routes());
  app.use(root.allowedMethods());
  return app;
}
