/** CPE products that are RHEL itself or one of its streams (EUS, AUS, TUS, E4S, ELS, Extras). */
const RHEL_PRODUCTS = /^(enterprise_linux|rhel_(eus|aus|tus|e4s|els|eus_long_life|mission_critical|extras(_[a-z_]+)?))$/;

/**
 * The RHEL release a Red Hat product CPE is built for, as `distributionKey` spells it (`rhel:9`):
 * an `el<N>` in the update or edition part (`cpe:/a:redhat:openshift:4.16::el9`), else the major
 * version of RHEL itself or one of its streams (`cpe:/o:redhat:enterprise_linux:8`,
 * `cpe:/a:redhat:rhel_eus:9.2::appstream`, `rhel_extras_other:6`). Null for other products
 * (`rhel_software_collections:3`, `rhel_dotnet:3.1`, `satellite:6`) not tied to one release.
 */
export function rhelDistributionFromCpe(cpe: string): string | null {
  const parts = cpe.trim().split(':');
  if (parts[0] !== 'cpe' || parts.length < 4) return null;
  const [, , vendor, product = '', version = '', update = '', edition = ''] = parts;
  if (vendor !== 'redhat') return null;
  for (const field of [update, edition]) {
    const m = /(?:^|[^a-z0-9])el(\d+)(?![0-9])/.exec(field) ?? /^el(\d+)/.exec(field);
    if (m) return `rhel:${m[1]}`;
  }
  if (RHEL_PRODUCTS.test(product)) {
    const m = /^(\d+)/.exec(version);
    if (m) return `rhel:${m[1]}`;
  }
  return null;
}
