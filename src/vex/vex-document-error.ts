import { BadRequestError } from '../errors/app-error.ts';

/** Where in a document a problem is: a JSON pointer (RFC 6901) into the parsed value, or a line and column of the text. */
export type DocumentPosition = { pointer: string } | { line: number; column: number };

/**
 * A VEX (or advisory) document that cannot be imported, with the position of the problem:
 * `/statements/3/status: …` for a value, `line 12 column 5: …` for JSON that does not parse.
 * A 400 on the API (`invalid_vex`, or the code given); the CLI prints the message and exits 2.
 */
export class VexDocumentError extends BadRequestError {
  readonly position: DocumentPosition | null;

  constructor(message: string, position: DocumentPosition | null, options: { code?: string } = {}) {
    super(`${describePosition(position)}${message}`, { code: options.code ?? 'invalid_vex' });
    this.position = position;
  }
}

function describePosition(position: DocumentPosition | null): string {
  if (position === null) return '';
  if ('pointer' in position) return `${position.pointer === '' ? '(document)' : position.pointer}: `;
  return `line ${position.line} column ${position.column}: `;
}

/** `base` extended by one reference token (`~` and `/` escaped as RFC 6901 says). */
export function pointerAt(base: string, token: string | number): string {
  return `${base}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}
