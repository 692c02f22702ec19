// A stand-in for Twilio's Messages API, so that `docker compose up` sends SMS somewhere without an
// account: the notification service's real twilio SDK is pointed here through TWILIO_API_BASE_URL.
// Each message is accepted (201, status "queued") and printed as one JSON line, so
// `docker compose logs twilio-fake` plays the part Mailpit plays for e-mail.
// Only node's standard library: the container runs the plain node image with this file mounted.
const http = require('node:http');
const { randomBytes } = require('node:crypto');

const port = Number(process.env.PORT || 8080);
const messagesPath = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Messages\.json$/;

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://twilio-fake');
  if (req.method === 'GET' && url.pathname === '/health') return reply(res, 200, { status: 'ok' });
  const match = req.method === 'POST' ? messagesPath.exec(url.pathname) : null;
  if (!match) return reply(res, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });

  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const to = form.get('To');
    const from = form.get('From') || form.get('MessagingServiceSid');
    if (!to || !from || !(form.get('Body') || form.get('ContentSid'))) {
      return reply(res, 400, { code: 21604, message: 'A To, From and Body are required', status: 400 });
    }
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const message = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      account_sid: match[1],
      to,
      from,
      messaging_service_sid: form.get('MessagingServiceSid'),
      body: form.get('Body'),
      status: 'queued',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      num_segments: '1',
      num_media: '0',
      price: null,
      error_code: null,
      error_message: null,
      date_created: now,
      date_updated: now,
      date_sent: null,
    };
    message.uri = `/2010-04-01/Accounts/${match[1]}/Messages/${message.sid}.json`;
    process.stdout.write(`${JSON.stringify({ sms: { sid: message.sid, to, from, body: message.body } })}\n`);
    reply(res, 201, message);
  });
});

server.listen(port, '0.0.0.0', () => process.stdout.write(`twilio-fake listening on :${port}\n`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
