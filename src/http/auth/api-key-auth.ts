import type { Middleware } from 'koa';
import { UnauthorizedError } from '../../errors/app-error.ts';
import type { ApiKeyAuthConfig } from './auth-config.ts';
import type { AuthDeps, AuthHandle } from './auth-handle.ts';
import { constantTimeEqual } from './constant-time-equal.ts';
import { fullAccess } from './full-access.ts';
import { readCredentials } from './read-credentials.ts';

/** The header Harbor sends the scanner-adapter credential in, when registered with that auth type. */
export const API_KEY_HEADER = 'x-scanneradapter-api-key';
const MAX_KEY_CHARS = 1024;

/**
 * `api-key` mode for the Harbor scanner adapter: the key comes in `X-ScannerAdapter-API-Key` or as
 * `Authorization: Bearer <key>`, and is compared with every configured key in constant time.
 * A match grants everything; a missing or wrong key is 401.
 */
export function apiKeyAuth(config: ApiKeyAuthConfig, deps: AuthDeps): AuthHandle {
  const challenge = { 'WWW-Authenticate': 'Bearer' };
  const middleware: Middleware = async (ctx, next) => {
    let given = ctx.get(API_KEY_HEADER);
    if (given === '') {
      const credentials = readCredentials(ctx.headers.authorization, challenge);
      if (credentials.kind === 'bearer') given = credentials.token;
    }
    if (given === '') throw new UnauthorizedError('an API key is required', { headers: challenge });
    let match = false;
    if (given.length <= MAX_KEY_CHARS) {
      for (const key of config.keys) match = constantTimeEqual(given, key) || match;
    }
    if (!match) {
      deps.logger.debug({ requestId: ctx.state.requestId }, 'auth api key refused');
      throw new UnauthorizedError('the API key is not valid', { code: 'invalid_token', headers: challenge });
    }
    ctx.state.access = fullAccess('api-key', null);
    await next();
  };
  return { mode: 'api-key', middleware, insecure: false, close: async () => undefined };
}
