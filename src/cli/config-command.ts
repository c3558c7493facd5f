import { stringify } from 'yaml';
import { loadConfig } from '../config/load-config.ts';
import { redactSecrets } from '../log/redact.ts';

/** `lookout config`: validates and prints the effective configuration with secrets masked. */
export async function configCommand(): Promise<void> {
  const config = loadConfig();
  process.stdout.write(stringify(redactSecrets(config)));
}
