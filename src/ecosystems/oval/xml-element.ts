/**
 * One element of a small XML subtree captured from a stream: its local name (namespace prefix
 * dropped), its attributes as written, the concatenated text of its own text and CDATA nodes, and
 * its child elements in document order.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: XmlElement[];
}

/** The first child element named `name` (local name), or null. */
export function xmlChild(element: XmlElement | null | undefined, name: string): XmlElement | null {
  if (!element) return null;
  for (const c of element.children) if (c.name === name) return c;
  return null;
}

/** Every child element named `name` (local name). */
export function xmlChildren(element: XmlElement | null | undefined, name: string): XmlElement[] {
  if (!element) return [];
  return element.children.filter((c) => c.name === name);
}

/** The trimmed text of the first child named `name`, or null when there is none or it is empty. */
export function xmlChildText(element: XmlElement | null | undefined, name: string): string | null {
  const text = xmlChild(element, name)?.text.trim() ?? '';
  return text === '' ? null : text;
}

/** An attribute's trimmed value, or null when absent or empty. */
export function xmlAttr(element: XmlElement | null | undefined, name: string): string | null {
  const value = element?.attributes[name]?.trim() ?? '';
  return value === '' ? null : value;
}
