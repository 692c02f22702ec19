export const ROLES = ['client', 'provider', 'admin', 'service'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as proven by a verified bearer token. */
export type Principal = {
  /** The token's `sub`: scopes rate limits and Idempotency-Keys. */
  readonly subject: string;
  readonly roles: readonly Role[];
  /** For the client role: the clientId their appointments carry (`client_id`, else `sub`). */
  readonly clientId?: string;
  /** For the provider role: the provider record they own (`provider_id`). */
  readonly providerId?: string;
};
