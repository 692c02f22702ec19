// The `migrate` command: applies this service's migrations as the migration role, then exits.
import { runMigrateCommand } from '@booking/platform';
import { migrations } from './migrations';

void runMigrateCommand('api-gateway', 'gateway', migrations);
