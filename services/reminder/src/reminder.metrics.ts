import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { counter, gauge, histogram } from '@booking/platform';
import { RemindersRepository } from './reminders/reminders.repository';

/** Reminder's domain metrics (no reminder or appointment ids as labels). */
export const reminderMetrics = {
  fired: counter({
    name: 'reminders_fired_total',
    help: 'Reminders dispatched (ReminderDue written to the outbox).',
  }),
  lateness: histogram({
    name: 'reminder_lateness_seconds',
    help: 'How long after its fire time a reminder was dispatched.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
  }),
};

const backlogReaders = new Set<() => Promise<number>>();

reminderMetricsBacklog();

function reminderMetricsBacklog() {
  gauge({
    name: 'reminders_due_backlog',
    help: 'Reminders whose fire time has passed and that are not dispatched yet (counted up to 100000); left out when it cannot be read.',
    async collect() {
      this.reset();
      for (const read of backlogReaders) {
        const due = await read().catch(() => undefined);
        if (due !== undefined) this.set(due);
      }
    },
  });
}

/**
 * Reports the due backlog (read when scraped) while the application runs. One reading per scrape,
 * one cheap bounded count on the (status, fire_at) index, whatever the dispatch rate.
 */
@Injectable()
export class ReminderBacklogMetric implements OnModuleInit, OnApplicationShutdown {
  private readonly read = () => this.reminders.dueBacklog();

  constructor(private readonly reminders: RemindersRepository) {}

  onModuleInit(): void {
    backlogReaders.add(this.read);
  }

  onApplicationShutdown(): void {
    backlogReaders.delete(this.read);
  }
}
