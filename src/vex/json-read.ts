import { pointerAt, VexDocumentError } from './vex-document-error.ts';

/** A JSON object as read from a document. */
export type JsonObject = Record<string, unknown>;

const MAX_TEXT = 8192;

/** Whether a value is a JSON object (not an array, not null). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` as an object, or a {@link VexDocumentError} at `pointer`. */
export function objectAt(v: unknown, pointer: string, what = 'an object'): JsonObject {
  if (!isJsonObject(v)) throw new VexDocumentError(`expected ${what}`, { pointer });
  return v;
}

/** `v` as an array (of at most `max` items), or a {@link VexDocumentError} at `pointer`. */
export function arrayAt(v: unknown, pointer: string, options: { what?: string; min?: number; max?: number } = {}): unknown[] {
  if (!Array.isArray(v)) throw new VexDocumentError(`expected ${options.what ?? 'an array'}`, { pointer });
  if (options.min !== undefined && v.length < options.min) throw new VexDocumentError(`expected at least ${options.min} item${options.min === 1 ? '' : 's'}`, { pointer });
  if (options.max !== undefined && v.length > options.max) throw new VexDocumentError(`more than ${options.max} items`, { pointer });
  return v;
}

/** An optional string property (trimmed; empty → null), at most `max` characters; anything but a string is an error. */
export function optionalString(o: JsonObject, key: string, pointer: string, max = MAX_TEXT): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new VexDocumentError('expected a string', { pointer: pointerAt(pointer, key) });
  const t = v.trim();
  if (t.length > max) throw new VexDocumentError(`longer than ${max} characters`, { pointer: pointerAt(pointer, key) });
  return t === '' ? null : t;
}

/** A required, non-empty string property. */
export function requiredString(o: JsonObject, key: string, pointer: string, max = MAX_TEXT): string {
  const v = optionalString(o, key, pointer, max);
  if (v === null) throw new VexDocumentError(`${key} is required`, { pointer: o[key] === undefined ? pointer : pointerAt(pointer, key) });
  return v;
}

/** An optional timestamp property as ISO 8601, or an error when it is not a time. */
export function optionalTime(o: JsonObject, key: string, pointer: string): string | null {
  const v = optionalString(o, key, pointer, 64);
  if (v === null) return null;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new VexDocumentError(`${JSON.stringify(v)} is not a date and time`, { pointer: pointerAt(pointer, key) });
  return new Date(t).toISOString();
}
