import type { Middleware } from 'koa';
import { jwtVerify } from 'jose';
import { UnauthorizedError } from '../../errors/app-error.ts';
import type { PskAuthConfig } from './auth-config.ts';
import type { AuthDeps, AuthHandle } from './auth-handle.ts';
import { bearerChallenge } from './bearer-challenge.ts';
import { fullAccess } from './full-access.ts';
import { readCredentials } from './read-credentials.ts';
import { MAX_TOKEN_CHARS } from './registry-token-verifier.ts';
import { TokenRejectedError } from './token-rejected-error.ts';
import { tokenRejectionOf } from './token-rejection-of.ts';

/**
 * `psk` mode, Clair's pre-shared key as Quay uses it: `Authorization: Bearer <JWT>` signed HS256
 * with the base64-decoded key (no other algorithm), `iss` in the allow-list (default `quay`),
 * `exp` required, `exp`/`nbf`/`iat` checked with the leeway (an `iat` in the future is refused).
 * A valid token grants everything (subject: its issuer); anything else is 401, `invalid_token`
 * with the reason for a bad token.
 */
export function pskAuth(config: PskAuthConfig, deps: AuthDeps): AuthHandle {
  const key = new Uint8Array(Buffer.from(config.key, 'base64'));
  const now = deps.now ?? Date.now;
  const invalidToken = { 'WWW-Authenticate': bearerChallenge({ error: 'invalid_token' }) };

  const verify = async (token: string): Promise<string> => {
    if (token.length > MAX_TOKEN_CHARS) throw new TokenRejectedError('malformed', 'token too long');
    const at = new Date(now());
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer: config.issuers,
        clockTolerance: config.leewaySeconds,
        requiredClaims: ['exp'],
        currentDate: at,
      });
      if (typeof payload.iat === 'number' && payload.iat > at.getTime() / 1000 + config.leewaySeconds) {
        throw new TokenRejectedError('issued in the future', `iat ${payload.iat}`);
      }
      return payload.iss as string;
    } catch (err) {
      throw tokenRejectionOf(err);
    }
  };

  const middleware: Middleware = async (ctx, next) => {
    const credentials = readCredentials(ctx.headers.authorization, invalidToken);
    if (credentials.kind !== 'bearer') {
      throw new UnauthorizedError('authentication required', { headers: { 'WWW-Authenticate': bearerChallenge({}) } });
    }
    let issuer: string;
    try {
      issuer = await verify(credentials.token);
    } catch (err) {
      if (!(err instanceof TokenRejectedError)) throw err;
      deps.logger.debug({ reason: err.reason, detail: err.detail, requestId: ctx.state.requestId }, 'auth psk refused');
      throw new UnauthorizedError(`invalid token: ${err.reason}`, { code: 'invalid_token', headers: invalidToken });
    }
    ctx.state.access = fullAccess('psk', issuer);
    await next();
  };

  return { mode: 'psk', middleware, insecure: false, close: async () => undefined };
}
