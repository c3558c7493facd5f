import { alpineEcosystem } from './alpine/alpine-ecosystem.ts';
import { apkEcosystem } from './apk/apk-ecosystem.ts';
import { debianEcosystem } from './debian/debian-ecosystem.ts';
import { dpkgEcosystem } from './dpkg/dpkg-ecosystem.ts';
import type { Ecosystem } from './ecosystem.ts';
import { epssEcosystem } from './epss/epss-ecosystem.ts';
import { gemEcosystem } from './gem/gem-ecosystem.ts';
import { goEcosystem } from './go/go-ecosystem.ts';
import { kevEcosystem } from './kev/kev-ecosystem.ts';
import { mavenEcosystem } from './maven/maven-ecosystem.ts';
import { npmEcosystem } from './npm/npm-ecosystem.ts';
import { nvdEcosystem } from './nvd/nvd-ecosystem.ts';
import { osReleaseEcosystem } from './os-release/os-release-ecosystem.ts';
import { osvEcosystem } from './osv/osv-ecosystem.ts';
import { pypiEcosystem } from './pypi/pypi-ecosystem.ts';
import { rpmEcosystem } from './rpm/rpm-ecosystem.ts';
import { ubuntuEcosystem } from './ubuntu/ubuntu-ecosystem.ts';
import { rhelEcosystem } from './rhel/rhel-ecosystem.ts';
import { amazonEcosystem } from './amazon/amazon-ecosystem.ts';
import { oracleEcosystem } from './oracle/oracle-ecosystem.ts';
import { suseEcosystem } from './suse/suse-ecosystem.ts';
import { photonEcosystem } from './photon/photon-ecosystem.ts';
import type { Scanner } from './scanner.ts';
import type { FeedDefinition } from './updater.ts';
import { wolfiEcosystem } from './wolfi/wolfi-ecosystem.ts';

/** Every ecosystem Lookout knows. A new distro or language is one folder and one line here. */
export const ECOSYSTEMS: readonly Ecosystem[] = [
  osReleaseEcosystem,
  dpkgEcosystem,
  apkEcosystem,
  rpmEcosystem,
  pypiEcosystem,
  npmEcosystem,
  goEcosystem,
  mavenEcosystem,
  gemEcosystem,
  debianEcosystem,
  alpineEcosystem,
  ubuntuEcosystem,
  rhelEcosystem,
  amazonEcosystem,
  oracleEcosystem,
  suseEcosystem,
  photonEcosystem,
  wolfiEcosystem,
  osvEcosystem,
  nvdEcosystem,
  epssEcosystem,
  kevEcosystem,
];

/** Every layer scanner, in a stable order. */
export function allScanners(ecosystems: readonly Ecosystem[] = ECOSYSTEMS): Scanner[] {
  return ecosystems.flatMap((e) => e.scanners ?? []);
}

/** Every feed definition by name. */
export function allFeeds(ecosystems: readonly Ecosystem[] = ECOSYSTEMS): Map<string, FeedDefinition<any>> {
  return new Map(ecosystems.flatMap((e) => e.feeds ?? []).map((f) => [f.name, f]));
}
