import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

const INBOUND_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Gives every request an id (a sane inbound `X-Request-Id` is kept) and echoes it in the response. */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const inbound = ctx.get('x-request-id');
    const id = INBOUND_ID.test(inbound) ? inbound : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}
