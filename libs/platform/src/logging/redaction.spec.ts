import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { REDACTED } from './redaction';

function capture(): { lines: Record<string, any>[]; stream: Writable } {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, stream };
}

describe('log redaction', () => {
  it('hides authorization headers, tokens, API keys, passwords, emails and phone numbers at any depth', () => {
    const { lines, stream } = capture();
    const logger = createLogger('svc', 'info', stream);
    logger.info(
      {
        req: { headers: { authorization: 'Bearer eyJhbGciOi.secret.sig', cookie: 'sid=abc', 'x-api-key': 'k-123', accept: 'application/json' } },
        token: 'tok-1',
        apiKey: 'key-1',
        password: 'hunter22',
        data: { client: { email: 'ann@example.com', phone: '+15551234567', timeZone: 'Asia/Tokyo' } },
        recipient: { email: 'bob@example.com' },
      },
      'request',
    );
    const [line] = lines;
    expect(line.req.headers).toEqual({ authorization: REDACTED, cookie: REDACTED, 'x-api-key': REDACTED, accept: 'application/json' });
    expect(line).toMatchObject({ token: REDACTED, apiKey: REDACTED, password: REDACTED, recipient: { email: REDACTED } });
    expect(line.data.client).toEqual({ email: REDACTED, phone: REDACTED, timeZone: 'Asia/Tokyo' });
    const text = JSON.stringify(line);
    for (const secret of ['eyJhbGciOi', 'sid=abc', 'k-123', 'tok-1', 'key-1', 'hunter22', 'ann@example.com', '+15551234567', 'bob@example.com']) {
      expect(text).not.toContain(secret);
    }
  });

  it('leaves other fields and the message as they are', () => {
    const { lines, stream } = capture();
    createLogger('svc', 'info', stream).info({ appointmentId: 'a-1', status: 'CONFIRMED' }, 'confirmed');
    expect(lines[0]).toMatchObject({ appointmentId: 'a-1', status: 'CONFIRMED', msg: 'confirmed', service: 'svc' });
  });
});
