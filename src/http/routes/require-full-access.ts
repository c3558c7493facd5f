import type { Context } from 'koa';
import { ForbiddenError } from '../../errors/app-error.ts';
import type { Access } from '../auth/access.ts';
import { accessOf } from '../auth/access-of.ts';

/**
 * The caller's access when it reaches every repository (`api-key`, `psk`, `none`): operator data
 * (advisories, VEX documents, exceptions) changes what every reader of an image sees, so only
 * such callers may write it. Anonymous callers get the 401 challenge, others a 403 naming `what`.
 */
export function requireFullAccess(ctx: Context, what: string): Access {
  const access = accessOf(ctx);
  access.assertAuthenticated();
  if (!access.all) throw new ForbiddenError(`only callers with access to every repository may ${what}`, { code: 'full_access_required' });
  return access;
}
