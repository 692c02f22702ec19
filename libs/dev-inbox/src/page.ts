import type { InboxMessage } from './inbox';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

const STYLE = `
body { font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
article { border: 1px solid #767676; border-radius: .4rem; padding: .75rem 1rem; margin: 0 0 1rem; }
.kind { display: inline-block; font-weight: 700; padding: 0 .4rem; border-radius: .25rem; background: #1a1a1a; color: #fff; margin-right: .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: .5rem 0; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f3f3f3; padding: .5rem; border-radius: .25rem; }
iframe { width: 100%; min-height: 14rem; border: 1px solid #767676; border-radius: .25rem; }
a { color: #0645ad; }
`;

function row(name: string, value: string | undefined): string {
  return value ? `<dt>${escape(name)}</dt><dd>${escape(value)}</dd>` : '';
}

function renderMessage(message: InboxMessage): string {
  const when = row('received', message.receivedAt);
  switch (message.kind) {
    case 'EMAIL':
      return `<article aria-labelledby="m-${message.id}">
<h2 id="m-${message.id}"><span class="kind">Email</span>${escape(message.subject)}</h2>
<dl>${row('to', message.to.join(', '))}${row('from', message.from)}${when}${row('delivery', message.deliveryId)}</dl>
${message.text !== undefined ? `<pre class="body">${escape(message.text)}</pre>` : ''}
${message.html !== undefined ? `<details><summary>HTML part</summary><iframe sandbox title="HTML part of ${escape(message.subject)}" src="/messages/${message.id}/body.html"></iframe></details>` : ''}
${message.ics ? `<details><summary>Calendar (.ics, METHOD:${escape(message.ics.method)}) — <a href="/messages/${message.id}/invite.ics">download</a></summary><pre class="ics">${escape(message.ics.content)}</pre></details>` : ''}
</article>`;
    case 'SMS':
      return `<article aria-labelledby="m-${message.id}">
<h2 id="m-${message.id}"><span class="kind">SMS</span>to ${escape(message.to)}</h2>
<dl>${row('from', message.from)}${when}${row('account', message.accountSid)}</dl>
<pre class="body">${escape(message.body)}</pre>
</article>`;
    case 'PUSH': {
      const payload = message.payload as { title?: unknown; body?: unknown };
      const title = typeof payload?.title === 'string' ? payload.title : 'push';
      return `<article aria-labelledby="m-${message.id}">
<h2 id="m-${message.id}"><span class="kind">Push</span>${escape(title)}</h2>
<dl>${row('endpoint', message.endpoint)}${when}${row('delivery', message.deliveryId)}${row('signature', message.signature)}</dl>
${typeof payload?.body === 'string' ? `<pre class="body">${escape(payload.body)}</pre>` : ''}
<details><summary>Payload</summary><pre>${escape(JSON.stringify(message.payload, null, 2))}</pre></details>
</article>`;
    }
  }
}

/** The inbox page: every message, newest first, readable without script (the CSP allows none). */
export function renderInboxPage(messages: InboxMessage[], context: { to: string; smtpUrl: string; url: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development inbox (${messages.length})</title><style>${STYLE}</style></head>
<body><main>
<h1>Development inbox</h1>
<p>What this development run sent: mail to ${escape(context.smtpUrl)}, SMS to the Messages API at ${escape(context.url)},
push to ${escape(context.url)}/push/… Nothing here left the machine. Newest first; <a href="/${context.to ? `?to=${encodeURIComponent(context.to)}` : ''}">reload</a>.</p>
<form method="get" action="/"><label for="to">Only messages to</label> <input id="to" name="to" value="${escape(context.to)}" placeholder="address, number or /push/…"> <button type="submit">Filter</button></form>
<p role="status">${messages.length} message${messages.length === 1 ? '' : 's'}${context.to ? ` to ${escape(context.to)}` : ''}.</p>
${messages.map(renderMessage).join('\n')}
</main></body></html>`;
}
