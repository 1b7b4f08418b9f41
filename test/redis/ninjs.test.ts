// ninjs and Superdesk pushes on several processes sharing one Redis: the
// version ledger and uploaded media live under the key prefix, so any process
// answers for what another took in, and a restart forgets nothing.
import { describe, expect, it } from 'vitest';
import { RedisMediaStore } from '../../src/media/store.ts';
import { itemIdForUri } from '../../src/ninjs/in.ts';
import { PNG, superdeskTransmit } from '../ninjs/support.ts';
import { api, type TestServer } from '../support/server.ts';
import { useCluster } from './helpers.ts';

const SECRET = 'superdesk-destination-secret-token';

describe('ninjs on one Redis', () => {
  const cluster = useCluster(2, { SUPERDESK_SECRET: SECRET, REDIS_KEY_PREFIX: 'nw-ninjs' }, { oneByOne: true });

  it('shares versions and media between processes and keeps them under the prefix', async () => {
    const [a, b] = cluster.servers as [TestServer, TestServer];
    const { admin } = cluster;
    const guid = 'urn:newsml:localhost:5000:redis-story';
    const media = '20261130/redis-picture.png';
    const item = (version: number, headline: string) => ({
      guid,
      version: String(version),
      headline,
      subject: [{ code: '04000000', name: 'economy' }],
      associations: { featuremedia: { type: 'picture', description_text: 'Chart', renditions: { original: { href: 'http://localhost:5000/x.png', media, mimetype: 'image/png' } } } },
    });
    const first = await superdeskTransmit(a.url, SECRET, item(1, 'Rates rise'), { [media]: PNG });
    expect(first.map((s) => `${s.method} ${s.status}`)).toEqual(['GET 404', 'POST 201', 'POST 201']);
    const path = new URL(first.at(-1)?.body.item.image.url).pathname;

    // The other process already has the picture and the version.
    const second = await superdeskTransmit(b.url, SECRET, item(2, 'Rates rise again'), { [media]: PNG });
    expect(second.map((s) => `${s.method} ${s.status}`)).toEqual(['GET 200', 'POST 201']);
    expect(second.at(-1)?.body.item).toMatchObject({ version: 2, headline: 'Rates rise again' });
    const replay = await api(b, 'POST', '/api/v1/ninjs', item(1, 'Rates rise'));
    expect(replay.body).toMatchObject({ unchanged: true, ninjs: { lastVersion: 2 } });
    const served = await fetch(`${b.url}${path}`);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(PNG)).toBe(true);

    const keys = await admin.keys('*');
    expect(keys.filter((key) => /ninjs|media/.test(key)).every((key) => key.startsWith('nw-ninjs:'))).toBe(true);
    expect(await admin.hget('nw-ninjs:ninjs-versions', guid)).toBe('2');

    // A restarted process still knows version 2.
    const restarted = await a.restart();
    const again = await api(restarted, 'POST', '/api/v1/ninjs', item(2, 'Rates rise again'));
    expect(again.body).toMatchObject({ unchanged: true, item: { id: itemIdForUri(guid), version: 2 } });

    // Past retention the picture is forgotten; the next push uploads it again under the same URL.
    expect(await new RedisMediaStore(admin, 'nw-ninjs').trim(Date.now() + 1)).toBe(1);
    expect((await fetch(`${b.url}${path}`)).status).toBe(404);
    expect(await admin.hlen('nw-ninjs:media-sources')).toBe(0);
    const third = await superdeskTransmit(b.url, SECRET, item(3, 'Rates rise a third time'), { [media]: PNG });
    expect(third.map((s) => `${s.method} ${s.status}`)).toEqual(['GET 404', 'POST 201', 'POST 201']);
    expect(new URL(third.at(-1)?.body.item.image.url).pathname).toBe(path);
  });
});
