import { baseConfigShape, loadConfig, portVariable } from '@booking/platform';

export const gatewayConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3000),
};

export type ApiGatewayConfig = ReturnType<typeof loadApiGatewayConfig>;

export function loadApiGatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('api-gateway', gatewayConfigShape, env);
}
