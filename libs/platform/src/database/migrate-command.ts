import { baseConfigShape, ConfigError, loadConfig } from '../config/config';
import { createLogger } from '../logging/logger';
import { serviceMigrations } from '../outbox/outbox';
import { Migration, migrateSchema } from './database';

/**
 * The `migrate` command of a service (`node dist/services/<name>/src/migrate.js`, `migrate` in its
 * image, `npm run migrate`): applies the service's pending migrations as the migration role
 * (DATABASE_MIGRATION_URL, else DATABASE_DIRECT_URL, else DATABASE_URL) and exits. It reads only the
 * database settings, so it needs none of the service's other secrets. Exit code 0 when the schema is
 * at this release or newer, 1 otherwise.
 */
export async function runMigrateCommand(service: string, schema: string, migrations: readonly Migration[]): Promise<void> {
  let code = 0;
  try {
    const config = loadConfig(service, baseConfigShape);
    const logger = createLogger(`${service}-migrate`, config.LOG_LEVEL);
    try {
      const { applied, newer } = await migrateSchema(config, schema, serviceMigrations(schema, migrations));
      logger.info({ schema, applied, newer }, newer.length ? 'schema is ahead of this release; nothing to apply' : applied.length ? 'migrations applied' : 'schema is up to date');
    } catch (error) {
      logger.error({ err: error, schema }, 'migration failed');
      code = 1;
    }
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error))}\n`);
    code = 1;
  }
  process.exitCode = code;
}
