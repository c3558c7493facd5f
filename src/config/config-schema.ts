import { z } from 'zod';

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
  })
  .superRefine((config, ctx) => {
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
