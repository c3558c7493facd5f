/** What identifies an installed gem, read from its specification without running it. */
export interface GemspecFields {
  /** The gem name, '' when the file sets an empty one, null when it cannot be told. */
  name: string | null;
  version: string | null;
  /** The platform of a native gem (`x86_64-linux`); null for plain Ruby gems. */
  platform: string | null;
  /** Where name and version came from: the Ruby assignments, or RubyGems' `# stub:` line. */
  source: 'assignments' | 'stub' | null;
}

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '<': '>' };

/**
 * The value of a Ruby string literal at the start of `expr` (`"x"`, `'x'`, `%q<x>`, `"x".freeze`,
 * `Gem::Version.new("1.2")`); null for anything else (a constant, a method call, interpolation).
 */
export function rubyStringLiteral(expr: string): string | null {
  let text = expr.trim();
  const wrapped = /^Gem::Version\.(?:new|create)\s*\(\s*([\s\S]*)$/.exec(text);
  if (wrapped !== null) text = (wrapped[1] as string).trim();
  const first = text[0];
  if (first === '"') return doubleQuoted(text);
  if (first === "'") return singleQuoted(text);
  const percent = /^%([qQ]?)([^\sA-Za-z0-9])/.exec(text);
  if (percent !== null) {
    const open = percent[2] as string;
    const close = CLOSERS[open] ?? open;
    let depth = 1;
    let value = '';
    for (let i = percent[0].length; i < text.length; i++) {
      const c = text[i] as string;
      if (c === '\\' && i + 1 < text.length) {
        value += text[++i];
        continue;
      }
      if (c === open && close !== open) depth++;
      else if (c === close && --depth === 0) return percent[1] === 'q' || !value.includes('#{') ? value : null;
      value += c;
    }
  }
  return null;
}

function singleQuoted(text: string): string | null {
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'") return value;
    if (c === '\\' && (text[i + 1] === "'" || text[i + 1] === '\\')) value += text[++i];
    else value += c;
  }
  return null;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', s: ' ', '0': '\0', e: '\x1b', a: '\x07', b: '\b', f: '\f', v: '\v' };

function doubleQuoted(text: string): string | null {
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') return value;
    if (c === '#' && text[i + 1] === '{') return null;
    if (c !== '\\') {
      value += c;
      continue;
    }
    const next = text[++i];
    if (next === undefined) return null;
    if (next === 'u') {
      const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(text.slice(i + 1));
      const plain = /^[0-9a-fA-F]{4}/.exec(text.slice(i + 1));
      const hex = braced?.[1] ?? plain?.[0];
      if (hex === undefined) return null;
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) return null;
      value += String.fromCodePoint(code);
      i += (braced?.[0] ?? hex).length;
    } else if (next === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 1))?.[0];
      if (hex === undefined) return null;
      value += String.fromCharCode(parseInt(hex, 16));
      i += hex.length;
    } else {
      value += ESCAPES[next] ?? next;
    }
  }
  return null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Reads the name, version and platform of an installed gem's specification (the Ruby DSL
 * RubyGems writes: `Gem::Specification.new do |s|` … `s.name = "rake".freeze`). Only the block
 * variable's own assignments count; when they are missing or not literals, the `# stub:` line
 * RubyGems writes at the top is used. Nothing is evaluated. Never throws.
 */
export function parseGemspec(text: string): GemspecFields {
  const result: GemspecFields = { name: null, version: null, platform: null, source: null };
  const block = /Gem::Specification\.new\s*(?:\([^)]*\))?\s*(?:do\s*\|\s*(\w+)\s*\||\{\s*\|\s*(\w+)\s*\|)/.exec(text);
  const variable = block?.[1] ?? block?.[2];
  if (variable !== undefined) {
    const assignment = (field: string): string | null => {
      const match = new RegExp(`^[ \\t]*${escapeRegExp(variable)}\\.${field}[ \\t]*=(?!=)[ \\t]*(.*)$`, 'm').exec(text);
      return match === null ? null : rubyStringLiteral(match[1] as string);
    };
    result.name = assignment('name');
    result.version = assignment('version');
    result.platform = assignment('platform');
    if (result.name !== null || result.version !== null) result.source = 'assignments';
  }
  if (result.name === null || result.version === null) {
    const stub = /^# stub: (\S+) (\S+) (\S+)/m.exec(text.slice(0, 4096));
    if (stub !== null) {
      result.name ??= stub[1] as string;
      result.version ??= stub[2] as string;
      if (result.platform === null && stub[3] !== 'ruby') result.platform = stub[3] as string;
      result.source = 'stub';
    }
  }
  if (result.platform === 'ruby' || result.platform === '') result.platform = null;
  return result;
}
