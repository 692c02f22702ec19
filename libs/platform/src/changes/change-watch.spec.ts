import fc from 'fast-check';
import { ChangeWatch } from './change-watch';

describe('ChangeWatch', () => {
  it('keeps a mark good until a change of its own key is noticed after it', () => {
    const watch = new ChangeWatch();
    watch.changed('a');
    const mark = watch.mark();
    expect(watch.unchangedSince('a', mark)).toBe(true);
    watch.changed('b');
    expect(watch.unchangedSince('a', mark)).toBe(true);
    expect(watch.unchangedSince('b', mark)).toBe(false);
    watch.changed('A');
    expect(watch.unchangedSince('a', mark)).toBe(false);
    expect(watch.unchangedSince('a', watch.mark())).toBe(true);
  });

  it('voids every earlier mark when it forgets, and none taken after', () => {
    const watch = new ChangeWatch();
    const before = watch.mark();
    watch.forgetAll();
    expect(watch.unchangedSince('a', before)).toBe(false);
    expect(watch.unchangedSince('a', watch.mark())).toBe(true);
  });

  it('agrees with a log of every notice (property)', () => {
    type Step = { kind: 'changed'; key: string } | { kind: 'forget' } | { kind: 'mark'; key: string };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('changed' as const), key: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ kind: fc.constant('forget' as const) }),
      fc.record({ kind: fc.constant('mark' as const), key: fc.constantFrom('a', 'b', 'c') }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps: Step[]) => {
        const watch = new ChangeWatch();
        const log: Step[] = [];
        const marks: { key: string; mark: number; at: number }[] = [];
        for (const s of steps) {
          if (s.kind === 'changed') watch.changed(s.key);
          else if (s.kind === 'forget') watch.forgetAll();
          else marks.push({ key: s.key, mark: watch.mark(), at: log.length });
          log.push(s);
          // A mark is good exactly when nothing after it was a forget or a change of its key.
          for (const m of marks) {
            const since = log.slice(m.at + 1);
            const expected = !since.some((x) => x.kind === 'forget' || (x.kind === 'changed' && x.key === m.key));
            if (watch.unchangedSince(m.key, m.mark) !== expected) return false;
          }
        }
        return true;
      }),
    );
  });
});
