import { etagMatches } from './etag';

describe('etagMatches (If-None-Match)', () => {
  const etag = '"abc"';

  it('given no header, then no match', () => {
    expect(etagMatches(undefined, etag)).toBe(false);
    expect(etagMatches('', etag)).toBe(false);
  });

  it('given the same tag, a weak form of it, or *, then a match', () => {
    expect(etagMatches('"abc"', etag)).toBe(true);
    expect(etagMatches('W/"abc"', etag)).toBe(true);
    expect(etagMatches('*', etag)).toBe(true);
  });

  it('given a list, then a match when any member matches', () => {
    expect(etagMatches('"x", "abc" ,"y"', etag)).toBe(true);
    expect(etagMatches('"x", "y"', etag)).toBe(false);
  });

  it('given another tag or the bare opaque text without quotes, then no match', () => {
    expect(etagMatches('"abd"', etag)).toBe(false);
    expect(etagMatches('abc', etag)).toBe(false);
  });
});
