import { apkVersion } from './apk/apk-version.ts';
import { dpkgVersion } from './dpkg/dpkg-version.ts';
import { gemVersion } from './gem/gem-version.ts';
import { goVersion } from './go/go-version.ts';
import { mavenVersion } from './maven/maven-version.ts';
import { npmVersion } from './npm/npm-version.ts';
import { pypiVersion } from './pypi/pypi-version.ts';
import { rpmVersion } from './rpm/rpm-version.ts';
import { VERSION_SCHEMES, type VersionScheme, type VersionSchemeName } from './version-scheme.ts';

/** Every version scheme by its name (the names of {@link VERSION_SCHEMES}). */
export const VERSION_SCHEME_BY_NAME: Readonly<Record<VersionSchemeName, VersionScheme>> = Object.freeze({
  dpkg: dpkgVersion,
  rpm: rpmVersion,
  apk: apkVersion,
  pypi: pypiVersion,
  npm: npmVersion,
  go: goVersion,
  maven: mavenVersion,
  gem: gemVersion,
});

/** Thrown by {@link versionScheme} for a name that is not a version scheme. */
export class UnknownVersionSchemeError extends Error {
  readonly validNames: readonly string[] = VERSION_SCHEMES;
  constructor(name: string) {
    super(`unknown version scheme ${JSON.stringify(name)}; valid: ${VERSION_SCHEMES.join(', ')}`);
    this.name = 'UnknownVersionSchemeError';
  }
}

/** The version scheme called `name`; throws {@link UnknownVersionSchemeError} (listing the valid names) otherwise. */
export function versionScheme(name: string): VersionScheme {
  if (!Object.hasOwn(VERSION_SCHEME_BY_NAME, name)) throw new UnknownVersionSchemeError(name);
  return VERSION_SCHEME_BY_NAME[name as VersionSchemeName];
}
