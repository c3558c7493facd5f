import { BadRequestError } from '../errors/app-error.ts';
import type { RegistryEventProcessor } from '../intake/registry-event-processor.ts';
import { parseImageReference, type ImageReference } from '../registry/image-reference.ts';
import { isRegistryError } from '../registry/registry-error.ts';
import type { RegistrySet } from '../registry/registry-set.ts';
import type { ScanRequester } from '../http/routes/api-routes.ts';

/**
 * Scans asked for by reference (`POST /api/v1/scans`): the registry must be a configured one
 * (never any host a caller names); the tag is resolved with a HEAD and the image recorded and
 * queued exactly as a push would be.
 */
export class ScanRequestService implements ScanRequester {
  private readonly deps: { registries: RegistrySet; registryIds: ReadonlyMap<string, number>; processor: RegistryEventProcessor; defaultRegistry: string | null };

  constructor(deps: { registries: RegistrySet; registryIds: ReadonlyMap<string, number>; processor: RegistryEventProcessor; defaultRegistry: string | null }) {
    this.deps = deps;
  }

  repositoryOf(image: string): string {
    return this.parse(image).repository;
  }

  async request(image: string): Promise<{ digest: string; repository: string }> {
    const reference = this.parse(image);
    let client;
    try {
      client = this.deps.registries.clientFor(reference);
    } catch (err) {
      if (isRegistryError(err, 'not_allowed')) throw new BadRequestError(`registry ${reference.registry} is not configured`, { code: 'registry_not_configured' });
      throw err;
    }
    const registryId = this.deps.registryIds.get(client.name);
    if (registryId === undefined) throw new BadRequestError(`registry ${client.name} is not set up`, { code: 'registry_not_configured' });
    const digest = reference.digest ?? (await client.head(reference.repository, reference.tag ?? 'latest')).digest;
    await this.deps.processor.ingest(registryId, client.name, client, reference.repository, digest, reference.digest ? null : reference.tag);
    return { digest, repository: reference.repository };
  }

  private parse(image: string): ImageReference {
    try {
      return parseImageReference(image, this.deps.defaultRegistry ? { defaultRegistry: this.deps.defaultRegistry } : {});
    } catch (err) {
      throw new BadRequestError(`not an image reference: ${(err as Error).message}`, { code: 'invalid_reference' });
    }
  }
}
