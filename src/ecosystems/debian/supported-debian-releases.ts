/**
 * The last day Debian supports each release, security team then LTS included (Debian's published
 * dates; Freexian's Extended LTS is not Debian's and not counted). A release Debian ships after
 * these is added here; until then, configure `releases` explicitly.
 */
export const DEBIAN_SUPPORT_ENDS: Readonly<Record<string, string>> = {
  jessie: '2020-06-30',
  stretch: '2022-06-30',
  buster: '2024-06-30',
  bullseye: '2026-08-31',
  bookworm: '2028-06-30',
  trixie: '2030-06-30',
};

/** The codenames Debian supports on `now` (testing and unstable are not supported releases). */
export function supportedDebianReleases(now: Date): string[] {
  const day = now.toISOString().slice(0, 10);
  return Object.entries(DEBIAN_SUPPORT_ENDS)
    .filter(([, end]) => end >= day)
    .map(([codename]) => codename);
}
