export * from './problems';
export {
  createProviderRequest,
  updateProviderRequest,
  listProvidersQuery,
  addBlockedTimeRequest,
  blockedTimesQuery,
  slotsQuery,
  providerResponse,
  providersPage,
  blockedTimeResponse,
  blockedTimesResponse,
  slotsResponse,
} from './providers';
export type { CreateProviderRequest, UpdateProviderRequest, AddBlockedTimeRequest, SlotsQuery, ProviderResponse } from './providers';
export {
  appointmentStatus,
  bookAppointmentRequest,
  publicRescheduleRequest,
  cancelAppointmentRequest,
  rescheduleAppointmentRequest,
  listAppointmentsQuery,
  appointmentResponse,
  appointmentsPage,
  appointmentEvents,
  rebuildProjectionsResponse,
} from './appointments';
export type { BookAppointmentRequest, CancelAppointmentRequest, RescheduleAppointmentRequest, ListAppointmentsQuery, AppointmentResponse } from './appointments';
