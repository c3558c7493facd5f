/**
 * An rpm version as the rpm comparator takes it: `[epoch:]version-release`, the epoch left out
 * when it is 0 or absent (`0:1.2-3` and `1.2-3` compare equal; one spelling keeps diffs stable).
 */
export function rpmEvr(epoch: string | null | undefined, version: string, release: string | null | undefined): string {
  const e = (epoch ?? '').trim();
  const r = (release ?? '').trim();
  const vr = r === '' ? version.trim() : `${version.trim()}-${r}`;
  return e === '' || /^0+$/.test(e) ? vr : `${e}:${vr}`;
}

/** An `[epoch:]version-release` string with a zero epoch dropped (`0:1.2-3` → `1.2-3`), trimmed. */
export function normalizeEvr(evr: string): string {
  const v = evr.trim();
  const m = /^0+:(.+)$/.exec(v);
  return m ? m[1]! : v;
}

/** Whether `evr` looks like an rpm `[epoch:]version[-release]` (no spaces, starts sensibly). */
export function isPlausibleEvr(evr: string): boolean {
  return /^(\d+:)?[A-Za-z0-9._+~^]+(-[A-Za-z0-9._+~^]+)?$/.test(evr);
}

/** The release part of an `[epoch:]version-release` string ('' without one). */
export function evrRelease(evr: string): string {
  const i = evr.lastIndexOf('-');
  return i < 0 ? '' : evr.slice(i + 1);
}
