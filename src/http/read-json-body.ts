import type { Context } from 'koa';
import { BadRequestError } from '../errors/app-error.ts';
import { readRawBody } from './read-raw-body.ts';

/**
 * Reads the request body as JSON whatever its content type (registries send vendor types such as
 * `application/vnd.docker.distribution.events.v1+json`), refusing more than `limitBytes` (413) and
 * anything that is not valid UTF-8 JSON (400, with the parser's reason).
 */
export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  const raw = await readRawBody(ctx, limitBytes);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`, { code: 'invalid_json', cause: err });
  }
}
