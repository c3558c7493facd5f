import getRawBody from 'raw-body';
import type { Context } from 'koa';
import { BadRequestError, PayloadTooLargeError } from '../errors/app-error.ts';

/**
 * Reads the request body as bytes, refusing more than `limitBytes` (413, before reading when the
 * declared length says so) and an empty body (400). For documents parsed with positions of their
 * own (VEX), where `readJsonBody`'s parse error would not say where the problem is.
 */
export async function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new PayloadTooLargeError(`request body of ${declared} bytes is over the limit of ${limitBytes}`);
  }
  let raw: Buffer;
  try {
    raw = await getRawBody(ctx.req, { limit: limitBytes });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') throw new PayloadTooLargeError(`request body is over the limit of ${limitBytes} bytes`, { cause: err });
    throw err;
  }
  if (raw.length === 0) throw new BadRequestError('request body is empty', { code: 'invalid_json' });
  return raw;
}
