import { BadRequestError } from '../../errors/app-error.ts';
import { isDigest } from '../../oci/digest.ts';
import { isRepositoryName, isTag } from '../../registry/image-reference.ts';

/** Throws 400 `invalid_repository` unless `repository` is a valid registry repository name. */
export function assertRepositoryName(repository: unknown): asserts repository is string {
  if (typeof repository !== 'string' || !isRepositoryName(repository)) {
    throw new BadRequestError('invalid repository name', { code: 'invalid_repository' });
  }
}

/** Throws 400 `invalid_reference` unless `reference` is a tag or a sha256/sha512 digest. */
export function assertReference(reference: unknown): asserts reference is string {
  if (typeof reference !== 'string' || !(isTag(reference) || isDigest(reference))) {
    throw new BadRequestError('invalid tag or digest', { code: 'invalid_reference' });
  }
}
