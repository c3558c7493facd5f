import type { Middleware } from 'koa';
import { UnauthorizedError } from '../../errors/app-error.ts';
import { isRepositoryName } from '../../registry/image-reference.ts';
import type { Access } from './access.ts';
import { assertRepositoryName } from './assert-repository-name.ts';
import type { RegistryTokenAuthConfig } from './auth-config.ts';
import type { AuthDeps, AuthHandle } from './auth-handle.ts';
import { bearerChallenge, pullScope } from './bearer-challenge.ts';
import { readCredentials } from './read-credentials.ts';
import { createRegistryTokenVerifier, type VerifiedRegistryToken } from './registry-token-verifier.ts';
import { TokenRejectedError } from './token-rejected-error.ts';

/**
 * `registry-token` mode: callers send the JWT their registry's token service issued
 * (`Authorization: Bearer <jwt>`). A valid token gives an {@link Access} reading exactly the
 * repositories it may pull; a bad one is 401 `invalid_token` with a challenge
 * (`Bearer realm=…,service=…,error="invalid_token"`) and the reason in the message. Without a
 * token the request goes on anonymously: `assertRead(repo)` then answers 401 with
 * `scope="repository:<repo>:pull"`, so docker-style clients fetch a token and retry; a token
 * lacking the scope gets 401 `insufficient_scope` (as the registry answers). Throws at creation
 * when the keys cannot be read.
 */
export function registryTokenAuth(config: RegistryTokenAuthConfig, deps: AuthDeps): AuthHandle {
  const verifier = createRegistryTokenVerifier(config, deps.now === undefined ? {} : { now: deps.now });
  const base = { realm: config.realm, service: config.service[0]! };
  const invalidToken = { 'WWW-Authenticate': bearerChallenge({ ...base, error: 'invalid_token' }) };

  const middleware: Middleware = async (ctx, next) => {
    const credentials = readCredentials(ctx.headers.authorization, invalidToken);
    let token: VerifiedRegistryToken | null = null;
    if (credentials.kind === 'bearer') {
      try {
        token = await verifier.verify(credentials.token);
      } catch (err) {
        if (!(err instanceof TokenRejectedError)) throw err;
        deps.logger.debug({ reason: err.reason, detail: err.detail, requestId: ctx.state.requestId }, 'auth token refused');
        throw new UnauthorizedError(`invalid token: ${err.reason}`, { code: 'invalid_token', headers: invalidToken });
      }
    }
    ctx.state.access = tokenAccess(token, base);
    await next();
  };

  return { mode: 'registry-token', middleware, insecure: false, close: async () => undefined };
}

/** The access a verified token (or no token, `null`) gives. */
function tokenAccess(token: VerifiedRegistryToken | null, base: { realm: string; service: string }): Access {
  const readable = token?.readable ?? new Set<string>();
  const anonymous = token === null;
  const refuse = (repository: string): UnauthorizedError =>
    anonymous
      ? new UnauthorizedError('authentication required', { headers: { 'WWW-Authenticate': bearerChallenge({ ...base, scope: pullScope(repository) }) } })
      : new UnauthorizedError(`the token does not grant pull on ${repository}`, {
          code: 'insufficient_scope',
          headers: { 'WWW-Authenticate': bearerChallenge({ ...base, scope: pullScope(repository), error: 'insufficient_scope' }) },
        });
  return {
    mode: 'registry-token',
    subject: token?.subject ?? null,
    all: false,
    anonymous,
    lazy: false,
    listed: readable,
    canRead: (repository) => isRepositoryName(repository) && readable.has(repository),
    mayRead: async (repository) => {
      assertRepositoryName(repository);
      return readable.has(repository);
    },
    assertRead: async (repository) => {
      assertRepositoryName(repository);
      if (!readable.has(repository)) throw refuse(repository);
    },
    assertAuthenticated: () => {
      if (anonymous) throw new UnauthorizedError('authentication required', { headers: { 'WWW-Authenticate': bearerChallenge(base) } });
    },
  };
}
