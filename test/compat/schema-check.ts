/**
 * A small JSON Schema checker for the tests: enough of draft 2020-12 and OpenAPI 3.0 to hold the
 * compatibility APIs' answers to the published schemas (Clair's `types/*.schema.json`, the Harbor
 * adapter spec's `components.schemas`). Supported: `$ref` (to another file of the folder, `#`, or a
 * JSON pointer in the same document), `type` (with OpenAPI `nullable`), `enum`, `pattern`,
 * `format: date-time|uri`, `required`, `properties`, `patternProperties`, `additionalProperties`,
 * `unevaluatedProperties: false` (properties of the schema and of what it `$ref`s count as
 * evaluated), `items`, `anyOf`, `oneOf`, `minProperties`, `dependentRequired`. Anything else is
 * ignored. Returns the problems found, each as `path: what`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

type Schema = Record<string, unknown>;

/** A checker over a folder of schema files, or over one document (`root`). */
export class SchemaCheck {
  private readonly dir: string | null;
  private readonly cache = new Map<string, Schema>();

  constructor(options: { dir?: string; root?: Schema }) {
    this.dir = options.dir ?? null;
    if (options.root) this.cache.set('', options.root);
  }

  /** Problems of `value` against the schema file `file` (in the folder) or the pointer `#/…` of the root document. */
  check(ref: string, value: unknown): string[] {
    const problems: string[] = [];
    const { schema, doc } = this.resolve(ref, '');
    this.validate(schema, doc, value, '$', problems);
    return problems;
  }

  private load(file: string): Schema {
    let schema = this.cache.get(file);
    if (schema === undefined) {
      if (this.dir === null) throw new Error(`no schema folder for ${file}`);
      schema = JSON.parse(readFileSync(path.join(this.dir, file), 'utf8')) as Schema;
      this.cache.set(file, schema);
    }
    return schema;
  }

  private resolve(ref: string, doc: string): { schema: Schema; doc: string } {
    const [file = '', pointer = ''] = ref.split('#');
    const target = file === '' ? doc : file;
    let node: unknown = this.load(target);
    for (const part of pointer.split('/').filter((p) => p !== '')) node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (typeof node !== 'object' || node === null) throw new Error(`unresolved $ref ${ref}`);
    return { schema: node as Schema, doc: target };
  }

  /** Property names a schema evaluates, its `$ref` target's included. */
  private evaluated(schema: Schema, doc: string): Set<string> {
    const names = new Set(Object.keys((schema.properties as Schema | undefined) ?? {}));
    if (typeof schema.$ref === 'string') {
      const target = this.resolve(schema.$ref, doc);
      for (const n of this.evaluated(target.schema, target.doc)) names.add(n);
    }
    return names;
  }

  private validate(schema: Schema, doc: string, value: unknown, at: string, out: string[]): void {
    if (typeof schema.$ref === 'string') {
      const target = this.resolve(schema.$ref, doc);
      this.validate(target.schema, target.doc, value, at, out);
    }
    if (value === null && schema.nullable === true) return;
    if (schema.type !== undefined && !typeOk(schema.type as string | string[], value)) {
      out.push(`${at}: expected ${JSON.stringify(schema.type)}, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
      return;
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) out.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
    if (typeof value === 'string') {
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) out.push(`${at}: ${JSON.stringify(value.slice(0, 80))} does not match ${schema.pattern}`);
      if (schema.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) out.push(`${at}: ${JSON.stringify(value)} is not a date-time`);
      if (schema.format === 'uri' && !URL.canParse(value)) out.push(`${at}: ${JSON.stringify(value.slice(0, 80))} is not a URI`);
    }
    for (const [key, mode] of [['anyOf', 'any'], ['oneOf', 'one']] as const) {
      const options = schema[key];
      if (!Array.isArray(options)) continue;
      const passing = options.filter((o) => {
        const sub: string[] = [];
        this.validate(o as Schema, doc, value, at, sub);
        return sub.length === 0;
      }).length;
      if (mode === 'any' ? passing === 0 : passing !== 1) out.push(`${at}: ${passing} of the ${key} alternatives match`);
    }
    if (Array.isArray(value) && typeof schema.items === 'object' && schema.items !== null) {
      value.forEach((item, i) => this.validate(schema.items as Schema, doc, item, `${at}[${i}]`, out));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const object = value as Record<string, unknown>;
    for (const name of (schema.required as string[] | undefined) ?? []) if (!(name in object)) out.push(`${at}: missing ${name}`);
    for (const [name, needs] of Object.entries((schema.dependentRequired as Record<string, string[]> | undefined) ?? {})) {
      if (name in object) for (const need of needs) if (!(need in object)) out.push(`${at}: ${name} needs ${need}`);
    }
    if (typeof schema.minProperties === 'number' && Object.keys(object).length < schema.minProperties) out.push(`${at}: fewer than ${schema.minProperties} properties`);
    const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
    const patterns = Object.entries((schema.patternProperties as Record<string, Schema> | undefined) ?? {});
    const evaluated = schema.unevaluatedProperties === false ? this.evaluated(schema, doc) : null;
    for (const [name, item] of Object.entries(object)) {
      const where = `${at}.${name}`;
      if (name in properties) {
        this.validate(properties[name]!, doc, item, where, out);
        continue;
      }
      const byPattern = patterns.filter(([p]) => new RegExp(p, 'u').test(name));
      for (const [, sub] of byPattern) this.validate(sub, doc, item, where, out);
      if (byPattern.length > 0) continue;
      if (evaluated !== null && !evaluated.has(name)) out.push(`${where}: not allowed (unevaluated)`);
      else if (schema.additionalProperties === false) out.push(`${where}: not allowed`);
      else if (typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null) this.validate(schema.additionalProperties as Schema, doc, item, where, out);
    }
  }
}

function typeOk(type: string | string[], value: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => {
    switch (t) {
      case 'string':
        return typeof value === 'string';
      case 'integer':
        return Number.isInteger(value);
      case 'number':
        return typeof value === 'number' && Number.isFinite(value);
      case 'boolean':
        return typeof value === 'boolean';
      case 'array':
        return Array.isArray(value);
      case 'object':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      case 'null':
        return value === null;
      default:
        return true;
    }
  });
}
