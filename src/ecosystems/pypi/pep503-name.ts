/** A valid distribution name (PEP 508): letters, digits, `.`, `_`, `-`, starting and ending alphanumeric. */
const NAME = /^([a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$/i;

/** Whether `name` is a valid Python distribution name. */
export function isPypiName(name: string): boolean {
  return NAME.test(name);
}

/** The PEP 503 normalized name advisories key PyPI packages by: lowercase, runs of `-_.` as one `-`. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}
