import type { DistroProfile } from './distro-profile.ts';
import type { MatchPackage } from './match-input.ts';

/**
 * Mail domains of vendors that publish their own Debian/Ubuntu repositories (Docker, NodeSource,
 * NGINX, Microsoft, MongoDB, Google, Elastic, HashiCorp, Grafana, InfluxData, Percona, MySQL,
 * Datadog, New Relic, NVIDIA, GitLab, Jenkins, Treasure Data, Fluent Bit, RabbitMQ, Azul, Eclipse
 * Adoptium, Cloudflare, Tailscale). A dpkg package whose Maintainer writes from one of them
 * was not built by the distribution, so the distribution's advisories do not speak of it.
 */
export const THIRD_PARTY_DEB_DOMAINS: readonly string[] = [
  'docker.com', 'nodesource.com', 'nginx.com', 'f5.com', 'microsoft.com', 'mongodb.com', 'mongodb.org', 'google.com',
  'chromium.org', 'elastic.co', 'hashicorp.com', 'grafana.com', 'influxdata.com', 'percona.com', 'oss.oracle.com',
  'mysql.com', 'datadoghq.com', 'newrelic.com', 'nvidia.com', 'gitlab.com', 'jenkins.io', 'jenkins-ci.org',
  'treasuredata.com', 'fluentbit.io', 'rabbitmq.com', 'azul.com', 'eclipse.org', 'cloudflare.com', 'tailscale.com',
];

/**
 * Version markers of third-party Debian/Ubuntu repositories that keep the distribution's own
 * maintainer field: the PostgreSQL project's PGDG repository (`16.1-1.pgdg120+1`), NodeSource
 * (`18.17.1-1nodesource1`), Ondřej Surý's PHP repository (`8.2.12-1+ubuntu22.04.1+deb.<his name>.org+1`).
 */
export const THIRD_PARTY_DEB_VERSION_MARKERS: ReadonlyArray<{ pattern: RegExp; repository: string }> = [
  { pattern: /\.pgdg\d*/, repository: 'the PostgreSQL PGDG repository' },
  { pattern: /nodesource/i, repository: 'NodeSource' },
  { pattern: /\+deb\.sury\./i, repository: 'the Surý PHP repository' },
];

const MAX_VENDOR_SHOWN = 120;
const DOMAIN_SUFFIXES = THIRD_PARTY_DEB_DOMAINS.map((d) => `.${d}`);
const MAIL_DOMAIN = /@([A-Za-z0-9.-]+)>?\s*$/;

/**
 * Why `pkg` is a third-party package the distribution's advisories do not speak of, or null when it
 * is (or may be) the distribution's own:
 * - dpkg: the Maintainer's mail domain is (or is under) one of {@link THIRD_PARTY_DEB_DOMAINS},
 *   or the Maintainer contains one of `extraMaintainers` (case-insensitive), or the version carries
 *   one of {@link THIRD_PARTY_DEB_VERSION_MARKERS}. Debian packages are maintained by thousands of
 *   people writing from any address, so only known vendors are told apart;
 * - rpm: the profile lists its vendors and the package's Vendor is set and is none of them
 *   (EPEL's `Fedora Project` in a RHEL image, `MongoDB Inc.`, `Docker`). An empty Vendor is the
 *   distribution's: local builds without one cannot be told from distribution builds;
 * - apk and any other format: never (apk records no vendor a third party would set differently).
 */
export function thirdPartyReason(pkg: MatchPackage, profile: DistroProfile | null, extraMaintainers: readonly string[] = []): string | null {
  const vendor = (pkg.vendor ?? '').trim();
  if (pkg.ecosystem === 'dpkg') {
    const domain = MAIL_DOMAIN.exec(vendor)?.[1]?.toLowerCase() ?? null;
    if (domain !== null) {
      const hit = THIRD_PARTY_DEB_DOMAINS.findIndex((d, i) => domain === d || domain.endsWith(DOMAIN_SUFFIXES[i]!));
      if (hit >= 0) return `maintainer ${vendor.slice(0, MAX_VENDOR_SHOWN)} belongs to ${THIRD_PARTY_DEB_DOMAINS[hit]}, a third-party repository`;
    }
    if (extraMaintainers.length > 0) {
      const lower = vendor.toLowerCase();
      const extra = extraMaintainers.find((m) => m.trim() !== '' && lower.includes(m.trim().toLowerCase()));
      if (extra !== undefined) return `maintainer ${vendor.slice(0, MAX_VENDOR_SHOWN)} is configured as third-party (${extra.trim()})`;
    }
    const marker = THIRD_PARTY_DEB_VERSION_MARKERS.find((m) => m.pattern.test(pkg.version));
    if (marker) return `version ${pkg.version.slice(0, MAX_VENDOR_SHOWN)} is a build of ${marker.repository}, a third-party repository`;
    return null;
  }
  if (pkg.ecosystem === 'rpm' && profile?.vendors !== undefined && vendor !== '') {
    if (!profile.vendors.some((re) => re.test(vendor))) return `vendor ${vendor.slice(0, MAX_VENDOR_SHOWN)} is not a ${profile.family} vendor`;
  }
  return null;
}
