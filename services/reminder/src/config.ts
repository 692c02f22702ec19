import { baseConfigShape, loadConfig, portVariable } from '@booking/platform';

export const reminderConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3004),
};

export type ReminderConfig = ReturnType<typeof loadReminderConfig>;

export function loadReminderConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('reminder', reminderConfigShape, env);
}
