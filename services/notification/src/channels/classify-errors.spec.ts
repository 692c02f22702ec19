import { classifyPushStatus, classifySmtpError, classifyTwilioError } from './classify-errors';

const smtp = (props: Record<string, unknown>, message = 'failed') => Object.assign(new Error(message), props);

describe('classifySmtpError', () => {
  it('treats 4xx replies and connection trouble as transient', () => {
    expect(classifySmtpError(smtp({ responseCode: 451, code: 'EENVELOPE' })).permanent).toBe(false);
    expect(classifySmtpError(smtp({ responseCode: 421 })).permanent).toBe(false);
    expect(classifySmtpError(smtp({ code: 'ECONNECTION' }, 'connect ECONNREFUSED 127.0.0.1:1')).permanent).toBe(false);
    expect(classifySmtpError(smtp({ code: 'ETIMEDOUT' })).permanent).toBe(false);
  });

  it('treats 5xx replies and addresses refused before sending as permanent', () => {
    const rejected = classifySmtpError(smtp({ responseCode: 550, code: 'EENVELOPE' }, "Can't send mail - all recipients were rejected: 550 No such user"));
    expect(rejected.permanent).toBe(true);
    expect(rejected.message).toBe("SMTP: Can't send mail - all recipients were rejected: 550 No such user");
    expect(classifySmtpError(smtp({ responseCode: 553 })).permanent).toBe(true);
    expect(classifySmtpError(smtp({ code: 'EENVELOPE' }, 'Invalid recipient')).permanent).toBe(true);
  });

  it('keeps error text short enough for the event', () => {
    expect(classifySmtpError(new Error('x'.repeat(5000))).message.length).toBeLessThanOrEqual(500);
  });
});

describe('classifyTwilioError', () => {
  const rest = (status: number, code: number, message: string) => Object.assign(new Error(message), { status, code });

  it('marks invalid numbers and other client errors permanent', () => {
    const invalid = classifyTwilioError(rest(400, 21211, "The 'To' number +1555 is not a valid phone number."));
    expect(invalid.permanent).toBe(true);
    expect(invalid.message).toBe("Twilio HTTP 400 error 21211: The 'To' number +1555 is not a valid phone number.");
    expect(classifyTwilioError(rest(401, 20003, 'Authenticate')).permanent).toBe(true);
  });

  it('retries rate limits, server errors and unreachable APIs', () => {
    expect(classifyTwilioError(rest(429, 20429, 'Too Many Requests')).permanent).toBe(false);
    expect(classifyTwilioError(rest(503, 20500, 'Service Unavailable')).permanent).toBe(false);
    expect(classifyTwilioError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).permanent).toBe(false);
  });
});

describe('classifyPushStatus', () => {
  it('gives up on endpoints that are gone or refuse, retries busy ones', () => {
    expect(classifyPushStatus(410, '').permanent).toBe(true);
    expect(classifyPushStatus(404, '').message).toBe('push endpoint answered HTTP 404 (endpoint gone)');
    expect(classifyPushStatus(401, 'bad signature').permanent).toBe(true);
    expect(classifyPushStatus(302, '').permanent).toBe(true);
    expect(classifyPushStatus(503, '').permanent).toBe(false);
    expect(classifyPushStatus(429, '').permanent).toBe(false);
  });
});
