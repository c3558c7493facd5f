import { isDigest, type Digest } from '../oci/digest.ts';
import { RegistryError } from './registry-error.ts';

/** A parsed image reference: `registry/repository[:tag][@digest]`. */
export interface ImageReference {
  /** `host[:port]` (lower-cased host; IPv6 in brackets). */
  registry: string;
  /** Repository path inside the registry (`library/alpine`, `team/app`). */
  repository: string;
  /** The tag, or null when only a digest was given. */
  tag: string | null;
  /** The manifest digest, when given; it wins over the tag when fetching. */
  digest: Digest | null;
}

/** How references without a registry (and single-component names) are completed. */
export interface ImageReferenceDefaults {
  /** Registry used when the reference names none; without it such references are refused. */
  defaultRegistry?: string;
  /** Namespace prefixed to a one-component repository on the default registry (`library`). */
  defaultNamespace?: string;
  /** Tag used when neither tag nor digest is given; `latest` unless set. */
  defaultTag?: string;
}

const MAX_REFERENCE_CHARS = 512;
const MAX_NAME_CHARS = 255;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const PORT = /^[0-9]{1,5}$/;

/** True for a valid repository name (lower-case path components, at most 255 characters). */
export function isRepositoryName(value: string): boolean {
  return value.length > 0 && value.length <= MAX_NAME_CHARS && value.split('/').every((c) => PATH_COMPONENT.test(c));
}

/** True for a valid tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`). */
export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** True for a valid `host[:port]` registry name (DNS name, IPv4, or bracketed IPv6). */
export function isRegistryHost(value: string): boolean {
  let host = value;
  let port: string | null = null;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::([0-9]+))?$/.exec(value);
  if (v6) return v6[2] === undefined || PORT.test(v6[2]);
  const colon = value.lastIndexOf(':');
  if (colon >= 0) {
    host = value.slice(0, colon);
    port = value.slice(colon + 1);
    if (!PORT.test(port)) return false;
  }
  return host.length > 0 && host.length <= 253 && host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/**
 * Parses `[registry/]repository[:tag][@digest]` with the Docker rules: the first path component is
 * the registry when it contains `.` or `:` or is `localhost`; otherwise `defaultRegistry` is used
 * (and `defaultNamespace` is prefixed to a one-component name). A reference with neither tag nor
 * digest gets `defaultTag` (`latest`). Throws a {@link RegistryError} `invalid_reference` naming the problem.
 */
export function parseImageReference(text: string, defaults: ImageReferenceDefaults = {}): ImageReference {
  const fail = (why: string): never => {
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    throw new RegistryError('invalid_reference', `invalid image reference ${JSON.stringify(shown)}: ${why}`);
  };
  if (typeof text !== 'string' || text.length === 0) fail('empty');
  if (text.length > MAX_REFERENCE_CHARS) fail(`longer than ${MAX_REFERENCE_CHARS} characters`);
  if (/\s/.test(text)) fail('contains white space');

  let rest = text;
  let digest: Digest | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const candidate = rest.slice(at + 1);
    if (!isDigest(candidate)) fail('the digest is not a valid sha256/sha512 digest');
    digest = candidate as Digest;
    rest = rest.slice(0, at);
  }

  let tag: string | null = null;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    if (!isTag(tag)) fail('the tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}');
    rest = rest.slice(0, colon);
  }

  let registry: string;
  let repository: string;
  const firstSlash = rest.indexOf('/');
  const first = firstSlash >= 0 ? rest.slice(0, firstSlash) : '';
  if (firstSlash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    if (!isRegistryHost(first)) fail('the registry must be host[:port]');
    registry = lowerHost(first);
    repository = rest.slice(firstSlash + 1);
  } else {
    if (!defaults.defaultRegistry) fail('no registry named and no default registry configured');
    registry = lowerHost(defaults.defaultRegistry as string);
    repository = rest;
    if (defaults.defaultNamespace && !repository.includes('/')) repository = `${defaults.defaultNamespace}/${repository}`;
  }
  if (!isRepositoryName(repository)) {
    fail('the repository must be lower-case components [a-z0-9] joined by . _ __ - and separated by /, at most 255 characters');
  }
  if (tag === null && digest === null) tag = defaults.defaultTag ?? 'latest';
  return { registry, repository, tag, digest };
}

/** What to fetch the manifest by: the digest when there is one, else the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? (ref.tag as string);
}

/** The canonical text form, `registry/repository[:tag][@digest]`. */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== null ? `:${ref.tag}` : ''}${ref.digest !== null ? `@${ref.digest}` : ''}`;
}

function lowerHost(hostPort: string): string {
  const colon = hostPort.startsWith('[') ? hostPort.indexOf(']') + 1 : hostPort.lastIndexOf(':');
  if (colon <= 0 || colon >= hostPort.length) return hostPort.toLowerCase();
  return hostPort.slice(0, colon).toLowerCase() + hostPort.slice(colon);
}
