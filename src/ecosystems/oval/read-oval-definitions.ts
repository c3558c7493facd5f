import type { Readable } from 'node:stream';
import { OvalIndex, type OvalIndexOptions } from './oval-index.ts';
import { streamXmlElements } from './stream-xml-elements.ts';
import { xmlAttr, xmlChild, xmlChildren, type XmlElement } from './xml-element.ts';
import type { OvalCriteria, OvalCriteriaNode, OvalDefinition } from './oval-definition.ts';

export type ReadOvalOptions = OvalIndexOptions;

/**
 * Streams the definitions of an OVAL document with their criteria resolved. Two passes over the
 * (decompressed) input, each opened with `open`: the first indexes tests, objects, states and
 * variables (they come after the definitions in the file); the second yields each definition as
 * it closes and stops reading at `</definitions>`. Only one definition is held at a time, so a
 * feed of hundreds of MB is read in constant memory plus the compact index.
 */
export async function* readOvalDefinitions(open: () => Promise<Readable>, options: ReadOvalOptions): AsyncGenerator<OvalDefinition> {
  const index = await OvalIndex.build(await open(), options);
  const definitions = streamXmlElements(await open(), {
    ...options,
    select: (name, _attributes, path) => name === 'definition' && path.length === 2 && path[1] === 'definitions',
    stopAfter: (name, path) => name === 'definitions' && path.length === 1,
  });
  for await (const element of definitions) yield toDefinition(element, index);
}

/** Converts a captured `<definition>` element, resolving criteria through `index`. */
export function toDefinition(element: XmlElement, index: OvalIndex): OvalDefinition {
  const metadata = xmlChild(element, 'metadata');
  const affected = xmlChild(metadata, 'affected');
  const criteria = xmlChild(element, 'criteria');
  return {
    id: xmlAttr(element, 'id') ?? '',
    class: xmlAttr(element, 'class') ?? '',
    version: xmlAttr(element, 'version'),
    deprecated: xmlAttr(element, 'deprecated') === 'true',
    title: (xmlChild(metadata, 'title')?.text ?? '').trim(),
    description: (xmlChild(metadata, 'description')?.text ?? '').trim(),
    family: xmlAttr(affected, 'family'),
    platforms: xmlChildren(affected, 'platform')
      .map((p) => p.text.trim())
      .filter((p) => p !== ''),
    references: xmlChildren(metadata, 'reference').map((r) => ({
      source: xmlAttr(r, 'source'),
      refId: xmlAttr(r, 'ref_id'),
      refUrl: xmlAttr(r, 'ref_url'),
    })),
    advisory: xmlChild(metadata, 'advisory'),
    notes: xmlChildren(xmlChild(element, 'notes'), 'note')
      .map((n) => n.text.trim())
      .filter((n) => n !== ''),
    criteria: criteria ? toCriteria(criteria, index) : null,
  };
}

function toCriteria(element: XmlElement, index: OvalIndex): OvalCriteria {
  const op = (xmlAttr(element, 'operator') ?? 'AND').toUpperCase();
  const children: OvalCriteriaNode[] = [];
  for (const c of element.children) {
    if (c.name === 'criteria') children.push(toCriteria(c, index));
    else if (c.name === 'criterion') {
      const testRef = xmlAttr(c, 'test_ref') ?? '';
      children.push({ kind: 'criterion', testRef, comment: xmlAttr(c, 'comment'), negate: isTrue(c), test: testRef === '' ? null : index.test(testRef) });
    } else if (c.name === 'extend_definition') {
      children.push({
        kind: 'extend_definition',
        definitionRef: xmlAttr(c, 'definition_ref') ?? '',
        comment: xmlAttr(c, 'comment'),
        negate: isTrue(c),
        applicabilityCheck: xmlAttr(c, 'applicability_check') === 'true',
      });
    }
  }
  return {
    kind: 'criteria',
    operator: op === 'OR' || op === 'ONE' || op === 'XOR' ? op : 'AND',
    negate: isTrue(element),
    comment: xmlAttr(element, 'comment'),
    children,
  };
}

function isTrue(element: XmlElement): boolean {
  return xmlAttr(element, 'negate') === 'true';
}
