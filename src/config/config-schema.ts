import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { allFeeds } from '../ecosystems/index.ts';
import { authConfigSchema } from '../http/auth/auth-config.ts';
import { SEVERITIES } from '../ecosystems/vulnerability-record.ts';

/** Process roles; `lookout serve` runs all of them unless told otherwise. */
export const ROLES = ['api', 'worker', 'updater', 'notifier'] as const;
export type Role = (typeof ROLES)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();

/** A PostgreSQL connection URL (postgres:// or postgresql://), or empty for the embedded server. */
const databaseUrl = z.string().refine(
  (value) => {
    if (value === '') return true;
    try {
      const url = new URL(value);
      return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
    } catch {
      return false;
    }
  },
  { message: 'must be a postgres:// or postgresql:// URL, or empty for the embedded database' },
);

const serverSchema = z.strictObject({
  host: z.string().min(1),
  port,
  bodyLimitBytes: positiveInt,
  requestTimeoutSeconds: positiveInt,
  shutdownTimeoutSeconds: positiveInt,
  trustProxy: z.boolean(),
});

const databaseSchema = z.strictObject({
  url: databaseUrl,
  poolMax: positiveInt,
  migrateOnStart: z.boolean(),
  statementTimeoutSeconds: z.number().int().min(0),
});

const embeddedSchema = z.strictObject({
  osUser: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'must be a valid user name'),
  startTimeoutSeconds: positiveInt,
});

const jobsSchema = z.strictObject({
  concurrency: positiveInt,
  pollingIntervalSeconds: z.number().min(0.5),
  retryLimit: z.number().int().min(0),
  retryDelaySeconds: positiveInt,
  retryDelayMaxSeconds: positiveInt,
  expireInSeconds: positiveInt,
  superviseIntervalSeconds: positiveInt,
  retentionDays: positiveInt,
});

const logSchema = z.strictObject({
  level: z.enum(LOG_LEVELS),
});

const metricsSchema = z.strictObject({
  enabled: z.boolean(),
  processMetrics: z.boolean(),
});

/** `os/arch[/variant]`, as in an OCI index (`linux/amd64`, `linux/arm64/v8`). */
const platform = z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'must be os/arch or os/arch/variant');

/** One registry Lookout accepts pushes from and pulls from (never a host from a webhook body). */
const registrySchema = z.strictObject({
  /** Names the registry in webhook paths: /webhooks/<kind>/<name>. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be lowercase letters, digits, . _ -'),
  /** Base URL (scheme, host, port); only this origin (and its blob redirects) is fetched from. */
  url: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }),
  /** The secret the registry sends with its webhooks (Distribution: `Authorization: Bearer <secret>`). */
  webhookSecret: z.string().min(8, 'must be at least 8 characters').optional(),
  /** Header carrying the secret for Quay (which cannot sign); the `token` query parameter also works. */
  webhookHeader: z.string().regex(/^[A-Za-z0-9-]+$/).default('authorization'),
  /** Basic or token-service credentials, used as the registry's challenge asks. */
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** OAuth2 refresh token for the token service (instead of a password). */
  refreshToken: z.string().min(1).optional(),
  /** A static bearer token sent as is. */
  bearerToken: z.string().min(1).optional(),
  /** Platforms to scan in multi-arch images; empty = every linux platform in the index. */
  platforms: z.array(platform).default([]),
  /** Requests in flight to this registry at once. */
  concurrency: z.number().int().positive().max(64).default(4),
  timeouts: z
    .strictObject({
      connectSeconds: z.number().positive().default(10),
      headersSeconds: z.number().positive().default(30),
      bodyIdleSeconds: z.number().positive().default(60),
    })
    .prefault({}),
  /** Accept TLS certificates that do not verify (test registries only). */
  insecureTls: z.boolean().default(false),
  /** Other `host[:port]` names image references use for this registry. */
  aliases: z.array(z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be host or host:port')).default([]),
  /** How username/password become a token: `get` (docker token spec) or `oauth2-password`. */
  tokenGrant: z.enum(['get', 'oauth2-password']).default('get'),
  retries: z
    .strictObject({
      attempts: z.number().int().min(1).max(20).default(5),
      baseDelaySeconds: z.number().positive().default(0.5),
      maxDelaySeconds: z.number().positive().default(60),
    })
    .prefault({}),
});
export type RegistryConfig = z.infer<typeof registrySchema>;

const intakeSchema = z.strictObject({
  /** Push events for one digest within this window cause one scan (index children arrive before their index). */
  debounceSeconds: z.number().min(0).max(300),
  /** Walk each registry's catalog and tags this often to catch pushes it never announced; 0 = off. */
  reconcileIntervalMinutes: z.number().int().min(0),
});

