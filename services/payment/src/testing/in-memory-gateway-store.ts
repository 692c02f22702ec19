import { GatewayCharge, GatewayRefund, GatewayStore } from '../provider/gateway-store';

/** The simulated gateway's memory without a database, for unit tests of the gateway's behaviour. */
export class InMemoryGatewayStore implements GatewayStore {
  readonly charges = new Map<string, GatewayCharge>();
  readonly refunds = new Map<string, GatewayRefund>();

  async putCharge(charge: Omit<GatewayCharge, 'refundedMinor' | 'requests'>): Promise<GatewayCharge> {
    const known = this.charges.get(charge.idempotencyKey);
    const stored = known ? { ...known, requests: known.requests + 1 } : { ...charge, refundedMinor: 0, requests: 1 };
    this.charges.set(charge.idempotencyKey, stored);
    return { ...stored };
  }

  async settleCharge(idempotencyKey: string, now: Date): Promise<GatewayCharge | undefined> {
    const charge = this.charges.get(idempotencyKey);
    if (charge?.status === 'PROCESSING' && charge.completesAt && charge.completesAt <= now) charge.status = 'SUCCEEDED';
    return charge && { ...charge };
  }

  async putRefund(refund: GatewayRefund, check: (charge: GatewayCharge | undefined) => void): Promise<GatewayRefund> {
    const known = this.refunds.get(refund.idempotencyKey);
    if (known) return { ...known };
    const charge = [...this.charges.values()].find((c) => c.chargeId === refund.chargeId);
    check(charge && { ...charge });
    this.refunds.set(refund.idempotencyKey, { ...refund });
    charge!.refundedMinor += refund.amountMinor;
    return { ...refund };
  }
}
