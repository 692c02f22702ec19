import { SlotEngineValidationError, collect } from './errors';

describe('SlotEngineValidationError', () => {
  it('given several issues, then field is the first one and the message lists them all', () => {
    const error = new SlotEngineValidationError([
      { field: 'timezone', message: 'is required' },
      { field: 'slotDurationMinutes', message: 'must be an integer' },
    ]);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SlotEngineValidationError');
    expect(error.field).toBe('timezone');
    expect(error.message).toBe('timezone: is required; slotDurationMinutes: must be an integer');
    expect(error.issues).toHaveLength(2);
  });

  it('given a single issue via of(), then it is the only issue', () => {
    const error = SlotEngineValidationError.of('to', 'must not be before from');
    expect(error.issues).toEqual([{ field: 'to', message: 'must not be before from' }]);
  });

  it('collect() gathers validation issues but rethrows anything else', () => {
    const issues: { field: string; message: string }[] = [];
    expect(collect(issues, () => { throw SlotEngineValidationError.of('x', 'bad'); })).toBeUndefined();
    expect(collect(issues, () => 42)).toBe(42);
    expect(issues).toEqual([{ field: 'x', message: 'bad' }]);
    expect(() => collect(issues, () => { throw new TypeError('bug'); })).toThrow(TypeError);
  });
});
