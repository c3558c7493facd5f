import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import { Agent, type Dispatcher } from 'undici';
import { ForbiddenError, UnauthorizedError, UnavailableError } from '../../errors/app-error.ts';
import { isRepositoryName } from '../../registry/image-reference.ts';
import type { Access, ReadCheckOptions } from './access.ts';
import { assertReference, assertRepositoryName } from './assert-repository-name.ts';
import { claimedSubject } from './claimed-subject.ts';
import type { RegistryDelegateAuthConfig } from './auth-config.ts';
import type { AuthDeps, AuthHandle } from './auth-handle.ts';
import { probeRegistryRead } from './probe-registry-read.ts';
import { readCredentials } from './read-credentials.ts';
import { TtlCache } from './ttl-cache.ts';

/** A registry's answer to "may these credentials pull this repository". */
interface Decision {
  allowed: boolean;
  status: number;
  challenge: string | null;
}

/** What {@link registryDelegateAuth} needs beyond {@link AuthDeps}. */
export interface DelegateAuthDeps extends AuthDeps {
  /** The HTTP dispatcher to reach the registry (default: an undici Agent made from the config). */
  dispatcher?: Dispatcher;
}

/**
 * `registry-delegate` mode, for a registry whose signing keys are not known: the caller's
 * `Authorization` header (any scheme, or none for anonymous pulls) is forwarded to the configured
 * registry when a route asks (`assertRead`/`mayRead`), and the registry's answer decides: 2xx
 * allows; 401, 403 and 404 deny (401 passes the registry's challenge on, so clients learn where to
 * get a token; 403/404 become 403). Decisions are cached per (sha256 of the credential,
 * repository) for `cacheTtlSeconds` (a 404 for a reference only for that reference), at most
 * `cacheMaxEntries` of them; concurrent checks of one key share one request. 429, 5xx and network
 * failures are 503 and not cached.
 *
 * With a reference the check is `HEAD /v2/<repo>/manifests/<reference>`, which Distribution
 * reports as a `pull` event to its notification endpoints (filter `pull` actions there).
 */
export function registryDelegateAuth(config: RegistryDelegateAuthConfig, deps: DelegateAuthDeps): AuthHandle {
  const timeoutMs = Math.round(config.timeoutSeconds * 1000);
  const ownDispatcher =
    deps.dispatcher === undefined
      ? new Agent({ connect: { timeout: timeoutMs, rejectUnauthorized: !config.insecureTls }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 16 })
      : null;
  const dispatcher = deps.dispatcher ?? ownDispatcher!;
  const cache = new TtlCache<Decision>({
    ttlMs: config.cacheTtlSeconds * 1000,
    maxEntries: config.cacheMaxEntries,
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
  const inFlight = new Map<string, Promise<Decision>>();

  const decide = async (credential: string | undefined, credentialHash: string, repository: string, options: ReadCheckOptions = {}): Promise<Decision> => {
    assertRepositoryName(repository);
    if (options.reference !== undefined) assertReference(options.reference);
    const repoKey = `${credentialHash}\n${repository}`;
    const refKey = options.reference === undefined ? repoKey : `${repoKey}\n${options.reference}`;
    const cached = cache.get(repoKey) ?? cache.get(refKey);
    if (cached !== undefined) return cached;
    const running = inFlight.get(refKey);
    if (running !== undefined) return running;
    const ask = (async (): Promise<Decision> => {
      let answer;
      try {
        answer = await probeRegistryRead({ registryUrl: config.registryUrl, repository, reference: options.reference, authorization: credential, dispatcher, timeoutMs });
      } catch (err) {
        deps.logger.warn({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code }, repository }, 'auth delegate unavailable');
        throw new UnavailableError('the registry could not be asked for access', { cause: err });
      }
      const { status, challenge } = answer;
      deps.logger.debug({ repository, status }, 'auth delegate decision');
      if (status >= 200 && status < 300) {
        const decision = { allowed: true, status, challenge: null };
        cache.set(repoKey, decision);
        return decision;
      }
      if (status === 401 || status === 403 || status === 404) {
        const decision = { allowed: false, status, challenge };
        // a missing manifest says nothing about the rest of the repository
        cache.set(status === 404 ? refKey : repoKey, decision);
        return decision;
      }
      deps.logger.warn({ repository, status }, 'auth delegate unavailable');
      throw new UnavailableError(`the registry answered ${status} to the access check`);
    })();
    inFlight.set(refKey, ask);
    try {
      return await ask;
    } finally {
      inFlight.delete(refKey);
    }
  };

  const middleware: Middleware = async (ctx, next) => {
    const credentials = readCredentials(ctx.headers.authorization);
    const credential = credentials.kind === 'none' ? undefined : credentials.kind === 'bearer' ? `Bearer ${credentials.token}` : credentials.value;
    const credentialHash = createHash('sha256').update(credential ?? '').digest('hex');
    const access: Access = {
      mode: 'registry-delegate',
      subject: claimedSubject(credentials),
      all: false,
      anonymous: credential === undefined,
      lazy: true,
      listed: null,
      canRead: (repository) => isRepositoryName(repository) && cache.get(`${credentialHash}\n${repository}`)?.allowed === true,
      mayRead: async (repository, options) => (await decide(credential, credentialHash, repository, options)).allowed,
      assertRead: async (repository, options) => {
        const decision = await decide(credential, credentialHash, repository, options);
        if (decision.allowed) return;
        if (decision.status === 401) {
          throw new UnauthorizedError(`the registry refused the credentials for ${repository}`, {
            headers: decision.challenge === null ? {} : { 'WWW-Authenticate': decision.challenge },
          });
        }
        throw new ForbiddenError(`not allowed to read ${repository}`);
      },
      // the registry decides what anonymous callers may pull; there is nothing to check up front
      assertAuthenticated: () => undefined,
    };
    ctx.state.access = access;
    await next();
  };

  return {
    mode: 'registry-delegate',
    middleware,
    insecure: false,
    close: async () => {
      if (ownDispatcher !== null) await ownDispatcher.close();
    },
  };
}
