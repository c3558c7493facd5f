import type { Access } from './access.ts';

/**
 * The repositories of `repositories` the caller may read, in their order, invalid names left out.
 * With lazy access (`registry-delegate`) each one not decided yet costs one registry request
 * (cached afterwards), asked one at a time; a registry failure rejects (503) rather than hiding.
 */
export async function filterReadable(access: Access, repositories: Iterable<string>): Promise<string[]> {
  const out: string[] = [];
  for (const repository of repositories) {
    if (access.canRead(repository)) out.push(repository);
    else if (access.lazy && (await access.mayRead(repository).catch(rethrowUnlessBadName))) out.push(repository);
  }
  return out;
}

function rethrowUnlessBadName(err: unknown): false {
  if ((err as { code?: unknown })?.code === 'invalid_repository') return false;
  throw err;
}
