import { Action, authorize, Decision } from './authorization';
import { Principal } from './principal';

const OWN_PROVIDER = '11111111-1111-4111-8111-111111111111';
const OTHER_PROVIDER = '22222222-2222-4222-8222-222222222222';
const OWN_CLIENT = 'client-ada';
const OTHER_CLIENT = 'client-bob';

const principals: Record<string, Principal> = {
  client: { subject: 'u-ada', roles: ['client'], clientId: OWN_CLIENT },
  provider: { subject: 'u-doc', roles: ['provider'], providerId: OWN_PROVIDER },
  admin: { subject: 'u-admin', roles: ['admin'] },
  service: { subject: 'svc-billing', roles: ['service'] },
};

const ownAppointment = { providerId: OWN_PROVIDER, clientId: OWN_CLIENT };
const otherAppointment = { providerId: OTHER_PROVIDER, clientId: OTHER_CLIENT };

type Expected = 'allow' | 'forbidden' | 'not_found';
type Row = [label: string, own: Action, other: Action, client: [Expected, Expected], provider: [Expected, Expected]];

const appointmentRow = (type: Extract<Action, { appointment: unknown }>['type'], client: [Expected, Expected], provider: [Expected, Expected]): Row => [
  type,
  { type, appointment: ownAppointment },
  { type, appointment: otherAppointment },
  client,
  provider,
];

// role × action × ownership; admin and service are allowed everything (checked below for every row).
const matrix: Row[] = [
  ['providers.read', { type: 'providers.read' }, { type: 'providers.read' }, ['allow', 'allow'], ['allow', 'allow']],
  ['providers.create', { type: 'providers.create', providerId: OWN_PROVIDER }, { type: 'providers.create', providerId: OTHER_PROVIDER }, ['forbidden', 'forbidden'], ['allow', 'forbidden']],
  ['providers.manage', { type: 'providers.manage', providerId: OWN_PROVIDER }, { type: 'providers.manage', providerId: OTHER_PROVIDER }, ['forbidden', 'forbidden'], ['allow', 'forbidden']],
  [
    'appointments.book',
    { type: 'appointments.book', providerId: OWN_PROVIDER, clientId: OWN_CLIENT },
    { type: 'appointments.book', providerId: OTHER_PROVIDER, clientId: OTHER_CLIENT },
    ['allow', 'forbidden'],
    ['forbidden', 'forbidden'],
  ],
  [
    'appointments.list',
    { type: 'appointments.list' },
    { type: 'appointments.list', providerId: OTHER_PROVIDER, clientId: OTHER_CLIENT },
    ['allow', 'forbidden'],
    ['allow', 'forbidden'],
  ],
  appointmentRow('appointments.read', ['allow', 'not_found'], ['allow', 'not_found']),
  appointmentRow('appointments.cancel', ['allow', 'not_found'], ['allow', 'not_found']),
  appointmentRow('appointments.reschedule', ['allow', 'not_found'], ['allow', 'not_found']),
  appointmentRow('appointments.complete', ['forbidden', 'not_found'], ['allow', 'not_found']),
  appointmentRow('appointments.noShow', ['forbidden', 'not_found'], ['allow', 'not_found']),
];

const cases = matrix.flatMap(([label, own, other, client, provider]) => [
  { label, role: 'client', target: 'own', action: own, expected: client[0] },
  { label, role: 'client', target: 'other', action: other, expected: client[1] },
  { label, role: 'provider', target: 'own', action: own, expected: provider[0] },
  { label, role: 'provider', target: 'other', action: other, expected: provider[1] },
  { label, role: 'admin', target: 'own', action: own, expected: 'allow' as Expected },
  { label, role: 'admin', target: 'other', action: other, expected: 'allow' as Expected },
  { label, role: 'service', target: 'own', action: own, expected: 'allow' as Expected },
  { label, role: 'service', target: 'other', action: other, expected: 'allow' as Expected },
]);

describe('authorize (role × action × ownership)', () => {
  it.each(cases)('$label: $role on $target → $expected', ({ role, action, expected }) => {
    expect(authorize(principals[role], action).outcome).toBe(expected);
  });

  it('narrows a client\'s list to their own appointments and a provider\'s to theirs', () => {
    expect(authorize(principals.client, { type: 'appointments.list' })).toEqual({ outcome: 'allow', scope: { clientId: OWN_CLIENT } });
    expect(authorize(principals.client, { type: 'appointments.list', clientId: OWN_CLIENT })).toEqual({ outcome: 'allow', scope: { clientId: OWN_CLIENT } });
    expect(authorize(principals.provider, { type: 'appointments.list', clientId: OTHER_CLIENT })).toEqual({
      outcome: 'allow',
      scope: { providerId: OWN_PROVIDER },
    });
    expect(authorize(principals.admin, { type: 'appointments.list', clientId: OTHER_CLIENT })).toEqual({ outcome: 'allow' });
  });

  it('derives who cancels or reschedules from the role, operators on the provider\'s side', () => {
    const actor = (p: Principal, type: 'appointments.cancel' | 'appointments.reschedule') =>
      (authorize(p, { type, appointment: ownAppointment }) as Extract<Decision, { outcome: 'allow' }>).actor;
    expect(actor(principals.client, 'appointments.cancel')).toBe('CLIENT');
    expect(actor(principals.client, 'appointments.reschedule')).toBe('CLIENT');
    expect(actor(principals.provider, 'appointments.cancel')).toBe('PROVIDER');
    expect(actor(principals.admin, 'appointments.cancel')).toBe('PROVIDER');
    expect(actor(principals.service, 'appointments.reschedule')).toBe('PROVIDER');
  });

  it('gives a provider who creates their record without an id their own provider_id', () => {
    expect(authorize(principals.provider, { type: 'providers.create' })).toEqual({ outcome: 'allow', providerId: OWN_PROVIDER });
    expect(authorize(principals.admin, { type: 'providers.create' })).toEqual({ outcome: 'allow' });
  });

  it('compares provider ids case-insensitively (UUIDs)', () => {
    expect(authorize(principals.provider, { type: 'providers.manage', providerId: OWN_PROVIDER.toUpperCase() }).outcome).toBe('allow');
  });

  it('lets the strongest of several roles decide, and any allowing role allow', () => {
    const both: Principal = { subject: 'u-both', roles: ['client', 'provider'], clientId: OTHER_CLIENT, providerId: OWN_PROVIDER };
    // As the provider of ownAppointment: allowed, on the provider's side.
    expect(authorize(both, { type: 'appointments.cancel', appointment: ownAppointment })).toEqual({ outcome: 'allow', actor: 'PROVIDER' });
    // As the client of otherAppointment (not its provider): allowed as the client.
    expect(authorize(both, { type: 'appointments.cancel', appointment: otherAppointment })).toEqual({ outcome: 'allow', actor: 'CLIENT' });
    // The client role sees it but may not complete it: forbidden beats not found.
    expect(authorize(both, { type: 'appointments.complete', appointment: otherAppointment }).outcome).toBe('forbidden');
  });

  it('refuses a principal without roles', () => {
    expect(authorize({ subject: 'nobody', roles: [] }, { type: 'providers.read' }).outcome).toBe('forbidden');
  });
});
