import { apiKeyAuth } from './api-key-auth.ts';
import type { AuthConfig } from './auth-config.ts';
import type { AuthHandle } from './auth-handle.ts';
import { noneAuth } from './none-auth.ts';
import { pskAuth } from './psk-auth.ts';
import { registryDelegateAuth, type DelegateAuthDeps } from './registry-delegate-auth.ts';
import { registryTokenAuth } from './registry-token-auth.ts';

/**
 * The authentication of one route group, by `config.mode`. Call once per group at start (each
 * handle keeps its own keys, cache and connections) and `close()` it at shutdown. Throws when the
 * configuration cannot be used (keys that do not parse); log a warning when `insecure` is true.
 */
export function createAuth(config: AuthConfig, deps: DelegateAuthDeps): AuthHandle {
  switch (config.mode) {
    case 'registry-token':
      return registryTokenAuth(config, deps);
    case 'registry-delegate':
      return registryDelegateAuth(config, deps);
    case 'psk':
      return pskAuth(config, deps);
    case 'api-key':
      return apiKeyAuth(config, deps);
    case 'none':
      return noneAuth();
  }
}
