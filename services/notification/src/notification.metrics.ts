import { counter } from '@booking/platform';

/** Notification's domain metrics: labels are the channel and the outcome only. */
export const notificationMetrics = {
  deliveries: counter({
    name: 'notifications_total',
    help: 'Deliveries finished, by channel (EMAIL, SMS, PUSH) and outcome (sent: the provider accepted it; failed: given up or no address).',
    labelNames: ['channel', 'outcome'] as const,
  }),
};
