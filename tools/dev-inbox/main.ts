import { z } from 'zod';
import { ConfigError, loadConfig, portVariable } from '@booking/platform/config';
import { DevInbox } from '@booking/dev-inbox';

/**
 * The development inbox `npm start` runs (scripts/start.sh): local receivers for the notification
 * service's mail (SMTP), SMS (Twilio's Messages API) and push webhooks, and a page listing every
 * message. Development only: it refuses to start with NODE_ENV=production.
 */
const shape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DEV_INBOX_PORT: portVariable(3005),
  DEV_INBOX_SMTP_PORT: portVariable(1025),
  DEV_INBOX_HOST: z.string().default('127.0.0.1'),
};

async function main(): Promise<void> {
  const config = loadConfig('dev-inbox', shape);
  if (config.NODE_ENV === 'production') {
    throw new ConfigError('dev-inbox', ['NODE_ENV=production: the development inbox catches messages meant for people and never runs in production']);
  }
  const inbox = new DevInbox({ httpPort: config.DEV_INBOX_PORT, smtpPort: config.DEV_INBOX_SMTP_PORT, host: config.DEV_INBOX_HOST });
  const { url, smtpUrl } = await inbox.start();
  process.stdout.write(`dev inbox on ${url} (mail: ${smtpUrl}; SMS: Twilio Messages API at ${url}; push: ${url}/push/<name>)\n`);
  const stop = () => {
    inbox.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error.stack ?? String(error))}\n`);
  process.exit(1);
});
