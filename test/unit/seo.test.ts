// The pure parts of sitemaps and structured data: the News sitemap's 48-hour
// window and 1,000 bound, the sitemap index, Google News language codes,
// JSON that cannot end its script block.
import fc from 'fast-check';
import { parseStringPromise } from 'xml2js';
import { describe, expect, it } from 'vitest';
import {
  NEWS_MAX_URLS,
  NEWS_WINDOW_MS,
  newsLanguage,
  newsStories,
  renderIndex,
  renderNewsSitemap,
  renderUrlset,
  type SitemapStory,
} from '../../src/seo/sitemaps.ts';
import { scriptSafeJson } from '../../src/seo/structured-data.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;

function storyAt(hoursAgo: number, id = `s-${hoursAgo}`): SitemapStory {
  const at = new Date(NOW - hoursAgo * HOUR).toISOString();
  return { id, headline: `Story ${id}`, publishedAt: at, updatedAt: at, language: undefined };
}

describe('the News sitemap window', () => {
  it('keeps stories of the last 48 hours and drops older ones', () => {
    const stories = [0, 1, 24, 47.99, 48, 48.01, 72].map((h) => storyAt(h));
    expect(newsStories(stories, NOW).map((s) => s.id)).toEqual(['s-0', 's-1', 's-24', 's-47.99']);
    expect(NEWS_WINDOW_MS).toBe(48 * HOUR);
  });

  it('holds at most 1,000 stories, the newest', () => {
    const stories = Array.from({ length: 1_500 }, (_, i) => storyAt(i / 100, `n-${i}`));
    const kept = newsStories(stories, NOW);
    expect(kept).toHaveLength(NEWS_MAX_URLS);
    expect(kept[0]?.id).toBe('n-0');
    expect(kept.at(-1)?.id).toBe('n-999');
  });
});

describe('sitemap documents', () => {
  it('an index names every numbered file with its newest change', async () => {
    const xml = renderIndex(['2026-06-01T10:00:00.000Z', '2026-05-30T10:00:00.000Z'], 'https://news.example.org');
    const doc = await parseStringPromise(xml, { strict: true });
    expect(doc.sitemapindex.$.xmlns).toBe('http://www.sitemaps.org/schemas/sitemap/0.9');
    expect(doc.sitemapindex.sitemap.map((s: any) => s.loc[0])).toEqual([
      'https://news.example.org/sitemap-1.xml',
      'https://news.example.org/sitemap-2.xml',
    ]);
    expect(doc.sitemapindex.sitemap[1].lastmod[0]).toBe('2026-05-30T10:00:00.000Z');
  });

  it('stay well-formed XML whatever the headline and id', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/), async (headline, id) => {
        // Items are cleaned of control characters at the door (cleanText): so are these.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the same rule as the items
        const clean = headline.toWellFormed().replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
        const story = { ...storyAt(1, id), headline: clean };
        const news = await parseStringPromise(renderNewsSitemap([story], 'https://n.example', 'A & "B"'), { strict: true });
        expect(news.urlset.url[0]['news:news'][0]['news:title'][0]).toBe(clean);
        expect(news.urlset.url[0]['news:news'][0]['news:publication'][0]['news:name'][0]).toBe('A & "B"');
        const all = await parseStringPromise(renderUrlset([story], 'https://n.example'), { strict: true });
        expect(decodeURIComponent(all.urlset.url[0].loc[0].slice('https://n.example/items/'.length))).toBe(id);
      }),
      { numRuns: 200 },
    );
  });

  it('name languages as Google News does', () => {
    expect(newsLanguage(undefined)).toBe('en');
    expect(newsLanguage('pt-BR')).toBe('pt');
    expect(newsLanguage('FR')).toBe('fr');
    expect(newsLanguage('zh')).toBe('zh-cn');
    expect(newsLanguage('zh-Hans-CN')).toBe('zh-cn');
    expect(newsLanguage('zh-TW')).toBe('zh-tw');
    expect(newsLanguage('zh-Hant')).toBe('zh-tw');
  });
});

describe('JSON-LD text', () => {
  it('never holds a character that could end or confuse its script block, and parses back the same', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, text) => {
        const json = scriptSafeJson({ value, text, hostile: `</script><script>alert(1)</script><!--${text}` });
        expect(json).not.toMatch(/[<>&\u2028\u2029]/);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify({ value, text, hostile: `</script><script>alert(1)</script><!--${text}` })));
      }),
      { numRuns: 300 },
    );
  });
});
