import { rebase } from './twilio-request-client';

describe('rebase', () => {
  const local = new URL('http://127.0.0.1:4010');

  it('moves Twilio REST calls, edge/region hosts included, onto the configured origin', () => {
    expect(rebase('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json', local)).toBe(
      'http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json',
    );
    expect(rebase('https://api.sydney.au1.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1', local)).toBe(
      'http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json?x=1',
    );
  });

  it('leaves other hosts alone', () => {
    expect(rebase('https://tls-test.twilio.com:443/', local)).toBe('https://tls-test.twilio.com:443/');
    expect(rebase('https://example.com/x', local)).toBe('https://example.com/x');
  });

  it('is a no-op when pointed at the real API', () => {
    const uri = 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json';
    expect(rebase(uri, new URL('https://api.twilio.com'))).toBe(uri);
  });
});
