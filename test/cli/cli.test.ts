// The `newswire` command as a real process against a real server process.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../client/proxy.ts';
import { freePort } from '../support/redis.ts';
import { api, cleanup, startServer, type TestServer, tempDir } from '../support/server.ts';
import { cliEnv, follow, run, stopAll } from './run.ts';

let server: TestServer;
/** The command's settings for the server as it is now (a restart may move it). */
const env = () => cliEnv(server);

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await stopAll();
  await cleanup();
});

const unique = (name: string) => `cli-${name}-${process.pid}-${Date.now().toString(36)}`;

describe('newswire publish, correct, get, list, kill', () => {
  it('publishes from flags and reads the item back', async () => {
    const id = unique('flags');
    const published = await run(
      ['publish', '--id', id, '--headline', 'Quake hits the coast', '--topics', 'world,science', '--priority', 'flash', '--summary', 'A strong quake.', '--byline', 'A. Reporter'],
      env(),
    );
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    expect(published.stdout).toMatch(new RegExp(`^published: ${id} v1  cursor \\w+-\\d+\\n$`));

    const got = await run(['get', id, '-o', 'json'], env());
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout).item).toMatchObject({ id, headline: 'Quake hits the coast', topics: ['world', 'science'], priority: 'flash', byline: 'A. Reporter', version: 1 });

    const text = await run(['get', id], env());
    expect(text.stdout).toContain('headline:     Quake hits the coast');
  });

  it('publishes a JSON document from stdin and from --json, with a body file', async () => {
    const fromStdin = unique('stdin');
    const piped = await run(['publish', '-o', 'json'], env(), JSON.stringify({ id: fromStdin, headline: 'From stdin', topics: ['world'] }));
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout).item).toMatchObject({ id: fromStdin, headline: 'From stdin', version: 1 });

    const dir = tempDir('newswire-cli-');
    const fromFile = unique('file');
    writeFileSync(join(dir, 'item.json'), JSON.stringify({ id: fromFile, headline: 'From a file', topics: ['world'] }));
    writeFileSync(join(dir, 'body.html'), '<p>The whole story.</p>');
    const filed = await run(['publish', '--json', join(dir, 'item.json'), '--priority', 'urgent', '--body-file', join(dir, 'body.html')], env());
    expect(filed.code).toBe(0);
    const item = (await api(server, 'GET', `/api/v1/items/${fromFile}`)).body.item;
    expect(item).toMatchObject({ headline: 'From a file', priority: 'urgent', body: '<p>The whole story.</p>' });
  });

  it('corrects the changed fields with a note, keeping the others', async () => {
    const id = unique('correct');
    expect((await api(server, 'POST', '/api/v1/items', { id, headline: 'Toll rises to 10', topics: ['world'], summary: 'Kept as it was' })).status).toBe(201);
    const corrected = await run(['correct', id, '--headline', 'Toll rises to 12', '--note', 'Toll was 12, not 10'], env());
    expect(corrected.stderr).toBe('');
    expect(corrected.code).toBe(0);
    expect(corrected.stdout).toMatch(new RegExp(`^corrected: ${id} v2  cursor `));
    const item = (await api(server, 'GET', `/api/v1/items/${id}`)).body.item;
    expect(item).toMatchObject({ headline: 'Toll rises to 12', summary: 'Kept as it was', changeNote: 'Toll was 12, not 10', version: 2 });
  });

  it('lists the latest items of a topic, newest first', async () => {
    const topic = `t${Date.now().toString(36)}`;
    const ids = [unique('list-a'), unique('list-b')];
    for (const id of ids) expect((await api(server, 'POST', '/api/v1/items', { id, headline: `Item ${id}`, topics: [topic] })).status).toBe(201);
    const listed = await run(['list', '--topic', topic, '--limit', '5'], env());
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(ids[1]);
    expect(lines[1]).toContain(ids[0]);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}ROUTINE {3}/);
  });

  it('kills an item with a reason; it is gone', async () => {
    const id = unique('kill');
    expect((await api(server, 'POST', '/api/v1/items', { id, headline: 'Wrong story', topics: ['world'] })).status).toBe(201);
    const killed = await run(['kill', id, '--reason', 'Legal'], env());
    expect(killed.code).toBe(0);
    expect(killed.stdout).toMatch(new RegExp(`^withdrawn: ${id}  cursor `));
    expect((await api(server, 'GET', `/api/v1/items/${id}`)).status).toBe(410);
    const again = await run(['get', id], env());
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('410 gone: this item was retracted');
  });
});

