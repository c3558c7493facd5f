import type { Scanner } from './scanner.ts';
import type { FeedDefinition } from './updater.ts';
import type { VersionScheme } from './version-scheme.ts';

/**
 * One folder under `src/ecosystems/` exports one of these (`satisfies Ecosystem`): a package
 * format or a distribution, with what it attaches to. Adding a distro or language is that folder
 * plus one line in `src/ecosystems/index.ts`; no migration, no route change.
 */
export interface Ecosystem {
  readonly name: string;
  /** The version scheme this folder defines, if it defines one. */
  readonly versionScheme?: VersionScheme;
  readonly scanners?: readonly Scanner[];
  /** Vulnerability feeds, built from configuration (`feeds.<name>`). */
  readonly feeds?: readonly FeedDefinition<any>[];
}
