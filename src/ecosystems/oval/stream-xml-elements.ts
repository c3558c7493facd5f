import type { Readable } from 'node:stream';
import { SaxesParser } from 'saxes';
import { FeedParseError } from '../../feeds/feed-parse-error.ts';
import type { XmlElement } from './xml-element.ts';

/** Limits on what a stranger's XML may make the reader hold. */
export interface XmlLimits {
  /** Deepest element nesting accepted (default 256). */
  maxDepth?: number;
  /** Most elements in one captured subtree (default 1,000,000). */
  maxElementsPerSubtree?: number;
  /** Longest text of one element, in characters (default 16 Mi). */
  maxTextLength?: number;
}

export interface StreamXmlElementsOptions extends XmlLimits {
  /** Names the input in error messages (a file name). */
  label: string;
  /**
   * Whether the element opening here starts a captured subtree. `path` holds the local names of
   * its open ancestors, outermost first (empty for the root element). Not called inside a capture.
   */
  select(name: string, attributes: Readonly<Record<string, string>>, path: readonly string[]): boolean;
  /** Stop reading (and close the input) once this returns true for a closing element. */
  stopAfter?(name: string, path: readonly string[]): boolean;
}

const DEFAULTS = { maxDepth: 256, maxElementsPerSubtree: 1_000_000, maxTextLength: 16 * 1024 * 1024 };

/** The local part of a qualified XML name (`linux-def:rpminfo_test` → `rpminfo_test`). */
export function localName(qualified: string): string {
  const i = qualified.indexOf(':');
  return i < 0 ? qualified : qualified.slice(i + 1);
}

/**
 * Streams an XML document and yields each selected element as a small tree, as soon as it closes,
 * without ever holding the document: only the open path and the subtree being captured are kept.
 * DTDs and entities beyond the XML built-ins are not expanded. Malformed XML (including a document
 * cut short) and exceeded limits throw a {@link FeedParseError} naming `label`, line and column.
 */
export async function* streamXmlElements(input: Readable, options: StreamXmlElementsOptions): AsyncGenerator<XmlElement> {
  const maxDepth = options.maxDepth ?? DEFAULTS.maxDepth;
  const maxElements = options.maxElementsPerSubtree ?? DEFAULTS.maxElementsPerSubtree;
  const maxText = options.maxTextLength ?? DEFAULTS.maxTextLength;
  const parser = new SaxesParser({ position: true });
  const path: string[] = [];
  const open: XmlElement[] = [];
  const ready: XmlElement[] = [];
  let count = 0;
  let stop = false;

  const fail = (message: string): never => {
    throw new FeedParseError(`${options.label}: ${message} at line ${parser.line} column ${parser.column}`);
  };
  const addText = (text: string): void => {
    const top = open[open.length - 1];
    if (top === undefined) return;
    if (top.text.length + text.length > maxText) fail(`text of <${top.name}> longer than ${maxText} characters`);
    top.text += text;
  };

  parser.on('opentag', (tag) => {
    const name = localName(tag.name);
    if (path.length >= maxDepth) fail(`elements nested deeper than ${maxDepth}`);
    const attributes = tag.attributes as Record<string, string>;
    const parent = open[open.length - 1];
    if (parent !== undefined) {
      if (++count > maxElements) fail(`<${open[0]!.name}> holds more than ${maxElements} elements`);
      const element: XmlElement = { name, attributes, text: '', children: [] };
      parent.children.push(element);
      open.push(element);
    } else if (options.select(name, attributes, path)) {
      count = 1;
      open.push({ name, attributes, text: '', children: [] });
    }
    path.push(name);
  });
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    const name = path.pop()!;
    if (open.length > 0) {
      const element = open.pop()!;
      if (open.length === 0) ready.push(element);
    }
    if (options.stopAfter?.(name, path)) stop = true;
  });
  parser.on('error', (err) => {
    throw err;
  });

  const feed = (fn: () => void): FeedParseError | null => {
    try {
      fn();
      return null;
    } catch (err) {
      if (err instanceof FeedParseError) return err;
      return new FeedParseError(`${options.label}: malformed XML: ${(err as Error).message}`, { cause: err });
    }
  };

  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    const failure = feed(() => parser.write(chunk));
    if (failure) throw failure;
    if (ready.length > 0) yield* ready.splice(0);
    if (stop) return;
  }
  const failure = feed(() => parser.close());
  if (failure) throw failure;
  if (ready.length > 0) yield* ready.splice(0);
}
