// The client package as a developer gets it: packed with npm, installed
// offline into a scratch project, imported from Node, and type-checked.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, tempDir } from '../support/server.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE_DIR = join(ROOT, 'packages/client');

afterAll(cleanup);

describe('@newswire/client', () => {
  it('packs, installs offline, imports from Node and type-checks', async () => {
    const packs = tempDir('newswire-pack-');
    const env = { ...process.env, npm_config_cache: join(packs, 'npm-cache'), npm_config_update_notifier: 'false' };
    await run('npm', ['pack', '--pack-destination', packs], { cwd: PACKAGE_DIR, env });
    const tarballs = readdirSync(packs).filter((name) => name.endsWith('.tgz'));
    expect(tarballs).toEqual(['newswire-client-0.1.0.tgz']);
    const tarball = join(packs, tarballs[0] as string);
    // The copies made for packing are gone again: public/ stays the one source.
    expect(existsSync(join(PACKAGE_DIR, 'client.js'))).toBe(false);

    const listing = (await run('tar', ['tzf', tarball])).stdout.split('\n').filter(Boolean).sort();
    expect(listing).toEqual(['package/LICENSE', 'package/README.md', 'package/client.d.ts', 'package/client.js', 'package/package.json']);

    const project = tempDir('newswire-scratch-');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project, env });
    const installed = join(project, 'node_modules/@newswire/client');
    expect(readFileSync(join(installed, 'client.js'), 'utf8')).toBe(readFileSync(join(ROOT, 'public/client.js'), 'utf8'));
    expect(readFileSync(join(installed, 'client.d.ts'), 'utf8')).toBe(readFileSync(join(ROOT, 'public/client.d.ts'), 'utf8'));

    // Node resolves the package by its exports and runs it.
    writeFileSync(
      join(project, 'check.js'),
      [
        "import { NewsClient, connect, parseCursor, streamUrl } from '@newswire/client';",
        "const client = new NewsClient({ url: 'ws://127.0.0.1:9/ws', WebSocket: class {}, topics: ['world'] });",
        'console.log(JSON.stringify({',
        '  state: client.state,',
        "  cursor: parseCursor('abc123-42'),",
        "  stream: streamUrl('wss://news.example.com/ws'),",
        '  connect: typeof connect,',
        '}));',
      ].join('\n'),
    );
    const output = JSON.parse((await run(process.execPath, ['check.js'], { cwd: project })).stdout);
    expect(output).toEqual({ state: 'closed', cursor: { epoch: 'abc123', seq: 42 }, stream: 'https://news.example.com/sse', connect: 'function' });

    // TypeScript finds the types through the exports' "types" condition: a
    // wrong option is an error (it would pass silently against an untyped module).
    writeFileSync(
      join(project, 'index.ts'),
      [
        "import { NewsClient, type EventFrame, type ClientState } from '@newswire/client';",
        "const client = new NewsClient({ url: 'wss://news.example.com/ws', topics: ['world'], onEvent(frame: EventFrame) { frame.item.headline; } });",
        'const state: ClientState = client.state;',
        'const cursor: string | null = client.cursor;',
        '// @ts-expect-error: not a transport',
        "new NewsClient({ transport: 'carrier-pigeon' });",
        'export { state, cursor };',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], types: [], strict: true, noEmit: true },
        files: ['index.ts'],
      }),
    );
    const tsc = await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', project], { cwd: project }).catch((error: { stdout: string }) => error);
    expect('stdout' in tsc ? tsc.stdout : '').toBe('');
  });
});