describe('newswire failures', () => {
  it('exits 1 with the field reasons the server gives', async () => {
    const refused = await run(['publish', '--headline', 'Bad topics', '--topics', 'Not A Slug', '--priority', 'loud'], env());
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('400 invalid-request');
    expect(refused.stderr).toMatch(/^ {2}topics\.0: .+/m);
    expect(refused.stderr).toMatch(/^ {2}priority: .+/m);
  });

  it('exits 1 on a wrong key, and 2 without one', async () => {
    const wrong = await run(['publish', '--headline', 'x', '--topics', 'world'], { ...env(), NEWSWIRE_KEY: 'not-the-token-at-all-0000' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('403 forbidden');
    const none = await run(['kill', 'some-id', '--reason', 'x'], { NEWSWIRE_URL: server.url });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('NEWSWIRE_KEY');
  });

  it('exits 2 on usage errors and 0 on --help', async () => {
    expect((await run(['frobnicate'], env())).code).toBe(2);
    expect((await run(['publish', '--no-such-flag'], env())).code).toBe(2);
    expect((await run(['kill', 'x'], env())).code).toBe(2);
    for (const command of ['publish', 'tail']) {
      const help = await run([command, '--help'], env());
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`newswire ${command}`);
    }
    const overall = await run(['--help'], {});
    expect(overall.code).toBe(0);
    expect(overall.stdout).toContain('Exit codes');
  });

  it('exits 3 when the server cannot be reached', async () => {
    // A port that was just free: nothing listens there.
    const url = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await run(['list', '--url', url], env());
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(`cannot reach the server at ${url}: ECONNREFUSED`);
  });
});

describe('newswire tail', () => {
  it('shows events in order, resumes after a drop and a restart without loss or duplicate, and prints its cursor', async () => {
    const topic = `tail${Date.now().toString(36)}`;
    const proxy = await TcpProxy.start(server.port);
    const tail = follow(['tail', '--topics', topic, '--url', proxy.url, '--json'], {});
    try {
      await tail.waitFor(() => tail.stderr().includes('live:'), 'tail to go live');
      const published: string[] = [];
      const publish = async (n: number) => {
        const id = unique(`tail-${n}`);
        const res = await api(server, 'POST', '/api/v1/items', { id, headline: `Tail ${n}`, topics: [topic], priority: n === 1 ? 'flash' : 'routine' });
        expect(res.status).toBe(201);
        published.push(id);
      };
      const seen = () => tail.lines().map((line) => JSON.parse(line) as { type: string; event: string; item: { id: string }; cursor: string });
      const seenIds = () => seen().map((frame) => frame.item.id);

      for (const n of [1, 2, 3]) await publish(n);
      await tail.waitFor(() => seen().length >= 3, 'three events');
      expect(seenIds()).toEqual(published);
      expect(seen().every((frame) => frame.type === 'event' && frame.event === 'published')).toBe(true);

      // A partition: the connection drops; two items are published meanwhile.
      proxy.cut();
      await tail.waitFor(() => tail.stderr().includes('connection lost'), 'tail to notice the drop');
      for (const n of [4, 5]) await publish(n);
      proxy.heal();
      await tail.waitFor(() => seen().length >= 5, 'the two events published while disconnected');

      // A restart on the same data folder and port.
      server = await server.restart();
      await tail.waitFor(() => tail.stderr().split('live:').length > 3, 'tail live again after the restart', 30_000);
      await publish(6);
      await tail.waitFor(() => seen().length >= 6, 'the event after the restart');
      expect(seenIds()).toEqual(published);
      const cursors = seen().map((frame) => frame.cursor);
      expect(new Set(cursors).size).toBe(6);

      expect(await tail.interrupt()).toBe(0);
      expect(tail.stderr()).toContain(`last cursor ${cursors[5]}`);

      // Started again from a cursor: what came after it is replayed, in order, as text lines.
      const resumed = follow(['tail', '--topics', topic, '--cursor', cursors[2] as string], env());
      await resumed.waitFor(() => resumed.lines().length >= 3, 'the replay after the cursor');
      expect(await resumed.interrupt()).toBe(0);
      const lines = resumed.lines();
      expect(lines).toHaveLength(3);
      lines.forEach((line, index) => {
        expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}ROUTINE {3}published {2}/);
        expect(line).toContain(published[index + 3]);
      });
    } finally {
      await tail.interrupt();
      await proxy.close();
    }
  });

  it('keeps its cursor in a file and starts from it', async () => {
    const topic = `file${Date.now().toString(36)}`;
    const cursorFile = join(tempDir('newswire-cli-'), 'cursor');
    const first = follow(['tail', '--topics', topic, '--cursor-file', cursorFile, '--json'], env());
    await first.waitFor(() => first.stderr().includes('live:'), 'tail to go live');
    const one = await api(server, 'POST', '/api/v1/items', { id: unique('file-1'), headline: 'One', topics: [topic] });
    await first.waitFor(() => first.lines().length >= 1, 'the first event');
    expect(await first.interrupt()).toBe(0);
    const two = await api(server, 'POST', '/api/v1/items', { id: unique('file-2'), headline: 'Two', topics: [topic] });
    const second = follow(['tail', '--topics', topic, '--cursor-file', cursorFile, '--json'], env());
    await second.waitFor(() => second.lines().length >= 1, 'the event missed between the runs');
    expect(await second.interrupt()).toBe(0);
    expect(second.lines().map((line) => JSON.parse(line).item.id)).toEqual([two.body.item.id]);
    expect(one.body.item.id).not.toBe(two.body.item.id);
  });
});

describe('newswire keys', () => {
  it('creates, lists and revokes a publisher key', async (context) => {
    const probe = await api(server, 'GET', '/api/v1/keys');
    if (probe.status === 404) {
      context.skip('this server has no /api/v1/keys route (publisher keys are not part of it yet)');
      return;
    }
    const name = unique('desk');
    const created = await run(['keys', 'create', '--name', name, '--actions', 'publish,correct', '--topics', 'world', '-o', 'json'], env());
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const { key, token } = JSON.parse(created.stdout) as { key: { id: string; name: string }; token: string };
    expect(key.name).toBe(name);
    expect(typeof token).toBe('string');

    const published = await run(['publish', '--headline', 'By the new key', '--topics', 'world'], { ...env(), NEWSWIRE_KEY: token });
    expect(published.code).toBe(0);

    const listed = await run(['keys', 'list'], env());
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(name);
    expect(listed.stdout).not.toContain(token);
    expect(listed.stdout).toContain('token-1  PUBLISHER_TOKENS  publish,correct,kill,ingest,admin  all topics');

    const revoked = await run(['keys', 'revoke', key.id], env());
    expect(revoked.code).toBe(0);
    const refused = await run(['publish', '--headline', 'After revoking', '--topics', 'world'], { ...env(), NEWSWIRE_KEY: token });
    expect(refused.code).toBe(1);
  });
});
