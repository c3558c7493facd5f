import { InternalError } from '../../errors/app-error.ts';
import type { Access } from './access.ts';

/**
 * The {@link Access} the auth middleware put on this request. Throws a 500 (never a grant) when
 * the route group has no auth middleware, so a wiring mistake fails closed.
 */
export function accessOf(ctx: { state: unknown }): Access {
  const access = (ctx.state as { access?: Access } | undefined)?.access;
  if (access === undefined || typeof access.assertRead !== 'function') {
    throw new InternalError('no authentication middleware on this route');
  }
  return access;
}
