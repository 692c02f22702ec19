import { BoundedLru } from './bounded-lru';

const lru = (maxBytes: number) => new BoundedLru<Buffer>(maxBytes, (_key, value) => value.length);

describe('BoundedLru', () => {
  it('given entries past its byte budget, then the least recently used go first', () => {
    const cache = lru(10_000);
    cache.set('a', Buffer.alloc(2000));
    cache.set('b', Buffer.alloc(2000));
    cache.set('c', Buffer.alloc(2000));
    expect(cache.get('a')).toBeDefined(); // a is now the most recently used
    cache.set('d', Buffer.alloc(2000));
    cache.set('e', Buffer.alloc(2000));
    cache.set('f', Buffer.alloc(2000));
    expect(cache.size).toEqual({ entries: 5, bytes: 10_000 });
    cache.set('g', Buffer.alloc(2000));
    expect(cache.size).toEqual({ entries: 5, bytes: 10_000 });
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('g')).toBeDefined();
  });

  it('given an entry heavier than a quarter of the budget, then it is not kept', () => {
    const cache = lru(10_000);
    cache.set('big', Buffer.alloc(2501));
    expect(cache.get('big')).toBeUndefined();
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });

  it('given a budget of 0, then nothing is kept', () => {
    const cache = lru(0);
    cache.set('a', Buffer.alloc(1));
    expect(cache.get('a')).toBeUndefined();
  });

  it('given a key set again, then the new value replaces the old and its bytes are counted once', () => {
    const cache = lru(100_000);
    cache.set('a', Buffer.alloc(1000));
    cache.set('a', Buffer.alloc(300));
    expect(cache.get('a')?.length).toBe(300);
    expect(cache.size).toEqual({ entries: 1, bytes: 300 });
    cache.delete('a');
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });
});
