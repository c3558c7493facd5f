import { z } from 'zod';
import { SEVERITIES, type Severity } from '../ecosystems/vulnerability-record.ts';
import { isDigest } from '../oci/digest.ts';

/** Why an outbox row was written (the `notifications.event` column). */
export const NOTIFICATION_EVENTS = ['new-image', 'newly-affected', 'fix-available', 'resolved', 'exception-expired'] as const;
/** One of {@link NOTIFICATION_EVENTS}. */
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** The image an outbox row is about: where it lives and the manifest digest that identifies it. */
export interface PayloadImage {
  /** The configured registry's name (as in `registries[].name`), or its host when that is what is known. */
  registry: string;
  /** Repository path inside the registry (`library/nginx`). */
  repository: string;
  /** Tags pointing at the digest when the row was written; may be empty (untagged). */
  tags: string[];
  /** Manifest digest, `sha256:…`. */
  digest: string;
  /** `os/arch[/variant]` for a platform manifest of a multi-arch image, when known. */
  platform?: string | null;
}

/** The vulnerable (or no longer vulnerable) package in that image. */
export interface PayloadFinding {
  /** Vulnerability id (`CVE-2026-1234`, `GHSA-…`). */
  vulnerability: string;
  aliases?: string[];
  /** Package name as installed. */
  package: string;
  /** Package format (`dpkg`, `apk`, `npm`, …), when known. */
  ecosystem?: string | null;
  installedVersion: string;
  /** The version that fixes it, or null when there is none (yet). */
  fixedVersion: string | null;
  /** Normalized severity. */
  severity: Severity;
  /** The vendor's own severity word, unchanged, when there is one. */
  vendorSeverity?: string | null;
  /** Digest of the layer that introduced the package, when known. */
  layer: string | null;
  /** Advisory links from the feed. */
  links?: string[];
}

/** Where a reader of the notification sees the image: the status API and the HTML report. */
export interface PayloadLinks {
  /** `<publicBaseUrl>/api/v1/images/<digest>` */
  status: string;
  /** `<publicBaseUrl>/images/<digest>` */
  report: string;
}

/**
 * What one outbox row (`notifications.payload`) carries: everything a message needs, so delivery
 * never reads other tables and a message says what was true when the change happened. The writer
 * fills it in the transaction of the change; {@link parseNotificationPayload} checks it on the way out.
 */
export interface NotificationPayload {
  /** Shape version; 1 for this one. */
  version: 1;
  event: NotificationEvent;
  image: PayloadImage;
  finding: PayloadFinding;
  links: PayloadLinks;
  /** When the change was seen (ISO 8601), e.g. the feed run's finish time. */
  occurredAt?: string;
}

const MAX_TEXT = 512;
const text = z.string().min(1).max(MAX_TEXT);
const url = z.string().max(2048).refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), { message: 'must be an http(s) URL' });
const digest = z.string().refine(isDigest, { message: 'must be a sha256/sha512 digest' });

/** The validator of {@link NotificationPayload}; unknown keys are dropped. */
export const notificationPayloadSchema = z.object({
  version: z.literal(1),
  event: z.enum(NOTIFICATION_EVENTS),
  image: z.object({
    registry: text,
    repository: text,
    tags: z.array(z.string().min(1).max(128)).max(100),
    digest,
    platform: z.string().max(64).nullish(),
  }),
  finding: z.object({
    vulnerability: text,
    aliases: z.array(text).max(50).optional(),
    package: text,
    ecosystem: z.string().max(64).nullish(),
    installedVersion: z.string().max(MAX_TEXT),
    fixedVersion: z.string().max(MAX_TEXT).nullable(),
    severity: z.enum(SEVERITIES),
    vendorSeverity: z.string().max(128).nullish(),
    layer: digest.nullable(),
    links: z.array(url).max(20).optional(),
  }),
  links: z.object({ status: url, report: url }),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
}) satisfies z.ZodType<NotificationPayload, unknown>;

/** A payload read back from the outbox: the parsed value, or the reason it is not one. */
export type ParsedPayload = { ok: true; payload: NotificationPayload } | { ok: false; reason: string };

/** Checks a stored payload (written by another part, so not trusted blindly); never throws. */
export function parseNotificationPayload(value: unknown): ParsedPayload {
  const result = notificationPayloadSchema.safeParse(value);
  if (result.success) return { ok: true, payload: result.data as NotificationPayload };
  const first = result.error.issues[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  return { ok: false, reason: `${where}${first?.message ?? 'invalid payload'}` };
}

/**
 * The links of an image under Lookout's public base URL (`https://lookout.example.com`, a path
 * prefix kept): the status API and the HTML report. Throws on a malformed base URL or digest.
 */
export function imageLinks(publicBaseUrl: string, imageDigest: string): PayloadLinks {
  if (!isDigest(imageDigest)) throw new TypeError('image digest is not a valid sha256/sha512 digest');
  const base = publicBase(publicBaseUrl);
  return { status: `${base}/api/v1/images/${imageDigest}`, report: `${base}/images/${imageDigest}` };
}

/** `publicBaseUrl` checked (http/https, no credentials, query or fragment) and without its trailing slash. */
export function publicBase(publicBaseUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(publicBaseUrl);
  } catch {
    throw new TypeError('public base URL is not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError('public base URL must be http:// or https://');
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '') {
    throw new TypeError('public base URL must not carry credentials, a query or a fragment');
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
