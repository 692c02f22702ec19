/** Emmett-style decider: three pure functions, no I/O, no clock. */
export type Decider<State, Command, Event> = {
  readonly decide: (command: Command, state: State) => Event[];
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: () => State;
};
