import type { Readable } from 'node:stream';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import { streamXmlElements, type XmlLimits } from './stream-xml-elements.ts';
import type { XmlElement } from './xml-element.ts';
import type { OvalField, OvalObject, OvalState, OvalTest } from './oval-definition.ts';

interface TestEntry {
  id: string;
  type: string;
  comment: string | null;
  check: string | null;
  checkExistence: string | null;
  objectRef: string | null;
  stateRefs: string[];
}

interface ItemEntry {
  id: string;
  type: string;
  comment: string | null;
  fields: Record<string, OvalField>;
  /** Objects only: the resolved names, filled on first lookup (variables come after objects). */
  names?: readonly string[];
}

export interface OvalIndexOptions extends XmlLimits {
  label: string;
  /** Most tests, objects, states and variables kept (default 5,000,000; real feeds hold a few hundred thousand). */
  maxEntries?: number;
  /** Most values of one variable (default 100,000). */
  maxVariableValues?: number;
}

const SKIPPED_FIELDS = new Set(['behaviors', 'filter', 'set']);

/**
 * The tests, objects, states and variables of one OVAL document, read in one streaming pass and
 * kept in a compact form, so that definitions (which come first in the file) can be resolved while
 * they stream in a second pass. Lookups of ids the document does not define give null.
 */
export class OvalIndex {
  private readonly tests = new Map<string, TestEntry>();
  private readonly objects = new Map<string, ItemEntry>();
  private readonly states = new Map<string, ItemEntry>();
  private readonly variables = new Map<string, string[]>();
  /** One copy of each repeated string (references, operations, element names). */
  private readonly pool = new Map<string, string>();
  /** Local name of the document's root element. */
  root: string | null = null;

  /** Reads `input` (an OVAL definitions document) and indexes it. */
  static async build(input: Readable, options: OvalIndexOptions): Promise<OvalIndex> {
    const index = new OvalIndex();
    const maxEntries = options.maxEntries ?? 5_000_000;
    const maxValues = options.maxVariableValues ?? 100_000;
    let entries = 0;
    const elements = streamXmlElements(input, {
      ...options,
      select: (name, attributes, path) => {
        if (path.length === 0) {
          index.root = name;
          if (name !== 'oval_definitions') throw new FeedParseError(`${options.label}: not an OVAL definitions document (root element <${name}>)`);
          return false;
        }
        if (path.length < 2 || path[1] === 'definitions' || path[1] === 'generator') return false;
        return typeof attributes.id === 'string' && /_(test|object|state|variable)$/.test(name);
      },
    });
    for await (const element of elements) {
      if (++entries > maxEntries) throw new FeedParseError(`${options.label}: more than ${maxEntries} tests, objects, states and variables`);
      index.add(element, maxValues, options.label);
    }
    if (index.root === null) throw new FeedParseError(`${options.label}: empty document`);
    index.pool.clear();
    return index;
  }

  private intern(value: string): string {
    let v = this.pool.get(value);
    if (v === undefined) {
      v = own(value);
      this.pool.set(v, v);
    }
    return v;
  }

  private internOrNull(value: string | undefined): string | null {
    const v = value?.trim() ?? '';
    return v === '' ? null : this.intern(v);
  }

  private add(element: XmlElement, maxValues: number, label: string): void {
    const id = own(element.attributes.id!.trim());
    const comment = trimOrNull(element.attributes.comment);
    if (element.name.endsWith('_test')) {
      let objectRef: string | null = null;
      const stateRefs: string[] = [];
      for (const c of element.children) {
        if (c.name === 'object' && objectRef === null) objectRef = this.internOrNull(c.attributes.object_ref);
        else if (c.name === 'state') {
          const ref = this.internOrNull(c.attributes.state_ref);
          if (ref !== null) stateRefs.push(ref);
        }
      }
      this.tests.set(id, {
        id,
        type: this.intern(element.name),
        comment,
        check: this.internOrNull(element.attributes.check),
        checkExistence: this.internOrNull(element.attributes.check_existence),
        objectRef,
        stateRefs,
      });
    } else if (element.name.endsWith('_variable')) {
      const values: string[] = [];
      for (const c of element.children) {
        if (c.name !== 'value') continue;
        if (values.length >= maxValues) throw new FeedParseError(`${label}: variable ${id} has more than ${maxValues} values`);
        const v = c.text.trim();
        if (v !== '') values.push(own(v));
      }
      this.variables.set(id, values);
    } else {
      const fields: Record<string, OvalField> = {};
      for (const c of element.children) {
        if (SKIPPED_FIELDS.has(c.name) || Object.hasOwn(fields, c.name)) continue;
        fields[this.intern(c.name)] = {
          value: own(c.text.trim()),
          operation: this.internOrNull(c.attributes.operation),
          datatype: this.internOrNull(c.attributes.datatype),
          varRef: this.internOrNull(c.attributes.var_ref),
        };
      }
      const entry: ItemEntry = { id, type: this.intern(element.name), comment, fields };
      if (element.name.endsWith('_object')) this.objects.set(id, entry);
      else this.states.set(id, entry);
    }
  }

  /** How many tests, objects, states and variables the document defines. */
  get size(): { tests: number; objects: number; states: number; variables: number } {
    return { tests: this.tests.size, objects: this.objects.size, states: this.states.size, variables: this.variables.size };
  }

  /** The values of a constant variable (empty for unknown or computed variables). */
  variable(id: string): readonly string[] {
    return this.variables.get(id) ?? [];
  }

  /** The object `id` with its names resolved, or null. */
  object(id: string): OvalObject | null {
    const entry = this.objects.get(id);
    if (!entry) return null;
    if (entry.names === undefined) {
      const name = entry.fields.name;
      entry.names = name?.varRef ? this.variable(name.varRef) : name && name.value !== '' ? [name.value] : [];
    }
    return entry as OvalObject;
  }

  /** The state `id`, or null. */
  state(id: string): OvalState | null {
    return this.states.get(id) ?? null;
  }

  /** The test `id` with its object and states, or null (built per call: tests are many, objects and states shared). */
  test(id: string): OvalTest | null {
    const entry = this.tests.get(id);
    if (!entry) return null;
    const states: OvalState[] = [];
    for (const ref of entry.stateRefs) {
      const s = this.state(ref);
      if (s) states.push(s);
    }
    return {
      id: entry.id,
      type: entry.type,
      comment: entry.comment,
      check: entry.check,
      checkExistence: entry.checkExistence,
      object: entry.objectRef === null ? null : this.object(entry.objectRef),
      states,
    };
  }
}

/**
 * A copy of `value` that holds no reference to the parser's input chunk (V8 keeps a substring's
 * whole parent string alive; indexed values must not pin the document in memory).
 */
function own(value: string): string {
  return value.length === 0 ? value : Buffer.from(value, 'utf8').toString('utf8');
}

function trimOrNull(value: string | undefined): string | null {
  const v = value?.trim() ?? '';
  return v === '' ? null : own(v);
}
