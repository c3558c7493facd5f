/**
 * A feed's date as an ISO 8601 UTC timestamp, or null when it cannot be read. Accepts ISO forms,
 * `YYYY-MM-DD`, `YYYYMMDD` (Red Hat `public`), and `YYYY-MM-DD HH:MM[:SS][ UTC]` (Ubuntu, Amazon);
 * times without a zone are taken as UTC.
 */
export function isoDate(text: string | null | undefined): string | null {
  let t = text?.trim() ?? '';
  if (t === '') return null;
  if (/^\d{8}$/.test(t)) t = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}`;
  let m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(UTC|GMT|Z)?$/i.exec(t);
  if (m) t = `${m[1]}T${m[2]!.length === 5 ? `${m[2]}:00` : m[2]}Z`;
  else if ((m = /^(\d{4}-\d{2}-\d{2})$/.exec(t))) t = `${m[1]}T00:00:00Z`;
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) return null;
  return new Date(ms).toISOString();
}
