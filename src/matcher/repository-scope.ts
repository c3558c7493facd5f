/** The fields of a CPE 2.2 URI (`cpe:/o:redhat:enterprise_linux:9::baseos`); absent fields are ''. */
export interface CpeFields {
  part: string;
  vendor: string;
  product: string;
  version: string;
  update: string;
  edition: string;
}

const MAX_CPE_LENGTH = 512;

/** The fields of a CPE 2.2 URI, or null for anything else. */
export function parseCpeUri(text: string): CpeFields | null {
  const t = text.trim().toLowerCase();
  if (!t.startsWith('cpe:/') || t.length > MAX_CPE_LENGTH) return null;
  const [part = '', vendor = '', product = '', version = '', update = '', edition = ''] = t.slice(5).split(':');
  if (vendor === '' || product === '') return null;
  return { part, vendor, product, version, update, edition };
}

/** Products whose CPE stands for RHEL itself (not a layered product, not an extended-support stream). */
const RHEL_ITSELF = new Set(['enterprise_linux']);

/**
 * Whether a record scoped to `repository` applies to an image:
 * - no repository, or one that is not a Red Hat CPE (Alpine's `main`/`community`) → applies;
 * - with `imageCpes` (the CPEs of the repositories the image's RPMs came from, from its content
 *   sets): applies when the record's CPE covers one of them — same vendor and product, and each
 *   of version, update and edition either empty in the record or equal (the part `o`/`a` is not
 *   compared: Red Hat files one repository under both);
 * - without them: applies only to RHEL itself (`enterprise_linux`), so records of layered
 *   products (Satellite, JBoss Core Services, OpenShift) and of EUS/AUS/TUS/E4S streams, whose
 *   builds and fixed versions differ from the mainline's, do not apply to a plain RHEL image.
 * Returns null when it applies, else the reason it does not.
 */
export function repositoryMismatch(repository: string | null, imageCpes: readonly CpeFields[] | null): string | null {
  if (repository === null) return null;
  const cpe = parseCpeUri(repository);
  if (cpe === null || cpe.vendor !== 'redhat') return null;
  if (imageCpes !== null) {
    const covers = imageCpes.some(
      (i) =>
        i.vendor === cpe.vendor &&
        i.product === cpe.product &&
        (cpe.version === '' || cpe.version === i.version) &&
        (cpe.update === '' || cpe.update === i.update) &&
        (cpe.edition === '' || cpe.edition === i.edition),
    );
    return covers ? null : `scoped to ${repository}, which none of the image's repositories falls under`;
  }
  return RHEL_ITSELF.has(cpe.product) ? null : `scoped to ${repository}, a product or support stream not known to be in the image`;
}
