import { asyncApiDocument, eventContracts, TOPICS } from '@booking/contracts';
import { renderAsyncApiPage } from './asyncapi-page';

describe('renderAsyncApiPage', () => {
  const page = renderAsyncApiPage(asyncApiDocument());

  it('shows every topic and every event type with its summary', () => {
    for (const topic of Object.values(TOPICS)) expect(page).toContain(`<h2><code>${topic}</code></h2>`);
    for (const [type, contract] of Object.entries(eventContracts)) {
      expect(page).toContain(`<h3>${type}</h3>`);
      expect(page).toContain(`<p>${contract.summary.replace(/'/g, '&#39;')}</p>`);
    }
    expect(page).toContain('traceparent');
  });

  it('escapes what it prints', () => {
    const doc = asyncApiDocument();
    const page = renderAsyncApiPage({ ...doc, info: { ...(doc.info as object), title: '<script>alert(1)</script>' } });
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
