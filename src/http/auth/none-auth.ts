import type { Middleware } from 'koa';
import type { AuthHandle } from './auth-handle.ts';
import { fullAccess } from './full-access.ts';

/**
 * `none` mode, for development: every request reads everything. The handle says `insecure`, so
 * the composition root logs a warning at start.
 */
export function noneAuth(): AuthHandle {
  const middleware: Middleware = async (ctx, next) => {
    ctx.state.access = fullAccess('none', null);
    await next();
  };
  return { mode: 'none', middleware, insecure: true, close: async () => undefined };
}
