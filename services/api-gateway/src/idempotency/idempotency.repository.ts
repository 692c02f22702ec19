import { randomUUID } from 'node:crypto';
import { Knex } from 'knex';

export type StoredResponse = { status: number; body: unknown };
/** A recorded answer: its status and its JSON text exactly as it was sent. */
export type RecordedResponse = { status: number; text: string };

export type Claim =
  | { outcome: 'claimed'; token: string }
  | { outcome: 'replay'; response: RecordedResponse }
  | { outcome: 'mismatch' }
  | { outcome: 'in_progress' };

type Row = {
  request_hash: string;
  state: 'IN_PROGRESS' | 'DONE';
  claim_token: string;
  expired: boolean;
  response_status: number | null;
  /** The answer's text; null only on rows recorded before the text was kept. */
  response_text: string | null;
  response_body: unknown;
};

/** The gateway's `idempotency_keys` table. Every transition is one statement, so concurrent attempts race safely. */
export class IdempotencyRepository {
  constructor(private readonly knex: Knex) {}

  async claim(caller: string, key: string, requestHash: string, leaseSeconds: number): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const token = randomUUID();
      const inserted = await this.knex.raw<{ rows: unknown[] }>(
        `INSERT INTO idempotency_keys (caller, key, request_hash, state, claim_token, locked_until)
         VALUES (?, ?, ?, 'IN_PROGRESS', ?, now() + make_interval(secs => ?))
         ON CONFLICT (caller, key) DO NOTHING RETURNING 1`,
        [caller, key, requestHash, token, leaseSeconds],
      );
      if (inserted.rows.length) return { outcome: 'claimed', token };
      const { rows } = await this.knex.raw<{ rows: Row[] }>(
        `SELECT request_hash, state, claim_token, locked_until < now() AS expired, response_status, response_text, response_body
           FROM idempotency_keys WHERE caller = ? AND key = ?`,
        [caller, key],
      );
      const row = rows[0];
      // Released or swept between our insert and our read: try again.
      if (!row) continue;
      if (row.request_hash !== requestHash) return { outcome: 'mismatch' };
      if (row.state === 'DONE') {
        return { outcome: 'replay', response: { status: Number(row.response_status), text: row.response_text ?? JSON.stringify(row.response_body) } };
      }
      if (!row.expired) return { outcome: 'in_progress' };
      const taken = await this.knex.raw<{ rows: unknown[] }>(
        `UPDATE idempotency_keys SET claim_token = ?, locked_until = now() + make_interval(secs => ?)
          WHERE caller = ? AND key = ? AND state = 'IN_PROGRESS' AND claim_token = ? RETURNING 1`,
        [token, leaseSeconds, caller, key, row.claim_token],
      );
      return taken.rows.length ? { outcome: 'claimed', token } : { outcome: 'in_progress' };
    }
    return { outcome: 'in_progress' };
  }

  /** Records the response; false if the claim was lost (taken over after its lease ran out). */
  async complete(caller: string, key: string, token: string, response: RecordedResponse): Promise<boolean> {
    const updated = await this.knex('idempotency_keys')
      .where({ caller, key, claim_token: token, state: 'IN_PROGRESS' })
      .update({ state: 'DONE', response_status: response.status, response_text: response.text, locked_until: this.knex.fn.now() });
    return updated === 1;
  }

  /** Gives the key back, so the client's retry runs the command again. */
  async release(caller: string, key: string, token: string): Promise<void> {
    await this.knex('idempotency_keys').where({ caller, key, claim_token: token, state: 'IN_PROGRESS' }).delete();
  }

  /** Forgets keys older than the retention (abandoned claims too, once their lease is over). */
  async sweep(retentionHours: number): Promise<number> {
    return this.knex('idempotency_keys')
      .whereRaw('created_at < now() - make_interval(hours => ?)', [retentionHours])
      .whereRaw(`(state = 'DONE' OR locked_until < now())`)
      .delete();
  }
}
