import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Platform } from '@booking/platform';
import { Clock } from '../clock';
import { REMINDER_CONFIG, ReminderConfig } from '../config';
import { RemindersRepository } from '../reminders/reminders.repository';
import { DispatchResult, ReminderDispatcher } from './reminder-dispatcher';

export type WorkerStats = { worker: number; dispatched: number };

/**
 * REMINDER_WORKERS dispatch loops in this process; any number of processes may run them, SKIP LOCKED
 * keeps them apart. A loop claims batch after batch while the queue is full; when it runs dry it
 * sleeps until the next known fire time (at most the poll interval), so a reminder fires within
 * milliseconds of its time rather than on a once-a-minute tick.
 */
@Injectable()
export class ReminderWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private stopped = true;
  private loops: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  private readonly counters: WorkerStats[] = [];

  constructor(
    private readonly dispatcher: ReminderDispatcher,
    private readonly reminders: RemindersRepository,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(REMINDER_CONFIG) private readonly config: ReminderConfig,
    @Inject(Platform) private readonly platform: Platform,
  ) {}

  onApplicationBootstrap(): void {
    this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.counters.length = 0;
    for (let worker = 0; worker < this.config.REMINDER_WORKERS; worker++) {
      const stats = { worker, dispatched: 0 };
      this.counters.push(stats);
      this.loops.push(this.run(stats));
    }
  }

  /** Lets every loop finish its current claim (a short transaction), then returns. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    await Promise.all(this.loops);
    this.loops = [];
  }

  stats(): WorkerStats[] {
    return this.counters.map((c) => ({ ...c }));
  }

  private async run(stats: WorkerStats): Promise<void> {
    const { REMINDER_BATCH_SIZE: batchSize, REMINDER_POLL_INTERVAL_MS: poll } = this.config;
    while (!this.stopped) {
      let wait = poll;
      try {
        const result = await this.dispatcher.dispatchDue(batchSize);
        stats.dispatched += result.dispatched;
        const progressed = result.dispatched + result.cancelled > 0;
        if (result.locked === batchSize && progressed) continue;
        wait = await this.idleWait(result);
      } catch (error) {
        this.platform.logger.error({ err: error, worker: stats.worker }, 'reminder claim failed; retrying after the poll interval');
      }
      await this.sleep(wait);
    }
  }

  /**
   * Rows that were already due at the claim but not taken are held by another worker (or by a
   * cancellation in flight): leave them to it for one poll. A row that became due since is taken now.
   */
  private async idleWait(result: DispatchResult): Promise<number> {
    const poll = this.config.REMINDER_POLL_INTERVAL_MS;
    const next = await this.reminders.nextFireAt();
    if (!next || next.getTime() <= result.asOf.getTime()) return poll;
    return Math.min(poll, Math.max(0, next.getTime() - this.clock.now().getTime()));
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
