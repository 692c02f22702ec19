import { baseConfigShape, loadConfig, portVariable } from '@booking/platform';

export const notificationConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3003),
};

export type NotificationConfig = ReturnType<typeof loadNotificationConfig>;

export function loadNotificationConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('notification', notificationConfigShape, env);
}
