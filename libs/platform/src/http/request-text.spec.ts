import fc from 'fast-check';
import { ProblemError } from './problem';
import { decodeJsonBody, parseQueryString, unstorableText } from './request-text';

describe('request text', () => {
  it('names every string and property name Postgres cannot store, and nothing else', () => {
    const body = { name: 'a\u0000b', ok: 'Zürich 東京 😀', list: ['x', 'y\ud800'], nested: { ['k\udc00']: 'v', fine: { deeper: '\udbff' } } };
    expect(unstorableText(body, 'body')).toEqual([
      { path: 'body.name', message: 'contains a NUL character (U+0000)' },
      { path: 'body.list.1', message: 'contains a lone UTF-16 surrogate (not Unicode text)' },
      { path: 'body.nested.k\ufffd', message: 'the property name contains a lone UTF-16 surrogate (not Unicode text)' },
      { path: 'body.nested.fine.deeper', message: 'contains a lone UTF-16 surrogate (not Unicode text)' },
    ]);
  });

  it('accepts all well-formed Unicode without NUL, and refuses any string with NUL or a lone surrogate', () => {
    fc.assert(
      fc.property(fc.fullUnicodeString(), (text) => {
        expect(unstorableText({ text }, 'body')).toEqual(text.includes('\u0000') ? [{ path: 'body.text', message: 'contains a NUL character (U+0000)' }] : []);
      }),
    );
    fc.assert(
      fc.property(fc.string16bits(), (text) => {
        const wellFormed = Buffer.from(text, 'utf8').toString('utf8') === text;
        expect(unstorableText(text, 'query.x').length).toBe(wellFormed && !text.includes('\u0000') ? 0 : 1);
      }),
    );
  });

  it('walks a deeply nested body without overflowing the stack', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(unstorableText(deep, 'body')).toHaveLength(1);
  });

  it('parses a query string as Fastify does, remembering percent-encodings that are not UTF-8', () => {
    expect({ ...parseQueryString('a=1&b=x+y&a=2&c=%E6%9D%B1&d') }).toEqual({ a: ['1', '2'], b: 'x y', c: '東', d: '' });
    const bad = parseQueryString('clientId=%ff&ok=1&x=%ED%A0%80');
    expect({ ...bad }).toEqual({ ok: '1' });
  });

  it('decodes a JSON body only as plain UTF-8', () => {
    expect(decodeJsonBody('application/json', undefined, Buffer.from('{"a":"é"}'))).toBe('{"a":"é"}');
    expect(decodeJsonBody('application/json; charset="UTF-8"', 'identity', Buffer.from('{}'))).toBe('{}');
    const refusal = (contentType: string, encoding: string | undefined, body: Buffer) => {
      try {
        decodeJsonBody(contentType, encoding, body);
        return undefined;
      } catch (error) {
        return error instanceof ProblemError ? [error.getStatus(), error.code] : error;
      }
    };
    expect(refusal('application/json', 'gzip', Buffer.from('{}'))).toEqual([415, 'UNSUPPORTED_CONTENT_ENCODING']);
    expect(refusal('application/json', 'identity, br', Buffer.from('{}'))).toEqual([415, 'UNSUPPORTED_CONTENT_ENCODING']);
    expect(refusal('application/json; charset=utf-16', undefined, Buffer.from('{}', 'utf16le'))).toEqual([415, 'UNSUPPORTED_CHARSET']);
    expect(refusal('application/json;charset=ISO-8859-1', undefined, Buffer.from('{}'))).toEqual([415, 'UNSUPPORTED_CHARSET']);
    expect(refusal('application/json', undefined, Buffer.from([0x7b, 0xff, 0x7d]))).toEqual([400, 'MALFORMED_JSON']);
  });
});
