import { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer, IHeaders } from 'kafkajs';
import type { Logger } from 'pino';
import { ContractRegistry, Envelope, dlqTopic } from '@booking/contracts';
import { withCorrelation } from '../logging/correlation';
import { PermanentEventError } from './errors';
import { decodeEnvelope, EnvelopeDecodeError } from './codec';
import { consumerMetrics, trackConsumerMembership } from '../metrics/kafka-metrics';
import { consumerSpan, endSpan } from '../tracing/kafka-spans';
import { setEventTrace } from '../tracing/propagation';

export type EventContext = {
  topic: string;
  partition: number;
  offset: string;
  /** kafkajs only heartbeats between messages: a handler that waits on something slow calls this. */
  heartbeat: () => Promise<void>;
};

export type EventHandler = (event: Envelope, context: EventContext) => Promise<void>;

export type BatchContext = Omit<EventContext, 'offset'>;

/**
 * Handles a run of messages of one type from one partition at once: in offset order, every key at
 * most once. It must be all or nothing (one transaction) or idempotent per event (an inbox): if it
 * throws, each message of the run is handled again on its own by the type's EventHandler — retried,
 * and dead-lettered if it keeps failing — as if the batch had never run. Outgoing events should carry
 * each source event's correlation (see withCorrelation); the consumer cannot wrap a whole batch.
 */
export type BatchEventHandler = (events: Envelope[], context: BatchContext) => Promise<void>;

