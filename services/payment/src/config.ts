import { baseConfigShape, loadConfig, portVariable } from '@booking/platform';

export const paymentConfigShape = {
  ...baseConfigShape,
  PORT: portVariable(3002),
};

export type PaymentConfig = ReturnType<typeof loadPaymentConfig>;

export function loadPaymentConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig('payment', paymentConfigShape, env);
}
