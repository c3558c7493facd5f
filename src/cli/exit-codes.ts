/** Process exit codes (sysexits.h where one fits). */
export const EXIT = {
  ok: 0,
  /** `lookout scan --fail-on`: a finding at or above the threshold. */
  findings: 1,
  /** Bad command line or bad input (not an image, invalid version). */
  usage: 2,
  /** Internal error. */
  software: 70,
  /** A service Lookout needs (database, port) is unavailable. */
  unavailable: 69,
  /** Invalid configuration. */
  config: 78,
} as const;
