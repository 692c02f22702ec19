/**
 * What the simulated gateway remembers. A real gateway keeps this on its side; the simulation keeps it
 * in tables of its own (`provider_charges`, `provider_refunds`) so it survives our restarts like the
 * real thing, and never in our transactions, so our rollbacks cannot undo a charge.
 */
export type GatewayChargeStatus = 'SUCCEEDED' | 'FAILED' | 'PROCESSING';

export type GatewayCharge = {
  idempotencyKey: string;
  chargeId: string;
  amountMinor: number;
  currency: string;
  paymentMethod: string;
  status: GatewayChargeStatus;
  failureReason: string | null;
  /** When a PROCESSING charge settles. */
  completesAt: Date | null;
  refundedMinor: number;
  /** How many requests carried this key; more than one means a replay answered from memory. */
  requests: number;
};

export type GatewayRefund = {
  idempotencyKey: string;
  refundId: string;
  chargeId: string;
  amountMinor: number;
  currency: string;
};

export interface GatewayStore {
  /** Stores the charge unless its key is known; either way counts the request and returns what is stored. */
  putCharge(charge: Omit<GatewayCharge, 'refundedMinor' | 'requests'>): Promise<GatewayCharge>;
  /** Settles a PROCESSING charge whose time has come; returns the charge as it is now. */
  settleCharge(idempotencyKey: string, now: Date): Promise<GatewayCharge | undefined>;
  /**
   * Stores the refund unless its key is known, atomically with the charge's refunded total.
   * `check` sees the charge as locked and throws to refuse.
   */
  putRefund(refund: GatewayRefund, check: (charge: GatewayCharge | undefined) => void): Promise<GatewayRefund>;
}
