import { isRepositoryName } from '../../registry/image-reference.ts';
import type { Access } from './access.ts';
import { assertRepositoryName } from './assert-repository-name.ts';
import type { AuthMode } from './auth-config.ts';

/** Access to every (well-formed) repository: what `psk`, `api-key` and `none` grant. */
export function fullAccess(mode: AuthMode, subject: string | null): Access {
  return {
    mode,
    subject,
    all: true,
    anonymous: false,
    lazy: false,
    listed: null,
    canRead: (repository) => isRepositoryName(repository),
    mayRead: async (repository) => {
      assertRepositoryName(repository);
      return true;
    },
    assertRead: async (repository) => {
      assertRepositoryName(repository);
    },
    assertAuthenticated: () => undefined,
  };
}
