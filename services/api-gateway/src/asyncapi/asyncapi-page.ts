type Schema = { [key: string]: unknown };

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const json = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;

/** `#/components/messages/X` → the message X of the document. */
function resolve(doc: Schema, ref: string): Schema {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<Schema>((node, key) => node[key] as Schema, doc);
}

/**
 * The AsyncAPI document as one readable HTML page: per topic its description and messages, each with
 * its summary, key, headers and payload schema. Plain HTML and a few lines of CSS, no script.
 */
export function renderAsyncApiPage(doc: Schema): string {
  const info = doc.info as { title: string; version: string; description: string };
  const channels = Object.values(doc.channels as Record<string, Schema>);
  const sections = channels.map((channel) => {
    const messages = Object.entries(channel.messages as Record<string, { $ref: string }>).map(([name, ref]) => {
      const message = resolve(doc, ref.$ref);
      const headers = message.headers as Schema;
      const resolvedHeaders = typeof headers.$ref === 'string' ? resolve(doc, headers.$ref) : headers;
      const key = (message.bindings as { kafka?: { key?: Schema } } | undefined)?.kafka?.key;
      return `<article id="${escape(String(channel.address))}-${escape(name)}">
<h3>${escape(name)}</h3>
<p>${escape(String(message.summary ?? ''))}</p>
${key ? `<p><strong>Key:</strong> ${escape(String(key.description ?? key.type))}</p>` : ''}
<details><summary>Headers</summary>${json(resolvedHeaders)}</details>
<details><summary>Payload schema</summary>${json(message.payload)}</details>
</article>`;
    });
    return `<section><h2><code>${escape(String(channel.address))}</code></h2>
<p>${escape(String(channel.description ?? ''))}</p>
${messages.join('\n')}
</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(info.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
pre{background:#f4f4f4;padding:.75rem;overflow:auto;font-size:.85rem}article{border-top:1px solid #ddd;padding:.5rem 0}</style>
</head><body>
<h1>${escape(info.title)} <small>${escape(info.version)}</small></h1>
<p>${escape(info.description)}</p>
<p>Machine-readable: <a href="/asyncapi.json">/asyncapi.json</a> (AsyncAPI ${escape(String(doc.asyncapi))}).</p>
${sections.join('\n')}
</body></html>
`;
}
