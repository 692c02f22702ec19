/**
 * The only place the reminder service reads the time: planning ("has this fire time passed?") and the
 * workers ("which rows are due?") both ask it, so tests move time instead of waiting a day.
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
