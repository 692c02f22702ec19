import type { Decider } from '../decider';

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/**
 * Given/when/then for deciders (after Emmett's DeciderSpecification):
 *   DeciderSpecification.for(decider).given(events).when(command).then(expectedEvents)
 *   DeciderSpecification.for(decider).given(events).when(command).thenThrows(ErrorClass, e => e.code === '…')
 * `given` events are folded with evolve from initialState(); `when` runs decide on the result.
 */
export const DeciderSpecification = {
  for<State, Command, Event>(decider: Decider<State, Command, Event>) {
    return {
      given(events: readonly Event[]) {
        return {
          when(command: Command) {
            const state = () => events.reduce(decider.evolve, decider.initialState());
            const run = () => decider.decide(command, state());
            return {
              /** Asserts the emitted events; returns the state after applying them. */
              then(expected: readonly Event[]): State {
                const actual = run();
                expect(actual).toEqual(expected);
                return actual.reduce(decider.evolve, state());
              },
              thenNothingHappened(): void {
                expect(run()).toEqual([]);
              },
              thenThrows<E extends Error>(errorClass: ErrorClass<E>, predicate?: (error: E) => boolean): E {
                let thrown: unknown;
                try {
                  run();
                } catch (error) {
                  thrown = error;
                }
                expect(thrown).toBeInstanceOf(errorClass);
                if (predicate) expect(predicate(thrown as E)).toBe(true);
                return thrown as E;
              },
            };
          },
        };
      },
    };
  },
};
