import type { AuthMode } from './auth-config.ts';

/** What a read check may tell the deciding registry (`registry-delegate` probes this manifest). */
export interface ReadCheckOptions {
  /** A tag or digest in the repository the route is about to show. */
  reference?: string;
}

/**
 * What the caller of one request may read, put on `ctx.state.access` by the auth middleware
 * (read it with `accessOf(ctx)`). Repositories are registry repository names (`team/app`).
 *
 * Routes that show one repository call `await access.assertRead(repository, { reference })`
 * before they look anything up: it throws 401 with a `WWW-Authenticate` challenge naming the
 * scope (so docker-style clients fetch a token and retry), or 403, or 503 when the deciding
 * registry cannot be asked.
 *
 * Routes that must not reveal whether something exists (an image addressed by digest, a list)
 * ask instead, and answer 404 (`NotFoundError`) for "not allowed" exactly as for "not there", so a
 * caller cannot probe for repositories it may not pull:
 *
 *   access.assertAuthenticated();                          // 401 challenge for anonymous callers
 *   const repositories = await images.repositoriesOf(digest);
 *   const visible = await filterReadable(access, repositories);
 *   if (visible.length === 0) throw new NotFoundError(`image ${digest} is not known`);
 *
 * A 503 from `mayRead`/`assertRead` must reach the caller as is: turning it into a 404 would
 * hide an outage as "not there".
 */
export interface Access {
  /** The mode that decided. */
  readonly mode: AuthMode;
  /**
   * Who the credentials name (a token's `sub`; in `registry-delegate` the Basic user or the
   * bearer token's `sub` as claimed, which the registry confirms on the first read check), or
   * null when unknown or anonymous.
   */
  readonly subject: string | null;
  /** True when every repository may be read (`psk`, `api-key`, `none`). */
  readonly all: boolean;
  /** True when no credentials came (only possible in the registry modes). */
  readonly anonymous: boolean;
  /**
   * True when answers need a round trip to the registry (`registry-delegate`): {@link canRead}
   * then only knows decisions already made; use {@link mayRead} or {@link assertRead}.
   */
  readonly lazy: boolean;
  /**
   * The repositories the credentials name, when the grant is such a list (a registry token's
   * `access` claims); null when every repository may be read ({@link all}) or the answer is only
   * known by asking ({@link lazy}).
   */
  readonly listed: ReadonlySet<string> | null;
  /** Whether `repository` may be read, as far as known without a round trip; false for an invalid name. */
  canRead(repository: string): boolean;
  /**
   * Whether `repository` may be read, asking the registry if needed. Rejects with a 400 for an
   * invalid name or reference and a 503 when the registry cannot answer (never "false" for that).
   */
  mayRead(repository: string, options?: ReadCheckOptions): Promise<boolean>;
  /** Resolves when `repository` may be read; otherwise rejects with the 401/403 the caller should get. */
  assertRead(repository: string, options?: ReadCheckOptions): Promise<void>;
  /** Throws the 401 challenge when no credentials came; returns otherwise. */
  assertAuthenticated(): void;
}
