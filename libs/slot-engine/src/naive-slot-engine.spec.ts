import { naiveComputeSlots } from './naive-slot-engine';
import { LONG_AGO, rules, utc, utcStarts, validationError } from './testing/slot-engine-fixtures';

describe('naiveComputeSlots (test oracle and benchmark anchor)', () => {
  it('given a plain day with one busy hour and buffers, then it removes the slots whose widened range touches it', () => {
    const busy = [{ start: utc('2026-06-15T15:00'), end: utc('2026-06-15T16:00') }]; // 11:00-12:00 EDT
    const result = naiveComputeSlots({
      rules: rules({ workingHours: { MON: ['09:00', '14:00'] }, bufferAfterMinutes: 1 }),
      busy,
      from: '2026-06-15',
      to: '2026-06-15',
      now: LONG_AGO,
    });
    // 10:00 ends at 11:00 but its 1-minute after-buffer touches 11:00-12:00
    expect(utcStarts(result)).toEqual(['2026-06-15T13:00Z', '2026-06-15T16:00Z', '2026-06-15T17:00Z']);
  });

  it('validates like computeSlots', () => {
    expect(validationError(() => naiveComputeSlots({ rules: rules(), busy: [], from: '2026-01-01', to: '2026-02-01', now: 0 })).field).toBe('to');
  });
});
