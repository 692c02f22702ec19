// @booking/slot-engine — pure availability core (luxon only: no clock, no environment, no I/O).
export { SlotEngineValidationError } from './errors';
export type { SlotEngineIssue } from './errors';
export { isLocalDate } from './local-date';
export type { LocalDate } from './local-date';
export {
  assertIanaZone,
  clearTimeZoneCache,
  isIanaZone,
  localDateOf,
  resolveLocalTime,
  startOfLocalDay,
} from './time-zone';
export {
  WEEKDAYS,
  formatDayHours,
  formatTimeOfDay,
  parseDateOverrides,
  parseDayHours,
  parseTimeOfDay,
  parseWorkingHours,
} from './working-hours';
export type {
  DateOverrides,
  DateOverridesInput,
  DayHours,
  DayHoursInput,
  MinuteInterval,
  TimeRangeInput,
  Weekday,
  WorkingHours,
  WorkingHoursInput,
} from './working-hours';
export { PROVIDER_RULE_LIMITS, parseProviderRules } from './provider-rules';
export type { ProviderRules, ProviderRulesInput } from './provider-rules';
export { MAX_QUERY_DAYS } from './compute-input';
export type { BusyRange, ComputeSlotsInput, Slot } from './compute-input';
export { computeSlots, resolveWorkingIntervals } from './slot-engine';
export type { ResolvedInterval } from './slot-engine';
export { naiveComputeSlots } from './naive-slot-engine';
export {
  clientSlotsUnchangedUntil,
  computeSlotsForClientDates,
  filterToClientDate,
  filterToClientDates,
  localDateSpan,
  providerDateRangeForClientDates,
  providerDatesForClientDate,
  renderSlot,
  renderSlots,
} from './client-view';
export type { ComputeClientSlotsInput, RenderedSlot } from './client-view';
