import getRawBody from 'raw-body';
import type { Context } from 'koa';
import { BadRequestError, PayloadTooLargeError } from '../errors/app-error.ts';

/**
 * Reads the request body as JSON whatever its content type (registries send vendor types such as
 * `application/vnd.docker.distribution.events.v1+json`), refusing more than `limitBytes` (413) and
 * anything that is not valid UTF-8 JSON (400, with the parser's reason).
 */
export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    throw new PayloadTooLargeError(`request body of ${declared} bytes is over the limit of ${limitBytes}`);
  }
  let raw: Buffer;
  try {
    raw = await getRawBody(ctx.req, { limit: limitBytes });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') {
      throw new PayloadTooLargeError(`request body is over the limit of ${limitBytes} bytes`, { cause: err });
    }
    throw err;
  }
  if (raw.length === 0) throw new BadRequestError('request body is empty', { code: 'invalid_json' });
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`, { code: 'invalid_json', cause: err });
  }
}
