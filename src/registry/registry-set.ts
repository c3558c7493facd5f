import type { ImageReference } from './image-reference.ts';
import type { RegistryConfig } from './registry-config.ts';
import { RegistryClient, type RegistryClientOptions } from './registry-client.ts';
import { RegistryError } from './registry-error.ts';

/**
 * The configured registries, one {@link RegistryClient} each: the allow-list of what Lookout pulls
 * from. A reference whose registry host is not configured (by URL host or alias) is refused with
 * `not_allowed`, so credentials are only ever sent to the registry they were configured for.
 */
export class RegistrySet {
  private readonly byName = new Map<string, RegistryClient>();
  private readonly byHost = new Map<string, RegistryClient>();

  constructor(configs: readonly RegistryConfig[], options: RegistryClientOptions = {}) {
    for (const config of configs) {
      if (this.byName.has(config.name)) throw new RegistryError('not_allowed', `registry name ${JSON.stringify(config.name)} is configured twice`);
      const client = new RegistryClient(config, options);
      this.byName.set(config.name, client);
      for (const host of [new URL(config.url).host, ...(config.aliases ?? [])]) {
        const key = host.toLowerCase();
        if (this.byHost.has(key)) throw new RegistryError('not_allowed', `registry host ${JSON.stringify(host)} is configured twice`);
        this.byHost.set(key, client);
      }
    }
  }

  /** The client configured under `name`, if any. */
  byConfigName(name: string): RegistryClient | undefined {
    return this.byName.get(name);
  }

  /** The client for `host[:port]` (or a parsed reference's registry); throws `not_allowed` when none is configured. */
  clientFor(hostOrReference: string | Pick<ImageReference, 'registry'>): RegistryClient {
    const host = (typeof hostOrReference === 'string' ? hostOrReference : hostOrReference.registry).toLowerCase();
    const client = this.byHost.get(host);
    if (client === undefined) throw new RegistryError('not_allowed', `registry ${JSON.stringify(host.slice(0, 100))} is not configured`);
    return client;
  }

  /** Every configured client. */
  clients(): RegistryClient[] {
    return [...this.byName.values()];
  }

  /** Closes every client's connection pool. */
  async close(): Promise<void> {
    await Promise.all([...this.byName.values()].map((c) => c.close()));
  }
}
