import picomatch from 'picomatch';
import type { Subscription } from '../store/subscription-store.ts';

/**
 * Whether a subscription covers a repository of a registry: its registry (when it names one), the
 * repositories its owner may read (API subscriptions made with a registry token), and its
 * repository patterns (exact names, `prefix/*`, globs).
 */
export function repositoryMatcher(subscription: Pick<Subscription, 'registry' | 'repositories' | 'target'>): (registry: string, repository: string) => boolean {
  const allowed = subscription.target.allowedRepositories ? new Set(subscription.target.allowedRepositories) : null;
  const match = picomatch(subscription.repositories);
  return (registry, repository) =>
    (subscription.registry === null || subscription.registry === registry) && (allowed === null || allowed.has(repository)) && match(repository);
}
