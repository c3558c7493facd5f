import pg from 'pg';

/**
 * Runs `fn` holding a PostgreSQL session-level advisory lock named `key`, on a connection of its
 * own (so a long hold never starves the pool). With `wait: false`, resolves to `{ locked: false }`
 * at once when another session holds it; otherwise waits for it.
 */
export async function withAdvisoryLock<T>(
  databaseUrl: string,
  key: string,
  options: { wait: boolean },
  fn: () => Promise<T>,
): Promise<{ locked: true; value: T } | { locked: false }> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'lookout-lock' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    if (options.wait) {
      await client.query('select pg_advisory_lock(hashtext($1))', [key]);
    } else {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtext($1)) as locked', [key]);
      if (!rows[0]?.locked) return { locked: false };
    }
    // Ending the session releases the lock, whatever happens in fn.
    return { locked: true, value: await fn() };
  } finally {
    await client.end().catch(() => undefined);
  }
}