const indexerSchema = z.strictObject({
  /** Layers of one image read at once (each decompresses on the thread pool). */
  layerConcurrency: z.number().int().min(1).max(16),
  /** Per layer: compressed bytes, decompressed bytes, tar entries, one wanted file, all kept files. */
  maxCompressedBytes: z.number().int().positive(),
  maxUncompressedBytes: z.number().int().positive(),
  maxEntries: z.number().int().positive(),
  maxFileBytes: z.number().int().positive(),
  maxKeptBytes: z.number().int().positive(),
});

/** One feed's settings; `options` are validated by the feed's own schema (see the superRefine below). */
const feedSchema = z.strictObject({
  enabled: z.boolean().optional(),
  url: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).optional(),
  intervalMinutes: z.number().int().min(5, 'at most every 5 minutes').optional(),
  maxBytes: z.number().int().positive().optional(),
  options: z.record(z.string(), z.unknown()).default({}),
});

const FEEDS = allFeeds();
const feedsSchema = z
  .looseObject({
    /** Turns every feed off (tests, air-gapped installs fed by `lookout feeds import`). */
    enabled: z.boolean(),
    intervalMinutes: z.number().int().min(5, 'at most every 5 minutes'),
    /** Largest download per feed file, unless the feed says otherwise. */
    maxBytes: z.number().int().positive(),
    /** How long one run may take before it is abandoned. */
    timeoutMinutes: z.number().int().positive(),
  })
  .superRefine((feeds, ctx) => {
    for (const [key, value] of Object.entries(feeds)) {
      if (['enabled', 'intervalMinutes', 'maxBytes', 'timeoutMinutes'].includes(key)) continue;
      const definition = FEEDS.get(key);
      if (!definition) {
        ctx.addIssue({ code: 'custom', path: [key], message: `unknown feed (known: ${[...FEEDS.keys()].join(', ')})` });
        continue;
      }
      const parsed = feedSchema.safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [key, ...issue.path] } as z.core.$ZodRawIssue);
        continue;
      }
      const options = definition.options.safeParse(parsed.data.options);
      if (!options.success) {
        for (const issue of options.error.issues) ctx.addIssue({ ...issue, path: [key, 'options', ...issue.path] } as z.core.$ZodRawIssue);
      }
    }
  });

/**
 * One route group's authentication. Key material may be given inline or as a file
 * (`rootCertBundleFile`, `jwksFile`): the file is read here, once, and its contents validated.
 */
const authGroupSchema = z.preprocess((value, ctx) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [fileKey, key] of [['rootCertBundleFile', 'rootCertBundle'], ['jwksFile', 'jwks']] as const) {
    if (typeof out[fileKey] !== 'string') continue;
    try {
      out[key] = readFileSync(out[fileKey] as string, 'utf8');
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: [fileKey], message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    }
    delete out[fileKey];
  }
  return out;
}, authConfigSchema);

const authSchema = z.strictObject({
  /** The native API (`/api/v1`, the HTML report). */
  api: authGroupSchema,
  /** The Clair v4-compatible API (`/indexer`, `/matcher`, `/notifier`), as Quay calls it. */
  clair: authGroupSchema,
  /** The Harbor pluggable scanner adapter API. */
  harbor: authGroupSchema,
});

const glob = z.string().min(1).max(512);
const subscriptionSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, . _ -'),
  /** A configured registry's name; absent = every registry. */
  registry: z.string().optional(),
  /** Repositories covered: exact names, `prefix/*` or globs (`team/**`). */
  repositories: z.array(glob).min(1).default(['**']),
  channel: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('email'), recipients: z.array(z.email()).min(1).max(100) }),
    z.strictObject({ type: z.literal('webhook'), url: z.url({ protocol: /^https?$/ }), secret: z.string().min(16) }),
    z.strictObject({ type: z.literal('clair'), url: z.url({ protocol: /^https?$/ }), secret: z.string().min(16).optional() }),
  ]),
  minSeverity: z.enum(SEVERITIES).default('Low'),
  events: z.array(z.enum(['new-image', 'newly-affected', 'fix-available', 'resolved', 'exception-expired'])).min(1).default(['new-image', 'newly-affected', 'fix-available', 'resolved']),
});

