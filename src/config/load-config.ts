import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './config-schema.ts';
import { ConfigError } from './config-error.ts';
import { deepMerge, isMapping as isTree } from './deep-merge.ts';

/** The shipped defaults; every key is there, commented. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

const ENV_PREFIX = 'LOOKOUT_';
/** Variables under the prefix that are not config keys. */
const RESERVED_ENV = new Set(['LOOKOUT_CONFIG']);

type Tree = Record<string, unknown>;

export interface LoadConfigOptions {
  /** The environment to read; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags; they win over everything else. */
  overrides?: Tree;
  /** Working directory that relative paths are resolved against. */
  cwd?: string;
}

/**
 * Builds the configuration from `config/default.yaml`, the operator's file (`LOOKOUT_CONFIG`),
 * `DATABASE_URL`/`PORT`, `LOOKOUT_*` variables and flags, in that order of precedence (last wins).
 * The result is validated as a whole and frozen. Throws {@link ConfigError} listing every problem
 * with its key path and where the value came from; values themselves are never echoed, so a secret
 * in a bad value does not reach the terminal.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const sources = new Map<string, string>();

  const defaults = readYamlFile(DEFAULT_CONFIG_FILE, 'config/default.yaml', problems);
  let merged: Tree = defaults ?? {};
  markSources(merged, [], 'config/default.yaml', sources);

  const operatorFile = env.LOOKOUT_CONFIG;
  if (operatorFile !== undefined && operatorFile !== '') {
    const file = path.resolve(cwd, operatorFile);
    const tree = readYamlFile(file, `LOOKOUT_CONFIG (${operatorFile})`, problems);
    if (tree) {
      markSources(tree, [], operatorFile, sources);
      merged = deepMerge(merged, tree);
    }
  }

  const conventional: Array<[string, string[]]> = [
    ['DATABASE_URL', ['database', 'url']],
    ['PORT', ['server', 'port']],
  ];
  for (const [name, keyPath] of conventional) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      setPath(merged, keyPath, parseEnvValue(value, getPath(defaults ?? {}, keyPath)));
      sources.set(keyPath.join('.'), name);
    }
  }

  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(ENV_PREFIX) || RESERVED_ENV.has(name) || value === undefined) continue;
    const keyPath = envNameToPath(name);
    if (keyPath === null) {
      problems.push(`${name}: not a valid key name (use LOOKOUT_SECTION__KEY_NAME)`);
      continue;
    }
    setPath(merged, keyPath, parseEnvValue(value, getPath(defaults ?? {}, keyPath)));
    sources.set(keyPath.join('.'), name);
  }

  if (options.overrides) {
    markSources(options.overrides, [], 'command line', sources);
    merged = deepMerge(merged, options.overrides);
  }

  const result = configSchema.safeParse(merged);
  if (!result.success) problems.push(...formatIssues(result.error.issues, sources));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);

  const config = result.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  return deepFreeze(config);
}

function readYamlFile(file: string, label: string, problems: string[]): Tree | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push(`${label}: cannot read the file (${code})`);
    return null;
  }
  try {
    const tree: unknown = parseYaml(text);
    if (tree === null || tree === undefined) return {};
    if (!isTree(tree)) {
      problems.push(`${label}: the file must hold a mapping of keys`);
      return null;
    }
    return tree;
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos?.[0] ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
      problems.push(`${label}: invalid YAML${where} (${err.code})`);
      return null;
    }
    throw err;
  }
}

/** `LOOKOUT_SERVER__BODY_LIMIT_BYTES` → `['server', 'bodyLimitBytes']`. */
export function envNameToPath(name: string): string[] | null {
  const segments = name.slice(ENV_PREFIX.length).split('__');
  if (segments.some((s) => !/^[A-Z0-9]+(_[A-Z0-9]+)*$/.test(s))) return null;
  return segments.map((s) =>
    s
      .toLowerCase()
      .split('_')
      .map((word, i) => (i === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1)))
      .join(''),
  );
}

/** Environment values are YAML scalars (`8080`, `true`, `[a, b]`); a comma list fills an array key. */
function parseEnvValue(value: string, defaultValue: unknown): unknown {
  if (Array.isArray(defaultValue) && !value.trim().startsWith('[')) {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  if (typeof defaultValue === 'string') return value;
  try {
    return parseYaml(value);
  } catch {
    return value;
  }
}

function formatIssues(issues: readonly z.core.$ZodIssue[], sources: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const keyPath = [...base, key];
        lines.push(`${keyPath.join('.')}: unknown key${sourceOf(keyPath, sources)}`);
      }
      continue;
    }
    const label = base.length > 0 ? base.join('.') : '(root)';
    lines.push(`${label}: ${issue.message}${sourceOf(base, sources)}`);
  }
  return lines;
}

function sourceOf(keyPath: string[], sources: Map<string, string>): string {
  for (let i = keyPath.length; i > 0; i--) {
    const source = sources.get(keyPath.slice(0, i).join('.'));
    if (source !== undefined) return ` (from ${source})`;
  }
  return '';
}

function markSources(tree: Tree, prefix: string[], source: string, sources: Map<string, string>): void {
  for (const [key, value] of Object.entries(tree)) {
    const keyPath = [...prefix, key];
    sources.set(keyPath.join('.'), source);
    if (isTree(value)) markSources(value, keyPath, source, sources);
  }
}

function getPath(tree: Tree, keyPath: string[]): unknown {
  let node: unknown = tree;
  for (const key of keyPath) {
    if (!isTree(node)) return undefined;
    node = node[key];
  }
  return node;
}

function setPath(tree: Tree, keyPath: string[], value: unknown): void {
  let node = tree;
  for (const key of keyPath.slice(0, -1)) {
    const next = node[key];
    if (isTree(next)) {
      node = next;
    } else {
      const created: Tree = {};
      node[key] = created;
      node = created;
    }
  }
  const last = keyPath[keyPath.length - 1]!;
  const current = node[last];
  // A mapping given for a mapping key (LOOKOUT_FEEDS='{debian: {…}}') adds to it rather than replacing it.
  node[last] = isTree(current) && isTree(value) ? deepMerge(current, value) : value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
