import type { Readable } from 'node:stream';

/**
 * Reads a whole body into memory, refusing more than `limit` bytes: a declared `Content-Length`
 * over the limit fails before reading, and the stream is destroyed as soon as the limit is passed.
 * `tooLarge` builds the error thrown; stream errors are rethrown as they are.
 */
export async function readLimited(
  body: Readable,
  limit: number,
  tooLarge: (bytes: number) => Error,
  declaredLength?: string | string[] | undefined,
): Promise<Buffer> {
  const declared = Number(Array.isArray(declaredLength) ? declaredLength[0] : declaredLength);
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    throw tooLarge(declared);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      body.destroy();
      throw tooLarge(total);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
