// The served /openapi.json: it passes `redocly lint` (redocly.yaml), it
// describes every /api/v1 route the app has (and none it lacks), and the
// reference page made from it (/docs/api) is escaped, script-free HTML.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiDocument } from '../../src/api/openapi.ts';
import type { Runtime } from '../../src/app.ts';
import { LIMITS } from '../../src/domain/item.ts';
import { startInProcess } from '../support/in-process.ts';
import { cleanup, tempDir } from '../support/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);

let runtime: Runtime;
let base: string;
let doc: OpenApiDocument;

beforeAll(async () => {
  // With SUPERDESK_SECRET: the Superdesk routes exist, and are linted and held to the document too.
  const started = await startInProcess({ FEED_ITEMS: '40', SUPERDESK_SECRET: 'a-superdesk-secret-0123456789' });
  runtime = started.runtime;
  base = `http://127.0.0.1:${started.port}`;
  const response = await fetch(`${base}/openapi.json`);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  doc = (await response.json()) as OpenApiDocument;
});

afterAll(async () => {
  await runtime?.stop();
  await cleanup();
});

/** Routes matched by a wildcard (the rest of the path is one value), by their documented form. */
const WILDCARDS: Record<string, string> = { '/api/v1/superdesk/assets/*': '/api/v1/superdesk/assets/{mediaId}' };
/** `/api/v1/items/:id` → `/api/v1/items/{id}` */
const openApiPath = (honoPath: string) => WILDCARDS[honoPath] ?? honoPath.replace(/:([A-Za-z_]\w*)/g, '{$1}');

/** The app's /api/v1 routes and the ones its document describes, as `METHOD path`. */
function routesAndDescribed(app: Runtime['app'], described: OpenApiDocument) {
  const routes = new Set(
    app.routes.filter((route) => route.path.startsWith('/api/v1/') && METHODS.has(route.method)).map((route) => `${route.method} ${openApiPath(route.path)}`),
  );
  const operations = new Set(
    Object.entries(described.paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)),
  );
  return { routes, described: operations };
}

