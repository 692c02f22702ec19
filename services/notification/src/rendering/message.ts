/** The four forms of one notification: email (subject, text, HTML), SMS and push. */
export type Rendered = {
  subject: string;
  text: string;
  html: string;
  sms: string;
  push: { title: string; body: string };
};

export type RecipientRole = 'CLIENT' | 'PROVIDER';

export type MessageParts = {
  subject: string;
  greetingName?: string;
  /** Sentences of the body, in order. */
  lines: string[];
  /** Label/value rows (times, amounts, reference), shown as a list in text and a table in HTML. */
  details: [label: string, value: string][];
  sms: string;
  pushTitle: string;
};

/** Builds the text and HTML parts from the same pieces, so the two never say different things. */
export function buildMessage(parts: MessageParts): Rendered {
  const greeting = `Hello ${parts.greetingName?.trim() || 'there'},`;
  const text = [
    greeting,
    '',
    ...parts.lines,
    '',
    ...parts.details.map(([label, value]) => `${label}: ${value}`),
    '',
    '— Booking',
    '',
  ].join('\n');
  const rows = parts.details
    .map(([label, value]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('');
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>' +
    escapeHtml(parts.subject) +
    '</title></head><body style="font-family:sans-serif">' +
    `<p>${escapeHtml(greeting)}</p>` +
    parts.lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('') +
    `<table>${rows}</table>` +
    '<p>— Booking</p></body></html>';
  return { subject: parts.subject, text, html, sms: parts.sms, push: { title: parts.pushTitle, body: parts.sms } };
}

export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * ICU puts narrow and no-break spaces into dates and amounts (which ones depends on version, zone and
 * locale). One such character turns a whole SMS into UCS-2: 70 characters a segment instead of 160.
 */
export function plainSpaces(value: string): string {
  return value.replace(/[\u202f\u00a0]/g, ' ');
}
