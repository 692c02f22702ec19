import { CachedSlots, SlotResponseCache } from './slot-response-cache';

const entry = (bytes: number, busy = ''): CachedSlots => ({ version: 1, busy, until: Infinity, body: Buffer.alloc(bytes), etag: '"t"' });

describe('SlotResponseCache', () => {
  it('given answers past its byte budget, then the least recently used go first', () => {
    const cache = new SlotResponseCache(10_000);
    cache.set('a', entry(2000));
    cache.set('b', entry(2000));
    cache.set('c', entry(2000));
    expect(cache.get('a')).toBeDefined(); // a is now the most recently used
    cache.set('d', entry(2000));
    cache.set('e', entry(2000));
    expect(cache.size.bytes).toBeLessThanOrEqual(10_000);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('e')).toBeDefined();
  });

  it('given an answer larger than a quarter of the budget, then it is not kept', () => {
    const cache = new SlotResponseCache(10_000);
    cache.set('big', entry(3000));
    expect(cache.get('big')).toBeUndefined();
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });

  it('given a budget of 0, then nothing is kept', () => {
    const cache = new SlotResponseCache(0);
    cache.set('a', entry(1));
    expect(cache.get('a')).toBeUndefined();
  });

  it('given a key set again, then the new answer replaces the old and the bytes are counted once', () => {
    const cache = new SlotResponseCache(100_000);
    cache.set('a', entry(1000, 'x'));
    const before = cache.size.bytes;
    cache.set('a', entry(1000, 'y'));
    expect(cache.get('a')?.busy).toBe('y');
    expect(cache.size).toEqual({ entries: 1, bytes: before });
    cache.delete('a');
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });

  it('keys by provider, dates and zone', () => {
    expect(SlotResponseCache.key('p', '2030-03-05', '2030-03-05', 'Asia/Tokyo')).not.toBe(SlotResponseCache.key('p', '2030-03-05', '2030-03-05', 'UTC'));
  });
});
