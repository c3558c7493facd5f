import type { Middleware } from 'koa';
import type { Logger } from '../../log/create-logger.ts';
import type { AuthMode } from './auth-config.ts';

/**
 * One configured authentication: mount `middleware` on a route group (`router.use(auth.middleware)`);
 * it puts an `Access` on `ctx.state.access` or throws 401. `close()` releases connections at shutdown.
 */
export interface AuthHandle {
  readonly mode: AuthMode;
  readonly middleware: Middleware;
  /** True when the mode lets anyone read everything (`none`): the composition root must log a warning at start. */
  readonly insecure: boolean;
  close(): Promise<void>;
}

/** What the auth factories need. */
export interface AuthDeps {
  logger: Logger;
  /** Clock in milliseconds (tests move it); defaults to `Date.now`. */
  now?: () => number;
}
