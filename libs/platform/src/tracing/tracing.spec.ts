import { ReadableSpan, TracerProvider } from '@opentelemetry/sdk-trace';
import { NAMED_STATEMENT_TEXT_LIMIT, shortenNamedStatement } from './tracing';

describe('query spans', () => {
  const tracer = new TracerProvider().getTracer('test');
  const spanOf = (query: { text: string; name?: string }) => {
    const span = tracer.startSpan('pg.query', { attributes: { 'db.query.text': query.text } });
    shortenNamedStatement(span, { query, connection: {} });
    span.end();
    return (span as unknown as ReadableSpan).attributes['db.query.text'];
  };
  const long = `WITH provider AS (SELECT version FROM scheduling.providers WHERE id = $1) ${'SELECT 1 UNION ALL '.repeat(200)}SELECT 1`;

  it("keeps only the start of a named statement's text: the span's name says which statement it was", () => {
    expect(spanOf({ name: 'scheduling.book-keyed.v3', text: long })).toBe(`${long.slice(0, NAMED_STATEMENT_TEXT_LIMIT)}…`);
  });

  it('keeps the whole text of an unnamed query, and of a short named one', () => {
    expect(spanOf({ text: long })).toBe(long);
    expect(spanOf({ name: 'inbox.claim', text: 'SELECT 1' })).toBe('SELECT 1');
  });
});
