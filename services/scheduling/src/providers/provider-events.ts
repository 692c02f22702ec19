import { EventData, TOPICS } from '@booking/contracts';
import { Provider, providerResponse } from './provider';

export type BlockedTime = { id: string; providerId: string; start: string; end: string; reason: EventData<'BlockedTimeAdded'>['reason']; note: string | null };

/** A provider event as scheduling publishes it on `scheduling.provider.v1` (libs/contracts). */
export type ProviderEvent = { topic: typeof TOPICS.provider; type: string; data: Record<string, unknown> };

const event = (type: string, data: Record<string, unknown>): ProviderEvent => ({ topic: TOPICS.provider, type, data });

export const providerCreated = (provider: Provider) => event('ProviderCreated', providerResponse(provider));
export const providerUpdated = (provider: Provider, changed: string[]) => event('ProviderUpdated', { ...providerResponse(provider), changed });
export const providerDeleted = (id: string) => event('ProviderDeleted', { id });
export const blockedTimeAdded = (blocked: BlockedTime) => event('BlockedTimeAdded', blocked);
export const blockedTimeRemoved = (blocked: BlockedTime) => event('BlockedTimeRemoved', blocked);
