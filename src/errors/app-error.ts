export interface AppErrorOptions {
  /** Whether `message` may be shown to the client; defaults to true for 4xx, false for 5xx. */
  expose?: boolean;
  cause?: unknown;
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`). */
  headers?: Record<string, string>;
}

/**
 * The one error type that crosses layers. The HTTP edge renders it as `{code, message}` with
 * `status`; a message is shown only when `expose` is true, otherwise the client sees a generic one.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
  }
}

/** 400: the request is malformed or fails validation. */
export class BadRequestError extends AppError {
  constructor(message: string, options?: AppErrorOptions & { code?: string }) {
    super(400, options?.code ?? 'bad_request', message, options);
  }
}

/** 401: no or invalid credentials. */
export class UnauthorizedError extends AppError {
  constructor(message = 'authentication required', options?: AppErrorOptions & { code?: string }) {
    super(401, options?.code ?? 'unauthorized', message, options);
  }
}

/** 403: authenticated but not allowed. */
export class ForbiddenError extends AppError {
  constructor(message = 'not allowed', options?: AppErrorOptions & { code?: string }) {
    super(403, options?.code ?? 'forbidden', message, options);
  }
}

/** 404: the resource does not exist (or the caller may not know that it does). */
export class NotFoundError extends AppError {
  constructor(message = 'not found', options?: AppErrorOptions & { code?: string }) {
    super(404, options?.code ?? 'not_found', message, options);
  }
}

/** 409: the request conflicts with stored state (e.g. a duplicate). */
export class ConflictError extends AppError {
  constructor(message: string, options?: AppErrorOptions & { code?: string }) {
    super(409, options?.code ?? 'conflict', message, options);
  }
}

/** 413: a body or upload is over its configured limit. */
export class PayloadTooLargeError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super(413, 'payload_too_large', message, options);
  }
}

/** 503: a dependency (database, registry) is unavailable; the client may retry. */
export class UnavailableError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super(503, 'unavailable', message, { expose: true, ...options });
  }
}

/** 500: a bug or an unexpected failure; its message is never shown to clients. */
export class InternalError extends AppError {
  constructor(message = 'internal error', options?: AppErrorOptions) {
    super(500, 'internal_error', message, { ...options, expose: false });
  }
}
