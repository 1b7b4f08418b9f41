import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ID_PATTERN } from '../../src/domain/item.ts';
import { ninjsSettings } from '../../src/ninjs/config.ts';
import { itemIdForUri, readNinjs, slugTopic } from '../../src/ninjs/in.ts';
import { signatureMatches } from '../../src/ninjs/routes.ts';
import { sniffImage } from '../../src/media/sniff.ts';
import { MEDIA_NAME_PATTERN, SqliteMediaStore } from '../../src/media/store.ts';
import { cleanup, tempDir } from '../support/server.ts';
import { JPEG, PNG } from './support.ts';

const settings = ninjsSettings({ NINJS_TOPIC_MAP: 'subject:15000000=sport,medtop:11000000=politics' }, []);

describe('ninjs pieces', () => {
  it('checks signatures as Superdesk makes them (its own test vector)', () => {
    expect(signatureMatches('123456789', Buffer.from('test payload'), 'sha1=8be62a607898504f87559cb52dc23f9ebee65a21')).toBe(true);
    expect(signatureMatches('123456789', Buffer.from('test payload!'), 'sha1=8be62a607898504f87559cb52dc23f9ebee65a21')).toBe(false);
    expect(signatureMatches('123456789', Buffer.from('test payload'), '8be62a607898504f87559cb52dc23f9ebee65a21')).toBe(false);
    expect(signatureMatches('123456789', Buffer.from('test payload'), undefined)).toBe(false);
  });

  it('derives stable, valid, bounded item ids from any uri', () => {
    expect(itemIdForUri('urn:newsml:localhost:2026:abc')).toBe('urn:newsml:localhost:2026:abc');
    const long = `https://agency.example/stories/${'ü/'.repeat(200)}end?x=1`;
    for (const uri of ['https://agency.example/a b/ç', long, '///', 'a/b', 'a-b']) {
      const id = itemIdForUri(uri);
      expect(id).toMatch(ID_PATTERN);
      expect(id.length).toBeLessThanOrEqual(128);
      expect(itemIdForUri(uri)).toBe(id);
    }
    expect(itemIdForUri('a/b')).not.toBe(itemIdForUri('a-b'));
    expect(itemIdForUri('https://agency.example/a b/ç')).toMatch(/^agency\.example-a-b-c-/);
  });

  it('makes topics of names within the topic rules', () => {
    expect(slugTopic('Économie & Finance')).toBe('economie-finance');
    expect(slugTopic('ALL')).toBeNull();
    expect(slugTopic('!!!')).toBeNull();
    const long = slugTopic('word '.repeat(30)) as string;
    expect(long.length).toBeLessThanOrEqual(48);
    expect(long).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
  });

  it('reads the three generations into the same fields', () => {
    const v1 = readNinjs(
      { guid: 'g1', version: '3', headline: 'H', description_text: 'S', body_html: '<p>B</p>', urgency: 2, byline: 'By', pubstatus: 'usable',
        subject: [{ code: '15000000', scheme: 'subject', name: 'Sport news' }, { code: '20000000', name: 'Weather' }] },
      settings,
    );
    expect(v1).toMatchObject({ uri: 'g1', version: 3, pubstatus: 'usable', fields: { headline: 'H', summary: 'S', body: '<p>B</p>', priority: 'bulletin', byline: 'By', topics: ['sport', 'weather'] } });
    const v2 = readNinjs(
      { uri: 'u2', version: '1', headlines: [{ role: 'sub', value: 'Sub' }, { role: 'main', value: 'Main' }], bodies: [{ contenttype: 'text/plain', value: 'plain' }, { contenttype: 'text/html', value: '<p>html</p>' }],
        descriptions: [{ role: 'summary', value: 'Sum' }], subjects: [{ uri: 'http://cv.iptc.org/newscodes/mediatopic/11000000', name: 'politics' }], pubstatus: 'withheld', by: 'B2', infosources: [{ name: 'Agency' }] },
      settings,
    );
    expect(v2).toMatchObject({ uri: 'u2', pubstatus: 'withheld', fields: { headline: 'Main', body: '<p>html</p>', summary: 'Sum', byline: 'B2', source: 'Agency', topics: ['politics'] } });
    const v3 = readNinjs({ uri: 'u3', pubStatus: 'canceled', edNote: 'Legal', headlines: [{ value: 'H3' }], copyrightHolder: 'C', subjects: [{ literal: 'medtop:11000000' }] }, settings);
    expect(v3).toMatchObject({ uri: 'u3', pubstatus: 'canceled', note: 'Legal', fields: { headline: 'H3', source: 'C', topics: ['politics'] } });
    expect(readNinjs({ uri: 'u4', headlines: [{ value: 'x' }] }, settings)).toMatchObject({ fields: { topics: ['news'] } });
  });

  it('finds the feature picture in every generation', () => {
    const v2 = readNinjs(
      { uri: 'u', headlines: [{ value: 'h' }], associations: [
        { name: 'related', uri: 'urn:text', type: 'text' },
        { name: 'featureimage', uri: 'urn:pic', type: 'picture', descriptions: [{ value: 'Alt <b>text</b>' }],
          renditions: [{ name: 'thumbnail', href: 'https://img.example/t.jpg' }, { name: 'original', href: 'https://img.example/o.jpg' }] },
      ] },
      settings,
    );
    expect(v2).toMatchObject({ image: { href: 'https://img.example/o.jpg', alt: 'Alt text', path: 'associations.1.renditions.1.href' } });
    const v1 = readNinjs(
      { guid: 'g', headline: 'h', associations: { other: { type: 'text' }, featuremedia: { type: 'picture', description_text: 'A', renditions: { viewImage: { href: 'https://x.example/v.jpg', media: 'm/v.jpg' }, original: { href: 'https://x.example/o.jpg', media: 'm/o.jpg' } } } } },
      settings,
    );
    expect(v1).toMatchObject({ image: { href: 'https://x.example/o.jpg', mediaId: 'm/o.jpg', alt: 'A' } });
    const picture = readNinjs({ guid: 'p', type: 'picture', headline: 'Photo', description_text: 'Caption', renditions: { original: { href: 'https://x.example/p.png', media: 'p.png' } } }, settings);
    expect(picture).toMatchObject({ image: { mediaId: 'p.png', alt: 'Caption', path: 'renditions.original.href' } });
    expect(readNinjs({ uri: 'u', headlines: [{ value: 'h' }], associations: 'x' }, settings)).toEqual({ errors: [{ path: 'associations', message: 'must be an array (2.x, 3.x) or an object (1.x)' }] });
  });

  it('names the path of every problem in the document', () => {
    const read = readNinjs({ version: 'two', pubstatus: 'dead', urgency: 12, headlines: [{ value: 3 }], subjects: 'x' }, settings);
    expect('errors' in read && read.errors.map((e) => e.path).sort()).toEqual(['headlines.0.value', 'pubstatus', 'subjects', 'urgency', 'uri', 'version']);
  });

  it('tells images by their bytes', () => {
    expect(sniffImage(PNG)).toBe('image/png');
    expect(sniffImage(JPEG)).toBe('image/jpeg');
    expect(sniffImage(Buffer.from('GIF89a....'))).toBe('image/gif');
    expect(sniffImage(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
  });

  it('refuses a bad topic map at start, naming the variable', () => {
    const problems: string[] = [];
    ninjsSettings({ NINJS_TOPIC_MAP: 'a=Not A Slug,b', SUPERDESK_SECRET: 'short', MEDIA_MAX_BYTES: '12' }, problems);
    expect(problems.map((p) => p.split(':')[0])).toEqual(['NINJS_TOPIC_MAP', 'NINJS_TOPIC_MAP', 'SUPERDESK_SECRET', 'MEDIA_MAX_BYTES']);
  });
});

describe('uploaded media in the SQLite file', () => {
  afterAll(cleanup);

  it('keeps the first upload of an id under one name, and forgets files past retention', async () => {
    const file = join(tempDir(), 'newswire.db');
    const media = new SqliteMediaStore(file);
    const name = await media.put('2026/a.png', 'image/png', PNG);
    expect(name).toMatch(MEDIA_NAME_PATTERN);
    expect(await media.put('2026/a.png', 'image/jpeg', JPEG)).toBe(name);
    expect((await media.get(name))?.bytes.equals(PNG)).toBe(true);
    expect(await media.trim(Date.now() - 60_000)).toBe(0);
    expect(await media.trim(Date.now() + 1)).toBe(1);
    expect(await media.get(name)).toBeNull();
    expect(await media.nameOf('2026/a.png')).toBeNull();
    // Uploaded again, it comes back under the same name.
    expect(await media.put('2026/a.png', 'image/png', PNG)).toBe(name);
    await media.close();
  });
});
