import { VexDocumentError } from './vex-document-error.ts';

const MAX_DEPTH = 256;

/**
 * Parses JSON text; on a syntax error throws a {@link VexDocumentError} with the line and column
 * (1-based; columns count UTF-16 units) of the first character that is not valid there, found
 * by a scan of its own (V8's messages do not always say where). Values nested deeper than 256
 * levels are refused. `code` is the error code the caller's documents use.
 */
export function parseJsonText(text: string, code = 'invalid_vex'): unknown {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const body = start === 0 ? text : text.slice(start);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    const found = locateSyntaxError(body);
    const offset = found?.offset ?? 0;
    const { line, column } = lineColumn(body, offset);
    throw new VexDocumentError(`not valid JSON: ${found?.message ?? (err as Error).message}`, { line, column }, { code });
  }
  const depth = nestingDepth(value);
  if (depth > MAX_DEPTH) throw new VexDocumentError(`nested deeper than ${MAX_DEPTH} levels`, null, { code });
  return value;
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function nestingDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > MAX_DEPTH) return max;
    if (Array.isArray(v)) for (const x of v) stack.push([x, d + 1]);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return max;
}

/**
 * The offset of the first syntax error of `text` and what was expected there (a small JSON
 * grammar walk, iterative so deep nesting cannot overflow the stack); null when it parses.
 */
export function locateSyntaxError(text: string): { offset: number; message: string } | null {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (message: string) => ({ offset: Math.min(i, n), message: i >= n ? `unexpected end of input (${message})` : `${message}, found ${JSON.stringify(text[i])}` });
  const string = (): string | null => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return null;
      }
      if (c < 0x20) return 'control character in a string';
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            return 'expected 4 hex digits after \\u';
          }
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          i++;
          return 'invalid escape in a string';
        }
        i += 2;
        continue;
      }
      i++;
    }
    return 'unterminated string';
  };
  const number = (): string | null => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m === null || m[0] === '' || m[0] === '-') return 'expected a value';
    i += m[0].length;
    return null;
  };
  // Containers on a stack: 'o' object, 'a' array; what comes next in each.
  const stack: Array<'o' | 'a'> = [];
  let expectValue = true;
  for (;;) {
    ws();
    if (expectValue) {
      const c = text[i];
      if (c === '{') {
        i++;
        ws();
        if (text[i] === '}') {
          i++;
          expectValue = false;
        } else {
          if (text[i] !== '"') return fail('expected a property name in double quotes or "}"');
          const e = string();
          if (e) return fail(e);
          ws();
          if (text[i] !== ':') return fail('expected ":" after a property name');
          i++;
          stack.push('o');
          continue;
        }
      } else if (c === '[') {
        i++;
        ws();
        if (text[i] === ']') {
          i++;
          expectValue = false;
        } else {
          stack.push('a');
          continue;
        }
      } else if (c === '"') {
        const e = string();
        if (e) return fail(e);
        expectValue = false;
      } else if (c === 't' || c === 'f' || c === 'n') {
        const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
        if (text.slice(i, i + word.length) !== word) return fail('expected a value');
        i += word.length;
        expectValue = false;
      } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
        const e = number();
        if (e) return fail(e);
        expectValue = false;
      } else {
        return fail('expected a value');
      }
    }
    // After a value: close containers or take the next element.
    ws();
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (i < n) return fail('expected the end of the document');
      return null;
    }
    const c = text[i];
    if (c === ',') {
      i++;
      ws();
      if (top === 'o') {
        if (text[i] !== '"') return fail('expected a property name in double quotes');
        const e = string();
        if (e) return fail(e);
        ws();
        if (text[i] !== ':') return fail('expected ":" after a property name');
        i++;
      }
      expectValue = true;
      continue;
    }
    if ((top === 'o' && c === '}') || (top === 'a' && c === ']')) {
      i++;
      stack.pop();
      expectValue = false;
      continue;
    }
    return fail(top === 'o' ? 'expected "," or "}"' : 'expected "," or "]"');
  }
}