const notifierSchema = z.strictObject({
  /** Lookout's public URL, for links in messages and Clair callbacks. */
  publicBaseUrl: z.url({ protocol: /^https?$/ }),
  /** Images count when a tag points at them or they were pushed within this many days. */
  currentImageDays: z.number().int().min(0),
  batchWindowSeconds: z.number().int().min(0),
  maxBatchSize: z.number().int().min(1).max(10_000),
  maxAttempts: z.number().int().min(1).max(100),
  retryBaseSeconds: z.number().positive(),
  retryMaxSeconds: z.number().positive(),
  ratePerSecond: z.number().positive(),
  rateBurst: z.number().int().min(1),
  concurrency: z.number().int().min(1).max(64),
  leaseSeconds: z.number().int().min(10),
  pollIntervalSeconds: z.number().positive(),
  /** Origins API-made webhook/Clair subscriptions may send to (`*` = any). */
  allowedWebhookOrigins: z.array(z.union([z.literal('*'), z.url({ protocol: /^https?$/ }).refine((u) => new URL(u).origin === u.replace(/\/$/, ''), 'an origin: scheme://host[:port]')])),
  maxSubscriptionsPerOwner: z.number().int().min(1).max(100_000),
  /** Delivered and dead deliveries (with their outbox rows) are deleted this many days after they ended. */
  retentionDays: z.number().int().min(1).max(3650),
  webhookTimeouts: z.strictObject({ connectSeconds: z.number().positive(), headersSeconds: z.number().positive(), totalSeconds: z.number().positive() }),
  /** SMTP server for email; null = email deliveries fail (retried, then dead-lettered) until one is set. */
  smtp: z
    .strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      security: z.enum(['tls', 'starttls', 'opportunistic', 'none']),
      user: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      from: z.string().min(3),
      insecureTls: z.boolean().default(false),
      timeoutSeconds: z.number().positive().default(30),
    })
    .nullable(),
});

const compatSchema = z.strictObject({
  clair: z.strictObject({
    /** Origins besides the configured registries that Clair layer URIs may point at (Quay's pre-signed storage URLs). */
    allowedLayerOrigins: z.array(z.url({ protocol: /^https?$/ })),
  }),
  harbor: z.strictObject({
    /** Where the adapter API is mounted (`<prefix>/api/v1/…`). */
    prefix: z.string().regex(/^\/[a-z0-9/_-]*$/, 'must start with / and hold only a-z 0-9 / _ -'),
    /** How Harbor fills `registry.authorization`: a robot account (Basic) or a token (Bearer). */
    registryAuthorizationType: z.enum(['Basic', 'Bearer']),
    /** `Refresh-After` told to Harbor while a scan runs. */
    refreshAfterSeconds: z.number().int().min(1).max(127),
    /** Finished scans are answered for this long. */
    retentionDays: z.number().int().min(1),
  }),
});

/** Operator advisories (`/api/v1/advisories`, `lookout advisories`). */
const advisoriesSchema = z.strictObject({
  /** Most active advisories (each is matched like a feed record). */
  maxAdvisories: z.number().int().min(1).max(1_000_000),
});

/** VEX documents (`/api/v1/vex`, `lookout vex import`). */
const vexSchema = z.strictObject({
  /** Largest document read (the API's body is also bounded by server.bodyLimitBytes). */
  maxDocumentBytes: positiveInt,
  /** Most (statement, product) pairs in one document. */
  maxStatements: z.number().int().min(1).max(1_000_000),
});

/** Exceptions (`/api/v1/exceptions`). */
const exceptionsSchema = z.strictObject({
  /** Longest an exception may last from its creation. */
  maxDurationDays: z.number().int().min(1).max(3650),
  /** How often the worker role looks for exceptions that expired. */
  checkIntervalSeconds: z.number().int().min(5).max(86_400),
});

/** The whole configuration, as validated once at start. */
export const configSchema = z
  .strictObject({
    dataDir: z.string().min(1),
    roles: z.array(z.enum(ROLES)).min(1),
    server: serverSchema,
    database: databaseSchema,
    embedded: embeddedSchema,
    jobs: jobsSchema,
    log: logSchema,
    metrics: metricsSchema,
    registries: z.array(registrySchema),
    intake: intakeSchema,
    indexer: indexerSchema,
    feeds: feedsSchema,
    auth: authSchema,
    notifier: notifierSchema,
    subscriptions: z.array(subscriptionSchema),
    compat: compatSchema,
    advisories: advisoriesSchema,
    vex: vexSchema,
    exceptions: exceptionsSchema,
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.registries.forEach((registry, i) => {
      if (seen.has(registry.name)) ctx.addIssue({ code: 'custom', path: ['registries', i, 'name'], message: `duplicate registry name ${registry.name}` });
      seen.add(registry.name);
      if ((registry.username === undefined) !== (registry.password === undefined) && registry.refreshToken === undefined) {
        ctx.addIssue({ code: 'custom', path: ['registries', i], message: 'username and password go together' });
      }
    });
    if (config.jobs.retryDelayMaxSeconds < config.jobs.retryDelaySeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['jobs', 'retryDelayMaxSeconds'],
        message: 'must be at least jobs.retryDelaySeconds',
      });
    }
  });

/** Validated, frozen configuration. Only `src/config` reads the environment to build it. */
export type Config = Readonly<z.infer<typeof configSchema>>;
