const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);

/** A repository name as the OCI distribution spec allows it (`team/app`), at most 255 characters. */
export function isRepositoryName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 255 && NAME.test(value);
}
