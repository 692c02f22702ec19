import { baseConfigShape, loadConfig, portVariable } from '@booking/platform';

export const schedulingConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3001),
};

export type SchedulingConfig = ReturnType<typeof loadSchedulingConfig>;

export function loadSchedulingConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('scheduling', schedulingConfigShape, env);
}