describe('/openapi.json', () => {
  it('passes redocly lint (recommended-strict, see redocly.yaml)', async () => {
    const file = join(tempDir('newswire-openapi-'), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        join(ROOT, 'node_modules/.bin/redocly'),
        ['lint', '--config', join(ROOT, 'redocly.yaml'), '--format', 'stylish', file],
        // No telemetry, no update check: the lint needs no network.
        { cwd: ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, timeout: 90_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}\n${stderr}` }),
      );
    });
    expect(output).toMatch(/valid/);
    expect(code, output).toBe(0);
  }, 120_000);

  it('describes every /api/v1 route of the app, and no route it does not have', () => {
    const { routes, described } = routesAndDescribed(runtime.app, doc);
    expect(routes.size).toBeGreaterThan(5);
    expect([...routes].filter((route) => !described.has(route)), 'routes missing from /openapi.json').toEqual([]);
    expect([...described].filter((route) => !routes.has(route)), 'described routes the app does not have').toEqual([]);
    expect(routes.has('POST /api/v1/superdesk/items') && routes.has('GET /api/v1/superdesk/assets/{mediaId}')).toBe(true);
    expect(doc.paths['/api/v1/superdesk/items']?.post?.security).toEqual([{ superdeskSignature: [] }]);
    expect(doc.components.securitySchemes.superdeskSignature).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-superdesk-signature' });
  });

  it('without SUPERDESK_SECRET, describes neither the Superdesk routes nor their signature', async () => {
    const started = await startInProcess({});
    try {
      const plain = (await (await fetch(`http://127.0.0.1:${started.port}/openapi.json`)).json()) as OpenApiDocument;
      const { routes, described } = routesAndDescribed(started.runtime.app, plain);
      expect([...routes].filter((route) => route.includes('/superdesk/'))).toEqual([]);
      expect([...routes].filter((route) => !described.has(route)), 'routes missing from /openapi.json').toEqual([]);
      expect([...described].filter((route) => !routes.has(route)), 'described routes the app does not have').toEqual([]);
      expect(plain.components.securitySchemes.superdeskSignature).toBeUndefined();
    } finally {
      await started.runtime.stop();
    }
  });

  it('gives every /api/v1 operation a success and a client error, and every write the bearer scheme (Superdesk: its signature)', () => {
    for (const [path, methods] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/api/v1/'))) {
      for (const [method, op] of Object.entries(methods)) {
        const statuses = Object.keys(op.responses);
        expect(statuses.some((s) => s.startsWith('2')), `${method} ${path} has no 2xx`).toBe(true);
        expect(statuses.some((s) => s.startsWith('4')), `${method} ${path} has no 4xx`).toBe(true);
        // Every newsroom write takes a bearer token, except Superdesk's pushes, signed instead; keys are never
        // public. Readers' push subscriptions are anonymous, as reading is.
        const signed = path.startsWith('/api/v1/superdesk/');
        if (path.startsWith('/api/v1/push/')) continue;
        if (method !== 'get' || path.startsWith('/api/v1/keys')) expect(op.security, `${method} ${path}`).toEqual([signed ? { superdeskSignature: [] } : { bearer: [] }]);
      }
    }
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('is generated from the schemas and limits the server validates with', () => {
    const input = doc.components.schemas.ItemInput as { properties: Record<string, Record<string, unknown>>; required: string[] };
    expect(input.required).toEqual(['headline', 'topics']);
    expect(input.properties.topics).toMatchObject({ minItems: 1, maxItems: LIMITS.topicsPerItem });
    expect(input.properties.id).toMatchObject({ maxLength: LIMITS.idLength });
    const item = doc.components.schemas.Item as { properties: Record<string, Record<string, unknown>> };
    expect(item.properties.headline).toMatchObject({ minLength: 1, maxLength: LIMITS.headlineLength });
    const list = doc.paths['/api/v1/items']?.get;
    const limit = list?.parameters?.find((p) => p.name === 'limit');
    // listLimit is max(100, SNAPSHOT_ITEMS); FEED_ITEMS bounds detail=full.
    expect(limit?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(limit?.description).toContain('40 with');
    expect(list?.parameters?.find((p) => p.name === 'status')?.schema).toMatchObject({ enum: ['published', 'scheduled', 'retracted'] });
    expect(list?.parameters?.find((p) => p.name === 'hours')?.schema).toMatchObject({ type: 'number', exclusiveMinimum: 0, maximum: 168, default: 48 });
    expect(list?.responses['200']?.content?.['application/json']?.schema).toEqual({ anyOf: [{ $ref: '#/components/schemas/ItemList' }, { $ref: '#/components/schemas/KillList' }] });
  });
});

describe('/docs/api', () => {
  it('is server-rendered, script-free and escaped, and names every operation', async () => {
    const response = await fetch(`${base}/docs/api`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await response.text();
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/\sstyle=/i);
    expect(page).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
    expect(page).toContain('<link rel="stylesheet" href="/assets/api-docs.css">');
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(page).toContain(`id="${op.operationId}"`);
        expect(page).toContain(`<span class="api-method api-method-${method}">${method.toUpperCase()}</span> <code class="api-path">${path}</code>`);
      }
    }
    // Descriptions carry angle brackets; they arrive as text.
    expect(page).toContain('Updated &lt;time&gt;: &lt;note&gt;');
    expect(page).not.toContain('<time>');
    expect(page).toContain('href="/openapi.json"');
  });

  it('is compressed once and sent in the coding asked for', async () => {
    const response = await fetch(`${base}/docs/api`, { headers: { 'accept-encoding': 'br' } });
    expect(response.headers.get('content-encoding')).toBe('br');
    expect(await response.text()).toContain('API reference');
    const css = await fetch(`${base}/assets/api-docs.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });
});