export type ConsumerOptions = {
  groupId: string;
  topics: string[];
  /** Handlers by event type. Types without a handler are acknowledged and skipped. */
  handlers: Record<string, EventHandler>;
  /**
   * Optional handlers for runs of consecutive messages of one type (each type also needs its
   * EventHandler, which takes over when the batch handler throws). A run of one message goes to the
   * EventHandler directly.
   */
  batchHandlers?: Record<string, BatchEventHandler>;
  /** Longest run given to a batch handler (default 100). */
  maxBatchSize?: number;
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  sessionTimeoutMs?: number;
  partitionsConsumedConcurrently?: number;
  /**
   * How many keys of one partition's batch are handled at the same time. Messages with the same key
   * are always handled one after the other, in offset order; messages with different keys are
   * independent (they would be in different partitions just as well). 1 (the default) handles a
   * partition strictly one message at a time. Only raise it for handlers that are safe to run
   * concurrently for different keys — which every handler already is across partitions.
   */
  keyConcurrency?: number;
  /** Shortest time between two offset commits of this consumer (default 100 ms; see OffsetCommitter). */
  commitIntervalMs?: number;
  /** How long a fetch waits at the broker for data before it returns empty (it returns as soon as data arrives). */
  maxWaitTimeInMs?: number;
  fromBeginning?: boolean;
  /** The event contracts messages are decoded and upcast with (default: libs/contracts' eventContracts). */
  contracts?: ContractRegistry;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Item = { index: number; message: KafkaMessage; event?: Envelope; decodeError?: Error };
/** `type` set: a run for that type's batch handler; unset: messages for their own handlers. */
type Segment = { type?: string; items: Item[] };
type BatchRun = {
  topic: string;
  partition: number;
  heartbeat: () => Promise<void>;
  halted: () => boolean;
  finished: (index: number) => void;
  failure?: { error: unknown };
};

/** One lane per key; a null key is a key of its own. */
const keyOf = (message: KafkaMessage) => (message.key === null ? '\u0000null' : message.key.toString('latin1'));

/**
 * At-least-once consumer: the offset is committed only after the handler finished (or the message was
 * dead-lettered). A failing message is retried with exponential backoff a bounded number of times and
 * then sent to `<topic>.dlq`, so it never blocks its partition for long and is never skipped silently.
 *
 * Messages arrive in batches per partition. Within a batch, messages are grouped by key: each key's
 * messages run in offset order, up to `keyConcurrency` keys at once. The partition's offset advances
 * only over a contiguous run of finished messages, so a message still running (or retrying) holds the
 * offset back even if later ones finished — after a crash those are delivered again and the inbox
 * makes that harmless. Offsets are committed in the background, one commit request at a time for all
 * partitions of the consumer, at most one every `commitIntervalMs`, and flushed before the consumer
 * leaves its group.
 */
export class EventConsumer {
  private consumer?: Consumer;
  private running = false;
  private stopping = false;
  private starting?: Promise<void>;
  private wake?: () => void;
  private joined = false;
  private lastContact = 0;
  private lastError?: string;
  private readonly active = new Set<Promise<void>>();
  private committer?: OffsetCommitter;
  private readonly metrics = consumerMetrics();

  constructor(
    private readonly kafka: Kafka,
    private readonly dlqProducer: Producer,
    private readonly logger: Logger,
    private readonly options: ConsumerOptions,
  ) {
    // Every series an alert asks about exists from the start at 0, so that its first increase shows,
    // also while the consumer is still joining in the background.
    for (const topic of options.topics) {
      for (const type of [...Object.keys(options.handlers), 'undecodable']) {
        for (const outcome of ['handled', 'retried', 'dead_lettered'] as const) this.metrics.messages.inc({ group: options.groupId, topic, type, outcome }, 0);
      }
    }
  }

  /** The (namespaced) group and the topics it reads, for the lag gauge. */
  get subscription(): { group: string; topics: readonly string[] } {
    return { group: this.options.groupId, topics: this.options.topics };
  }

  /**
   * Joins the group in the background and returns at once: a service serves what needs no broker
   * while the broker is away or the group is still settling (after an unclean exit that takes the
   * session timeout). Attempts go on, with a backoff, until the consumer runs or is stopped.
   */
  start(): void {
    if (this.starting || this.running) return;
    this.stopping = false;
    this.starting = this.startUntilRunning().finally(() => (this.starting = undefined));
  }

  /** Whether this consumer is a member of its group now: joined, and heard from the broker within the session timeout. */
  inGroup(): boolean {
    return this.joined && Date.now() - this.lastContact < this.sessionTimeoutMs;
  }

  /** Why the consumer is not in its group, for readiness answers; undefined while it is. */
  notInGroupReason(): string | undefined {
    if (this.inGroup()) return undefined;
    if (!this.joined) return this.lastError ? `not in group ${this.options.groupId}: ${this.lastError}` : `joining group ${this.options.groupId}`;
    return `no word from the broker for group ${this.options.groupId} for ${Math.round((Date.now() - this.lastContact) / 1000)} s`;
  }

  private get sessionTimeoutMs(): number {
    return this.options.sessionTimeoutMs ?? 10000;
  }

  private async startUntilRunning(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.connectAndRun();
        return;
      } catch (error) {
        this.lastError = (error as Error).message;
        // Said once per outage; the attempts go on quietly.
        if (attempt === 1) this.logger.warn({ err: error, groupId: this.options.groupId }, 'consumer cannot join its group yet; retrying in the background');
        await this.consumer?.disconnect().catch(() => undefined);
        this.consumer = undefined;
        await this.pause(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
      }
    }
  }

  private async connectAndRun(): Promise<void> {
    const o = this.options;
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: this.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(this.sessionTimeoutMs / 3)),
      rebalanceTimeout: 20000,
      // The broker answers a fetch as soon as data arrives; the wait only bounds how often an idle
      // consumer asks again.
      maxWaitTimeInMs: o.maxWaitTimeInMs ?? 100,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    this.committer = new OffsetCommitter(consumer, this.logger, o.commitIntervalMs ?? 100);
    trackConsumerMembership(consumer, o.groupId, this.logger);
    const contact = () => (this.lastContact = Date.now());
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (!this.joined && this.lastError) this.logger.info({ groupId: o.groupId }, 'consumer is back in its group');
      this.joined = true;
      this.lastError = undefined;
      contact();
    });
    consumer.on(consumer.events.HEARTBEAT, contact);
    consumer.on(consumer.events.FETCH, contact);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      this.lastError = payload.error.message;
      // kafkajs restarts the consumer itself after a retriable crash; after any other one this does.
      if (!payload.restart && !this.stopping && consumer === this.consumer) {
        this.logger.info({ groupId: o.groupId }, 'kafkajs does not restart the consumer after this crash; joining again in the background');
        this.running = false;
        this.consumer = undefined;
        void consumer.disconnect().catch(() => undefined);
        setTimeout(() => {
          if (!this.stopping) this.start();
        }, 1000);
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning ?? true });
    this.running = true;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.track(this.processBatch(payload)),
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async track(work: Promise<void>): Promise<void> {
    this.active.add(work);
    try {
      await work;
    } finally {
      this.active.delete(work);
    }
  }

  private async processBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    const committer = this.committer;
    if (messages.length === 0 || !committer || !this.running) return;
    const done = new Array<boolean>(messages.length).fill(false);
    let watermark = 0; // messages[0 .. watermark) are finished
    const finished = (index: number) => {
      done[index] = true;
      if (index !== watermark) return;
      while (watermark < messages.length && done[watermark]) watermark++;
      const last = messages[watermark - 1].offset;
      resolveOffset(last);
      committer.offer(topic, partition, (BigInt(last) + 1n).toString());
    };
    const run: BatchRun = {
      topic,
      partition,
      heartbeat,
      halted: () => run.failure !== undefined || !this.running || !isRunning() || isStale(),
      finished,
    };
    for (const segment of this.segments(messages, finished)) {
      if (run.halted()) break;
      if (segment.type !== undefined) await this.processRun(run, segment.type, segment.items);
      else await this.processEach(run, segment.items);
    }
    // kafkajs fetches again from the first unresolved offset: an unfinished message (and everything
    // after it, finished or not) comes again.
    if (run.failure) throw run.failure.error;
  }

  /**
   * Cuts a partition's batch into segments processed one after the other: runs of one type that has a
   * batch handler (distinct keys, so a run never holds two messages of one key), and stretches of
   * everything else. Messages of types nobody handles are finished on the spot.
   */
  private segments(messages: KafkaMessage[], finished: (index: number) => void): Segment[] {
    const { handlers, batchHandlers = {}, maxBatchSize = 100 } = this.options;
    const segments: Segment[] = [];
    let current: Segment | undefined;
    let keys = new Set<string>();
    messages.forEach((message, index) => {
      let item: Item;
      try {
        item = { index, message, event: decodeEnvelope(message.value, this.options.contracts) };
      } catch (error) {
        item = { index, message, decodeError: error as Error };
      }
      const type = item.event?.type;
      if (type !== undefined && !handlers[type]) {
        finished(index);
        return;
      }
      const batched = type !== undefined && Object.hasOwn(batchHandlers, type) ? type : undefined;
      const key = keyOf(message);
      const fits =
        current !== undefined &&
        current.type === batched &&
        (batched === undefined || (!keys.has(key) && current.items.length < maxBatchSize));
      if (!fits || !current) {
        current = { type: batched, items: [] };
        segments.push(current);
        keys = new Set();
      }
      current.items.push(item);
      keys.add(key);
    });
    return segments;
  }

  /**
   * A run of one type through its batch handler at once. If the handler throws, the run is handled
   * message by message instead — with retries and dead-lettering — which the batch handler's
   * all-or-nothing (or idempotent) contract makes safe.
   */
  private async processRun(run: BatchRun, type: string, items: Item[]): Promise<void> {
    const handler = this.options.batchHandlers?.[type];
    if (!handler || items.length === 1) return this.processEach(run, items);
    // A heartbeat that fails inside the handler means a rebalance: the batch stops, it is not retried here.
    const heartbeat = async () => {
      try {
        await run.heartbeat();
      } catch (error) {
        run.failure ??= { error };
        throw error;
      }
    };
    const started = process.hrtime.bigint();
    // One span per event, each continuing its own trace: the handler writes every event's effects in
    // one transaction and finds each one's span through eventCorrelation(event).
    const spans = items.map((item) => {
      const span = consumerSpan(this.options.groupId, run.topic, item.message, type);
      if (span) setEventTrace(item.event as Envelope, span.span);
      return span;
    });
    try {
      await handler(
        items.map((item) => item.event as Envelope),
        { topic: run.topic, partition: run.partition, heartbeat },
      );
      for (const span of spans) endSpan(span);
    } catch (error) {
      for (const span of spans) endSpan(span, error);
      if (run.failure || !this.running) {
        run.failure ??= { error };
        return;
      }
      this.logger.warn({ err: error, type, messages: items.length }, 'batch handler failed; handling its messages one by one');
      return this.processEach(run, items);
    }
    const labels = { group: this.options.groupId, topic: run.topic, type };
    this.metrics.handlerDuration.observe({ ...labels, mode: 'batch' }, Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics.messages.inc({ ...labels, outcome: 'handled' }, items.length);
    for (const item of items) run.finished(item.index);
    await this.beat(run);
  }

  /** Messages one at a time through their handlers: each key in offset order, up to `keyConcurrency` keys at once. */
  private async processEach(run: BatchRun, items: Item[]): Promise<void> {
    // Same key → same lane, in offset order.
    const lanes = new Map<string, Item[]>();
    for (const item of items) {
      const key = keyOf(item.message);
      const lane = lanes.get(key);
      if (lane) lane.push(item);
      else lanes.set(key, [item]);
    }
    const queue = [...lanes.values()];
    const worker = async () => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) {
        for (const item of lane) {
          if (run.halted()) return;
          try {
            await this.process(run.topic, run.partition, item, run.heartbeat);
          } catch (error) {
            // Later messages of this key must not overtake this one: the lane stops, and so does the batch.
            run.failure ??= { error };
            return;
          }
          run.finished(item.index);
          if (!(await this.beat(run))) return;
        }
      }
    };
    const width = Math.max(1, Math.min(this.options.keyConcurrency ?? 1, queue.length));
    await Promise.all(Array.from({ length: width }, worker));
  }

  /** Heartbeats between messages; a rebalance stops the batch here (kafkajs rejoins, the rest comes again). */
  private async beat(run: BatchRun): Promise<boolean> {
    try {
      await run.heartbeat();
      return true;
    } catch (error) {
      run.failure ??= { error };
      return false;
    }
  }

  private async process(topic: string, partition: number, item: Item, heartbeat: () => Promise<void>) {
    const { message, event } = item;
    if (!event) {
      await this.deadLetter(topic, partition, message, item.decodeError ?? new EnvelopeDecodeError('undecodable message'), 0, 'undecodable');
      return;
    }
    const handler = this.options.handlers[event.type];
    if (!handler) return;
    const maxAttempts = this.options.maxAttempts ?? 5;
    const initial = this.options.initialBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 5000;
    const labels = { group: this.options.groupId, topic, type: event.type };
    // One span for every attempt at the message, a child of the span that published it.
    const span = consumerSpan(this.options.groupId, topic, message, event.type);
    if (span) setEventTrace(event, span.span);
    const correlation = { correlationId: event.correlationId, causationId: event.eventId, trace: span?.context };
    for (let attempt = 1; ; attempt++) {
      const started = process.hrtime.bigint();
      try {
        await withCorrelation(correlation, () => (span ? span.run(() => handler(event, { topic, partition, offset: message.offset, heartbeat })) : handler(event, { topic, partition, offset: message.offset, heartbeat })));
        this.metrics.handlerDuration.observe({ ...labels, mode: 'single' }, Number(process.hrtime.bigint() - started) / 1e9);
        this.metrics.messages.inc({ ...labels, outcome: 'handled' });
        endSpan(span);
        return;
      } catch (error) {
        const permanent = error instanceof PermanentEventError;
        if (permanent || attempt >= maxAttempts || !this.running) {
          endSpan(span, error);
          if (!this.running && !permanent) throw error; // shutting down: leave it uncommitted for the next owner
          await this.deadLetter(topic, partition, message, error as Error, attempt, event.type);
          return;
        }
        span?.span.addEvent('retry', { attempt, 'exception.message': (error as Error)?.message ?? String(error) });
        this.metrics.messages.inc({ ...labels, outcome: 'retried' });
        const backoff = Math.min(max, initial * 2 ** (attempt - 1));
        this.logger.warn(
          { err: error, eventId: event.eventId, type: event.type, attempt, backoffMs: backoff },
          'event handler failed; retrying',
        );
        await sleep(backoff);
        await heartbeat();
      }
    }
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, error: Error, attempts: number, type: string) {
    this.logger.error(
      { err: error, topic, partition, offset: message.offset, attempts, type, decode: error instanceof EnvelopeDecodeError },
      'message dead-lettered',
    );
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      'dlq-reason': error.message.slice(0, 1000),
      'dlq-original-topic': topic,
      'dlq-original-partition': String(partition),
      'dlq-original-offset': message.offset,
      'dlq-consumer-group': this.options.groupId,
      'dlq-attempts': String(attempts),
    };
    await this.dlqProducer.send({
      topic: dlqTopic(topic),
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
    this.metrics.messages.inc({ group: this.options.groupId, topic, type, outcome: 'dead_lettered' });
  }

  /**
   * Lets running handlers finish (no new message starts), commits what they finished, then leaves the
   * group at once so a restarted instance does not wait for the session to expire. A join still being
   * attempted is given up.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.running = false;
    this.wake?.();
    await Promise.allSettled([...this.active]);
    await this.committer?.flush();
    await this.consumer?.disconnect();
    await this.starting;
    this.joined = false;
  }
}

/**
 * Commits offsets for every partition of one consumer, one request at a time and at most one every
 * `intervalMs`: offers that arrive meanwhile are merged (highest offset per partition) into the next
 * request. A consumer that was quiet commits at once; a busy one sends a handful of commits a second
 * instead of one per batch (each is a write to the broker's offsets log). An offer is made only after
 * the message's effect committed, so a committed offset never passes an unfinished message; what the
 * interval costs is at most that much more redelivery after a crash, which the inbox makes harmless.
 * A commit that fails (say, during a rebalance) is dropped: the messages behind it are delivered again.
 */
export class OffsetCommitter {
  private pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private inFlight?: Promise<void>;
  private lastCommitAt = 0;
  private flushing = false;
  private cutWait?: () => void;

  constructor(
    private readonly consumer: Consumer,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  offer(topic: string, partition: number, offset: string): void {
    const key = `${topic}\u0000${partition}`;
    const current = this.pending.get(key);
    if (!current || BigInt(current.offset) < BigInt(offset)) this.pending.set(key, { topic, partition, offset });
    this.inFlight ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const wait = this.lastCommitAt + this.intervalMs - Date.now();
        if (wait > 0 && !this.flushing) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.cutWait = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.cutWait = undefined;
        }
        const offsets = [...this.pending.values()];
        this.pending = new Map();
        this.lastCommitAt = Date.now();
        try {
          await this.consumer.commitOffsets(offsets);
        } catch (error) {
          this.logger.warn({ err: error, offsets }, 'offset commit failed; those messages will be delivered again');
        }
      }
    } finally {
      this.inFlight = undefined;
    }
  }

  /** Commits what is pending now, without waiting out the interval. */
  async flush(): Promise<void> {
    this.flushing = true;
    this.cutWait?.();
    try {
      while (this.inFlight) await this.inFlight;
    } finally {
      this.flushing = false;
    }
  }
}
