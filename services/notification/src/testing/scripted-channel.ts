import { setTimeout as sleep } from 'node:timers/promises';
import { Channel, Channels, DeliveryError, OutgoingMessage, SendResult } from '../channels/channel';

type Script = 'ok' | 'transient' | 'permanent' | 'throw';

/**
 * A stand-in for a provider in tests of the delivery bookkeeping (claims, leases, retries), which do
 * not depend on the protocol: it records every send and answers as scripted per address.
 */
export class ScriptedChannel<M extends OutgoingMessage> implements Channel<M> {
  readonly sent: M[] = [];
  private readonly scripts = new Map<string, Script[]>();
  delayMs = 0;

  /** The next sends to `address` answer like this, in order; afterwards they succeed. */
  script(address: string, ...answers: Script[]): void {
    this.scripts.set(address, answers);
  }

  async send(message: M): Promise<SendResult> {
    if (this.delayMs) await sleep(this.delayMs);
    const address = addressOf(message);
    const answer = this.scripts.get(address)?.shift() ?? 'ok';
    if (answer === 'transient') throw new DeliveryError(`provider busy for ${address}`, false);
    if (answer === 'permanent') throw new DeliveryError(`no such recipient ${address}`, true);
    if (answer === 'throw') throw new TypeError('something unexpected');
    this.sent.push(message);
    return { providerMessageId: `msg-${this.sent.length}` };
  }

  to(address: string): M[] {
    return this.sent.filter((m) => addressOf(m) === address);
  }
}

function addressOf(message: OutgoingMessage): string {
  return message.channel === 'EMAIL' ? message.to.address : message.channel === 'SMS' ? message.to : message.endpoint;
}

export function scriptedChannels() {
  const channels = {
    EMAIL: new ScriptedChannel<Extract<OutgoingMessage, { channel: 'EMAIL' }>>(),
    SMS: new ScriptedChannel<Extract<OutgoingMessage, { channel: 'SMS' }>>(),
    PUSH: new ScriptedChannel<Extract<OutgoingMessage, { channel: 'PUSH' }>>(),
  };
  return channels satisfies Channels;
}
