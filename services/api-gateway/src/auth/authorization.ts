import { Principal, Role } from './principal';

/** The parties of an appointment, which is all ownership needs; they never change over its life. */
export type AppointmentParties = { readonly providerId: string; readonly clientId: string };

export type Action =
  /** Operations on the platform itself (the projection rebuild): operators only. */
  | { readonly type: 'admin.rebuildProjections' }
  /** List providers, read one, query its slots. */
  | { readonly type: 'providers.read' }
  /** Create a provider record; `providerId` is the id asked for, if any. */
  | { readonly type: 'providers.create'; readonly providerId?: string }
  /** Change or delete a provider, and read or change its blocked time. */
  | { readonly type: 'providers.manage'; readonly providerId: string }
  | { readonly type: 'appointments.book'; readonly providerId: string; readonly clientId: string }
  | { readonly type: 'appointments.list'; readonly providerId?: string; readonly clientId?: string }
  | {
      readonly type: 'appointments.read' | 'appointments.cancel' | 'appointments.reschedule' | 'appointments.complete' | 'appointments.noShow';
      readonly appointment: AppointmentParties;
    };

export type Actor = 'CLIENT' | 'PROVIDER';

export type Decision =
  | {
      readonly outcome: 'allow';
      /** Whose side a cancel or reschedule is on: it decides fees and refunds in scheduling. */
      readonly actor?: Actor;
      /** Filters a list is narrowed to, whatever the caller asked. */
      readonly scope?: { readonly providerId?: string; readonly clientId?: string };
      /** The id a created provider must get. */
      readonly providerId?: string;
    }
  | { readonly outcome: 'forbidden'; readonly reason: string }
  /** The caller may not know the resource exists: answered exactly like a missing one. */
  | { readonly outcome: 'not_found' };

const allow = (extra: Omit<Extract<Decision, { outcome: 'allow' }>, 'outcome'> = {}): Decision => ({ outcome: 'allow', ...extra });
const forbidden = (reason: string): Decision => ({ outcome: 'forbidden', reason });
const notFound: Decision = { outcome: 'not_found' };

const OPERATORS_ONLY = 'Only operators (admin or service) may do this.';

const sameId = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Admins and service accounts act on everything, on the provider's side of the policy (no client late fees). */
function operator(action: Action): Decision {
  switch (action.type) {
    case 'appointments.cancel':
    case 'appointments.reschedule':
      return allow({ actor: 'PROVIDER' });
    default:
      return allow();
  }
}

function client(principal: Principal, action: Action): Decision {
  const own = principal.clientId;
  switch (action.type) {
    case 'providers.read':
      return allow();
    case 'providers.create':
    case 'providers.manage':
      return forbidden('Clients cannot change providers or their schedules.');
    case 'admin.rebuildProjections':
      return forbidden(OPERATORS_ONLY);
    case 'appointments.book':
      return action.clientId === own ? allow() : forbidden('A client books only for themselves: clientId must be your own.');
    case 'appointments.list':
      if (action.clientId !== undefined && action.clientId !== own) return forbidden('A client lists only their own appointments.');
      return allow({ scope: { clientId: own } });
    case 'appointments.read':
    case 'appointments.cancel':
    case 'appointments.reschedule':
      return action.appointment.clientId === own ? allow({ actor: 'CLIENT' }) : notFound;
    case 'appointments.complete':
    case 'appointments.noShow':
      return action.appointment.clientId === own ? forbidden('Only the provider marks an appointment completed or a no-show.') : notFound;
    default:
      return assertNever(action);
  }
}

function provider(principal: Principal, action: Action): Decision {
  const own = principal.providerId;
  switch (action.type) {
    case 'providers.read':
      return allow();
    case 'providers.create':
      if (action.providerId === undefined || sameId(action.providerId, own)) return allow({ providerId: own });
      return forbidden('A provider may create only their own record (id = provider_id of the token).');
    case 'providers.manage':
      return sameId(action.providerId, own) ? allow() : forbidden('A provider manages only their own record and schedule.');
    case 'admin.rebuildProjections':
      return forbidden(OPERATORS_ONLY);
    case 'appointments.book':
      return forbidden('Providers do not book appointments; clients (or an operator) do.');
    case 'appointments.list':
      if (action.providerId !== undefined && !sameId(action.providerId, own)) return forbidden('A provider lists only their own appointments.');
      return allow({ scope: { providerId: own } });
    case 'appointments.read':
    case 'appointments.cancel':
    case 'appointments.reschedule':
    case 'appointments.complete':
    case 'appointments.noShow':
      return sameId(action.appointment.providerId, own) ? allow({ actor: 'PROVIDER' }) : notFound;
    default:
      return assertNever(action);
  }
}

const byRole: Record<Role, (principal: Principal, action: Action) => Decision> = {
  admin: (_p, action) => operator(action),
  service: (_p, action) => operator(action),
  provider,
  client,
};

/** Strongest role first: when a principal holds several roles, the first that allows decides the actor. */
const PRECEDENCE: readonly Role[] = ['admin', 'service', 'provider', 'client'];

/**
 * Whether `principal` may perform `action`. Allowed if any of its roles allows. Otherwise forbidden
 * (403) if any role may at least see the resource, and not found (404) if none may — so another
 * client's appointment is indistinguishable from a missing one.
 */
export function authorize(principal: Principal, action: Action): Decision {
  const decisions = PRECEDENCE.filter((role) => principal.roles.includes(role)).map((role) => byRole[role](principal, action));
  const allowed = decisions.find((d) => d.outcome === 'allow');
  if (allowed) return allowed;
  const refused = decisions.find((d) => d.outcome === 'forbidden');
  if (refused) return refused;
  return decisions.length ? notFound : forbidden('The token carries no role.');
}

function assertNever(value: never): never {
  throw new Error(`unhandled action ${JSON.stringify(value)}`);
}
