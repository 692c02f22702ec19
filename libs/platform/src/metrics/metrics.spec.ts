import { statusClass } from './http-metrics';
import { partitionLag } from './kafka-metrics';

describe('partitionLag', () => {
  it('is the log end offset minus the committed offset', () => {
    expect(partitionLag('120', '0', '100')).toBe(20);
    expect(partitionLag('120', '0', '120')).toBe(0);
  });

  it('counts from the log start when the group never committed', () => {
    expect(partitionLag('120', '30', '-1')).toBe(90);
    expect(partitionLag('0', '0', '-1')).toBe(0);
  });

  it('is never negative (a commit read after a newer end offset)', () => {
    expect(partitionLag('100', '0', '105')).toBe(0);
  });
});

describe('statusClass', () => {
  it('groups statuses by their first digit', () => {
    expect([101, 200, 204, 304, 404, 499, 500, 503].map(statusClass)).toEqual(['1xx', '2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx']);
  });

  it('counts a status outside 100-599 as a server fault', () => {
    expect(statusClass(0)).toBe('5xx');
    expect(statusClass(600)).toBe('5xx');
  });
});
