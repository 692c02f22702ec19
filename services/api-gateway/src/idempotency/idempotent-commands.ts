import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { problem, ProblemError } from '@booking/platform';
import { jsonTextOf, rememberJsonText } from '../upstream/verbatim-json';
import { IdempotencyRepository, StoredResponse } from './idempotency.repository';
import { requestFingerprint } from './idempotency-key';

export type CommandScope = { caller: string; key: string | undefined; method: string; path: string; body: unknown };
export type CommandOutcome = StoredResponse & { replayed: boolean };

/**
 * Runs a POST at most once per (caller, Idempotency-Key) for the commands whose effect lives in
 * scheduling and so cannot share a transaction with this record. The key is claimed before the call
 * and the answer stored after it; a crash in between leaves a claim that expires after its lease,
 * and the retry then runs the command again — safe because these commands are idempotent in the
 * domain (a second cancel is a 409 ALREADY_CANCELLED, never a second refund).
 *
 * Answers from scheduling (2xx and 4xx) are stored and replayed. When no answer came (timeout,
 * scheduling down, a gateway fault) the claim is released, so the client's retry is not stuck on 409.
 */
export class IdempotentCommands {
  constructor(
    private readonly repository: IdempotencyRepository,
    private readonly leaseSeconds: number,
    private readonly logger: Logger,
  ) {}

  async run(scope: CommandScope, command: () => Promise<StoredResponse>): Promise<CommandOutcome> {
    if (scope.key === undefined) return { ...(await answerOf(command)), replayed: false };
    const { caller, key } = scope;
    const claim = await this.repository.claim(caller, key, requestFingerprint(scope.method, scope.path, scope.body), this.leaseSeconds);
    switch (claim.outcome) {
      case 'mismatch':
        throw new ProblemError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request (method, path or body).');
      case 'in_progress':
        throw new ProblemError(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry later.');
      case 'replay': {
        // Parsing keeps the recorded key order, and the reply serializer sends the recorded text itself.
        const body: unknown = JSON.parse(claim.response.text);
        rememberJsonText(body, Buffer.from(claim.response.text));
        return { status: claim.response.status, body, replayed: true };
      }
      case 'claimed':
        break;
      default:
        claim satisfies never;
    }
    let response: StoredResponse;
    try {
      response = await answerOf(command);
    } catch (error) {
      await this.repository.release(caller, key, claim.token).catch((releaseError) =>
        this.logger.error({ err: releaseError, key }, 'could not release an idempotency claim; it frees itself when its lease ends'),
      );
      throw error;
    }
    // The text the reply serializer will send: scheduling's own bytes when they are passed on verbatim.
    const text = jsonTextOf(response.body)?.toString('utf8') ?? JSON.stringify(response.body ?? null);
    if (!(await this.repository.complete(caller, key, claim.token, { status: response.status, text }))) {
      this.logger.warn({ key }, 'idempotency claim was taken over before this attempt finished; its answer was not stored');
    }
    return { ...response, replayed: false };
  }
}

/** A 4xx problem is the command's answer too (stored and replayed); 5xx and unknown errors are not. */
async function answerOf(command: () => Promise<StoredResponse>): Promise<StoredResponse> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof ProblemError && error.getStatus() < 500) {
      return { status: error.getStatus(), body: problem(error.getStatus(), error.code, error.message, error.extras) };
    }
    throw error;
  }
}

/** Turns a stored problem back into the error the filter renders, so a replayed 4xx looks exactly like the first. */
export function rethrowIfProblem(outcome: StoredResponse): void {
  if (outcome.status < 400) return;
  const { type: _type, title: _title, status: _status, instance: _instance, code, detail, ...extras } = outcome.body as Record<string, unknown>;
  throw ProblemError.passedOn(outcome.status, String(code), String(detail), extras);
}

/**
 * Writes an outcome: the Idempotent-Replayed header on replays, problems through the problem filter,
 * and otherwise the status, an optional Location, and the body.
 */
export function sendOutcome<T>(response: FastifyReply, outcome: CommandOutcome, location?: (body: T) => string): T {
  if (outcome.replayed) response.header('Idempotent-Replayed', 'true');
  rethrowIfProblem(outcome);
  response.status(outcome.status);
  if (location && outcome.status === 201) response.header('Location', location(outcome.body as T));
  return outcome.body as T;
}
