/** Topics are per producing aggregate, keyed by the aggregate (appointment) id. */
export const TOPICS = {
  appointment: 'scheduling.appointment.v1',
  provider: 'scheduling.provider.v1',
  payment: 'payment.v1',
  reminder: 'reminder.v1',
  notification: 'notification.v1',
} as const;

export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

export const ALL_TOPICS: readonly Topic[] = Object.values(TOPICS);

export const dlqTopic = (topic: string): string => `${topic}.dlq`;
