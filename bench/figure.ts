/** A reference figure measured in the same run, to compare against. */
export interface Reference {
  name: string;
  value: number;
  unit: string;
}

/** One line of `npm run bench` output. */
export interface Figure {
  /** Dotted name: `<area>.<what>` (`jobs.process_10k`). */
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, measured in this run (or null with `note` saying why not). */
  reference: Reference | null;
  /** The target from the issue, when it names one (`>= 2000 events/s`). */
  target?: string;
  note?: string;
  [extra: string]: unknown;
}

/** What each bench module receives. */
export interface BenchContext {
  emit(figure: Figure): void;
  /** A PostgreSQL server URL to compare the embedded engine against, when one is configured. */
  serverUrl: string | null;
  /** A scratch directory for this run (deleted afterwards). */
  tmpDir: string;
  log(message: string): void;
}

/** A bench module's default export. */
export type Bench = (context: BenchContext) => Promise<void>;
