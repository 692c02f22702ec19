/**
 * Just enough MIME (RFC 2045–2047) to read what nodemailer sends: headers with encoded words,
 * nested multiparts, base64 and quoted-printable bodies. For tests and the development inbox.
 */
export type MimePart = { headers: Map<string, string>; body: Buffer; parts: MimePart[] };

export function parseMime(raw: Buffer | string): MimePart {
  const text = Buffer.isBuffer(raw) ? raw.toString('latin1') : Buffer.from(raw, 'utf8').toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const bodyText = split < 0 ? '' : text.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\//i.test(contentType) && boundary) {
    const sections = bodyText.split(`--${boundary}`);
    const parts = sections.slice(1, -1).map((section) => parseMime(Buffer.from(section.replace(/^\r\n/, '').replace(/\r\n$/, ''), 'latin1')));
    return { headers, body: Buffer.alloc(0), parts };
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const body =
    encoding === 'base64'
      ? Buffer.from(bodyText.replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(bodyText)
        : Buffer.from(bodyText, 'latin1');
  return { headers, body, parts: [] };
}

export function decodeQuotedPrintable(value: string): Buffer {
  const bytes: number[] = [];
  const unfolded = value.replace(/=\r\n/g, '');
  for (let i = 0; i < unfolded.length; i++) {
    if (unfolded[i] === '=' && /^[0-9A-F]{2}$/i.test(unfolded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(unfolded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(unfolded.charCodeAt(i));
    }
  }
  return Buffer.from(bytes);
}

/** A header value with RFC 2047 encoded words decoded (adjacent words joined, as the RFC says). */
export function header(part: MimePart, name: string): string | undefined {
  const value = part.headers.get(name.toLowerCase());
  if (value === undefined) return undefined;
  const decoded = value.replace(/(=\?[^?]+\?[BQ]\?[^?]*\?=)(\s+(?==\?))/gi, '$1');
  return decoded.replace(/(?:=\?([^?]+)\?([BQ])\?([^?]*)\?=)+/gi, (run) => {
    const bytes: Buffer[] = [];
    for (const [, , kind, data] of run.matchAll(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi)) {
      bytes.push(kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : decodeQuotedPrintable(data.replace(/_/g, ' ')));
    }
    return Buffer.concat(bytes).toString('utf8');
  });
}

/** Depth-first: every leaf part. */
export function leaves(part: MimePart): MimePart[] {
  return part.parts.length ? part.parts.flatMap(leaves) : [part];
}

export function partText(part: MimePart): string {
  return part.body.toString('utf8');
}

/** The leaf parts whose Content-Type starts with `type` (e.g. "text/calendar"). */
export function partsOfType(message: MimePart, type: string): MimePart[] {
  return leaves(message).filter((p) => (p.headers.get('content-type') ?? 'text/plain').toLowerCase().startsWith(type.toLowerCase()));
}
