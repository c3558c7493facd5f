/** One authentication challenge from a `WWW-Authenticate` header (RFC 7235 §2.1, §4.1). */
export interface Challenge {
  /** The auth scheme, lower-cased (`bearer`, `basic`). */
  scheme: string;
  /** Parameters by lower-cased name, quoted strings unescaped; the first of duplicate names wins. */
  params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), when the challenge has one instead of parameters. */
  token68?: string;
}

/** Longest header value parsed; the rest is ignored. */
const MAX_HEADER_CHARS = 16 * 1024;
const MAX_CHALLENGES = 16;
const MAX_PARAMS = 32;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/**
 * Parses `WWW-Authenticate` values into challenges: several challenges per value and several values
 * (repeated headers), `token68` or comma-separated `name=value` parameters with token or quoted-string
 * values (commas inside quotes, backslash escapes). Never throws: parsing stops at the first malformed
 * part and the challenges read so far are returned. Input is bounded (16 KiB, 16 challenges, 32 params each).
 */
export function parseWwwAuthenticate(value: string | readonly string[] | undefined | null): Challenge[] {
  if (value === undefined || value === null) return [];
  const values = typeof value === 'string' ? [value] : value;
  const out: Challenge[] = [];
  let budget = MAX_HEADER_CHARS;
  for (const one of values) {
    if (budget <= 0 || out.length >= MAX_CHALLENGES) break;
    const text = one.slice(0, budget);
    budget -= text.length;
    for (const challenge of new ChallengeParser(text).parse()) {
      if (out.length >= MAX_CHALLENGES) break;
      out.push(challenge);
    }
  }
  return out;
}

/** The first challenge whose scheme is `scheme` (case-insensitive). */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((c) => c.scheme === wanted);
}

class ChallengeParser {
  private readonly s: string;
  private i = 0;

  constructor(s: string) {
    this.s = s;
  }

  parse(): Challenge[] {
    const challenges: Challenge[] = [];
    for (;;) {
      this.skipCommasAndSpaces();
      if (this.i >= this.s.length) return challenges;
      const scheme = this.token();
      if (scheme === null) return challenges; // malformed: stop here
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      challenges.push(challenge);
      const afterScheme = this.i;
      this.skipSpaces();
      if (this.i === afterScheme && this.i < this.s.length && this.s[this.i] !== ',') return challenges;
      if (this.i >= this.s.length) return challenges;

      const token68 = this.tryToken68();
      if (token68 !== null) {
        challenge.token68 = token68;
        continue;
      }
      if (!this.params(challenge)) return challenges;
    }
  }

  /** Reads `name=value` pairs until the next challenge (left unread) or the end; false when malformed. */
  private params(challenge: Challenge): boolean {
    let count = 0;
    for (;;) {
      this.skipCommasAndSpaces();
      if (this.i >= this.s.length) return true;
      const start = this.i;
      const name = this.token();
      if (name === null) return false;
      this.skipSpaces();
      if (this.s[this.i] !== '=') {
        // not a parameter: the scheme of the next challenge
        this.i = start;
        return true;
      }
      this.i++;
      this.skipSpaces();
      const value = this.s[this.i] === '"' ? this.quoted() : this.token();
      if (value === null) return false;
      const key = name.toLowerCase();
      if (count < MAX_PARAMS && !(key in challenge.params)) challenge.params[key] = value;
      count++;
      this.skipSpaces();
      if (this.i < this.s.length && this.s[this.i] !== ',') return false;
    }
  }

  private tryToken68(): string | null {
    const m = TOKEN68.exec(this.s.slice(this.i));
    if (!m) return null;
    let j = this.i + m[0].length;
    while (this.s[j] === ' ' || this.s[j] === '\t') j++;
    if (j < this.s.length && this.s[j] !== ',') return null; // `name=value`: parameters, not a token68
    this.i = j;
    return m[0];
  }

  private token(): string | null {
    const start = this.i;
    while (this.i < this.s.length && TCHAR.test(this.s[this.i]!)) this.i++;
    return this.i > start ? this.s.slice(start, this.i) : null;
  }

  private quoted(): string | null {
    this.i++; // opening quote
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '\\') {
        if (this.i + 1 >= this.s.length) return null;
        out += this.s[this.i + 1];
        this.i += 2;
        continue;
      }
      if (c === '"') {
        this.i++;
        return out;
      }
      out += c;
      this.i++;
    }
    return null; // unterminated
  }

  private skipSpaces(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }

  private skipCommasAndSpaces(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t' || this.s[this.i] === ',') this.i++;
  }
}
