import { AppError } from '../errors/app-error.ts';

/**
 * What went wrong talking to a registry. `rate_limited`, `unavailable` and `timeout` are transient
 * (retry the job later); every other kind is permanent for the same input. `not_found` means the
 * manifest, blob or repository does not exist (treat as deleted).
 */
export type RegistryErrorKind =
  | 'unauthorized' // 401, or the token service refused the credentials
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'rate_limited' // 429 after the retries
  | 'unavailable' // 5xx after the retries, connection refused/reset, DNS failure
  | 'timeout' // connect, headers or body-idle timeout after the retries
  | 'digest_mismatch' // content does not hash to its digest, or its size differs from the descriptor
  | 'invalid_manifest' // manifest body is not a valid OCI/Docker manifest, or over the size limit
  | 'unsupported' // valid but not something this client handles (schema 1, unknown media type)
  | 'too_large' // a body over its configured limit
  | 'bad_response' // the server broke the protocol (bad Content-Range, bad token response, …)
  | 'not_allowed' // a URL this client refuses (unconfigured registry, scheme downgrade, foreign redirect)
  | 'invalid_reference' // a bad repository name, tag or digest given by the caller
  | 'aborted'; // the caller's signal fired

const TRANSIENT: ReadonlySet<RegistryErrorKind> = new Set(['rate_limited', 'unavailable', 'timeout']);

const STATUS: Record<RegistryErrorKind, number> = {
  unauthorized: 502,
  forbidden: 502,
  not_found: 404,
  rate_limited: 503,
  unavailable: 503,
  timeout: 504,
  digest_mismatch: 502,
  invalid_manifest: 502,
  unsupported: 422,
  too_large: 502,
  bad_response: 502,
  not_allowed: 400,
  invalid_reference: 400,
  aborted: 503,
};

export interface RegistryErrorOptions {
  cause?: unknown;
  /** The HTTP status the registry answered, when there was one. */
  httpStatus?: number;
  /** How long the registry asked to wait (`Retry-After`), in ms. */
  retryAfterMs?: number;
}

/**
 * An error from the registry client. Its message names the registry, the method and the path (never
 * credentials, query strings or Authorization values); `kind` says what happened and `retryable`
 * whether trying again later may help. As an {@link AppError} it renders as `registry_<kind>`.
 */
export class RegistryError extends AppError {
  readonly kind: RegistryErrorKind;
  /** True for transient failures (rate limiting, unavailability, timeouts). */
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(kind: RegistryErrorKind, message: string, options: RegistryErrorOptions = {}) {
    super(STATUS[kind], `registry_${kind}`, message, { expose: true, cause: options.cause });
    this.kind = kind;
    this.retryable = TRANSIENT.has(kind);
    this.httpStatus = options.httpStatus;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** True when `err` is a {@link RegistryError} of one of `kinds` (any kind when none is given). */
export function isRegistryError(err: unknown, ...kinds: RegistryErrorKind[]): err is RegistryError {
  return err instanceof RegistryError && (kinds.length === 0 || kinds.includes(err.kind));
}
