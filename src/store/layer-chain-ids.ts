import { createHash } from 'node:crypto';

/**
 * The chain ids of an image's layers, base first: the i-th is the sha256 (hex) of the (i-1)-th,
 * a space and the i-th layer digest (the first: of the first digest). Two images share the i-th
 * chain id exactly when their first i layers are the same (the migration that added them computed the same in SQL).
 */
export function layerChainIds(layers: readonly string[]): string[] {
  const out: string[] = [];
  let previous: string | null = null;
  for (const digest of layers) {
    previous = createHash('sha256').update(previous === null ? digest : `${previous} ${digest}`).digest('hex');
    out.push(previous);
  }
  return out;
}
