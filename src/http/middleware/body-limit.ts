import type { Middleware } from 'koa';
import { PayloadTooLargeError } from '../../errors/app-error.ts';

/** Refuses, before any handler runs, a request whose declared `Content-Length` is over the limit. */
export function bodyLimit(limitBytes: number): Middleware {
  return async (ctx, next) => {
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > limitBytes) {
      ctx.set('Connection', 'close');
      throw new PayloadTooLargeError(`request body of ${declared} bytes is over the limit of ${limitBytes}`);
    }
    await next();
  };
}
