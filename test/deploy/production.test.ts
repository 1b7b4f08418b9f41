// The production build, as the image runs it: dist/ compiled by `npm run
// build`, beside public/, with the production dependencies only (no
// TypeScript, no test packages), started with `node dist/main.js` from a
// folder of its own. The npm cache here cannot install better-sqlite3's
// native build offline (`npm ci --omit=dev --offline` fails: ENOTCACHED), so
// the production install is made by copying, out of node_modules, the
// packages package.json's dependencies resolve to: the set `npm ci
// --omit=dev` installs in the Dockerfile.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, newItem, startServer, type TestServer, tempDir, TOKEN } from '../support/server.ts';
import { TestClient } from '../support/ws.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let app: string;
let server: TestServer;

afterAll(cleanup);

/**
 * Every production dependency's folder, relative to node_modules (nested ones
 * included), found as Node resolves them: from package.json's dependencies
 * (and optional ones that are installed), recursively.
 */
function productionPackages(): string[] {
  const modules = realpathSync(join(ROOT, 'node_modules'));
  const top = dirname(modules);
  const found = new Set<string>();
  const add = (dir: string) => {
    if (found.has(dir)) return;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) resolvePackage(dir, name);
  };
  const resolvePackage = (from: string, name: string) => {
    for (let dir = from; dir.startsWith(top); dir = dirname(dir)) {
      if (basename(dir) === 'node_modules') continue;
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return add(realpathSync(candidate));
      if (dir === top) return; // an optional dependency not installed on this platform
    }
  };
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of Object.keys(root.dependencies)) resolvePackage(top, name);
  return [...found].filter((dir) => dir.startsWith(`${modules}/`)).map((dir) => relative(modules, dir));
}

beforeAll(async () => {
  app = tempDir('newswire-test-prod-');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), join(app, 'dist')], { cwd: ROOT, stdio: 'pipe' });
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(app, file));
  cpSync(join(ROOT, 'public'), join(app, 'public'), { recursive: true });
  const modules = realpathSync(join(ROOT, 'node_modules'));
  mkdirSync(join(app, 'node_modules'));
  for (const pkg of productionPackages()) {
    // Each package without its own node_modules: the nested packages it needs are in the list themselves.
    const from = join(modules, pkg);
    cpSync(from, join(app, 'node_modules', pkg), { recursive: true, filter: (path) => !path.startsWith(join(from, 'node_modules')) });
  }

  server = await startServer({
    command: { args: ['dist/main.js'], cwd: app },
    env: { NODE_ENV: 'production', PUBLIC_URL: 'http://127.0.0.1' },
    startTimeoutMs: 60_000,
  });
}, 300_000);

describe('production build (node dist/main.js, production dependencies only)', () => {
  it('has no development tooling and no TypeScript to run', () => {
    expect(existsSync(join(app, 'node_modules/better-sqlite3'))).toBe(true);
    // (tsx is still among the dependencies in package.json, but nothing here runs it.)
    for (const dev of ['typescript', 'vitest', 'playwright-core', '@biomejs/biome']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'dist/main.js'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
    // Imports were rewritten to the compiled files.
    expect(readFileSync(join(app, 'dist/app.js'), 'utf8')).not.toMatch(/from '\.[^']*\.ts'/);
  });

  it('answers health, publishes, serves the feed, pages and assets, and welcomes a WebSocket', async () => {
    const { url } = server;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const client = await TestClient.connect(server.wsUrl);
    const welcome = await client.waitForType('welcome');
    expect(welcome.cursor).toMatch(/-0$/);

    const item = newItem({ headline: 'Built for production' });
    const published = await fetch(`${url}/api/v1/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(item),
    });
    expect(published.status).toBe(201);
    const [event] = await client.waitForEvents(1);
    expect(event?.item?.id).toBe(item.id);
    await client.close();

    const feed = await fetch(`${url}/feeds/all.rss`);
    expect(feed.status).toBe(200);
    expect(await feed.text()).toContain('Built for production');
    // public/ and src/shared/ are found from dist/.
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect((await fetch(`${url}/assets/client.js`)).status).toBe(200);
    expect((await fetch(`${url}/assets/shared/time.js`)).status).toBe(200);
    // The push encryption worker (a plain .js file beside the compiled ones) loads.
    expect(server.output()).not.toMatch(/push encryption worker/);
  });

  it('drains on SIGTERM and exits 0', async () => {
    expect(await server.stop()).toBe(0);
  });
});
