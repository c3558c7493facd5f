import type { Middleware } from 'koa';
import { AppError, InternalError, NotFoundError, PayloadTooLargeError, BadRequestError } from '../../errors/app-error.ts';
import { fromPgError } from '../../errors/from-pg-error.ts';
import type { Logger } from '../../log/create-logger.ts';

/** Errors from Koa, the router or raw-body carry an HTTP status and an `expose` flag. */
interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  message?: unknown;
  headers?: unknown;
}

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  411: 'length_required',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  501: 'not_implemented',
  503: 'unavailable',
};

/** Turns anything thrown into an {@link AppError}. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as HttpLikeError;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : null;
  if (status !== null && status >= 400 && status < 600) {
    if (e.type === 'entity.too.large') return new PayloadTooLargeError('request body is over the size limit', { cause: err });
    if (e.type === 'request.aborted') return new BadRequestError('request aborted by the client', { cause: err });
    const message = e.expose === true && typeof e.message === 'string' ? e.message : status < 500 ? 'request refused' : 'internal error';
    return new AppError(status, CODES[status] ?? (status < 500 ? 'bad_request' : 'internal_error'), message, {
      expose: status < 500,
      cause: err,
      headers: isHeaders(e.headers) ? e.headers : {},
    });
  }
  if (typeof (err as { code?: unknown })?.code === 'string') return fromPgError(err);
  return new InternalError('unexpected error', { cause: err });
}

function isHeaders(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}

/**
 * The one place errors become responses: `{code, message}` with the error's status. Unexposed
 * messages (5xx) are replaced by a generic one and the error is logged with the request id; the
 * client gets the id to quote. Unmatched routes end here as 404.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      const empty = ctx.body === undefined || ctx.body === null || ctx.body === '';
      if (empty && ctx.status === 404) {
        throw new NotFoundError(`no route for ${ctx.method} ${ctx.path}`, { code: 'route_not_found' });
      }
      if (empty && ctx.status === 405) {
        throw new AppError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
      }
      if (empty && ctx.status === 501) {
        throw new AppError(501, 'not_implemented', `${ctx.method} is not implemented`);
      }
    } catch (err) {
      const appError = toAppError(err);
      if (appError.status >= 500) {
        logger.error({ err: appError.cause ?? appError, requestId: ctx.state.requestId, code: appError.code }, 'http request error');
      }
      ctx.status = appError.status;
      for (const [name, value] of Object.entries(appError.headers)) ctx.set(name, value);
      ctx.body = {
        code: appError.code,
        message: appError.expose ? appError.message : `internal error (request ${ctx.state.requestId ?? 'unknown'})`,
      };
    }
  };
}
