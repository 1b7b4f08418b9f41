// The Dockerfile, docker-compose.yml and deploy/nginx.conf describe one
// deployment: they must agree with each other and with the server on ports,
// paths and variables. Docker cannot run here, so what can be read is checked.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}/${path}`, 'utf8');

type Yaml = string | Yaml[] | { [key: string]: Yaml };

/**
 * Enough YAML for the compose file: block mappings and sequences, quoted and
 * plain scalars, flow sequences written as JSON, `&anchor` and `<<: *anchor`.
 */
function parseYaml(text: string): Yaml {
  const lines = text
    .split('\n')
    .map((raw) => raw.replace(/(^|\s)#.*$/, ''))
    .filter((line) => line.trim() !== '')
    .map((line) => ({ indent: line.length - line.trimStart().length, text: line.trim() }));
  const anchors = new Map<string, Yaml>();
  let at = 0;
  const scalar = (value: string): Yaml => {
    if (value.startsWith('[')) return JSON.parse(value) as Yaml;
    if (/^".*"$/.test(value)) return JSON.parse(value) as string;
    if (/^'.*'$/.test(value)) return value.slice(1, -1);
    return value;
  };
  const block = (indent: number): Yaml => {
    const first = lines[at];
    if (first?.text.startsWith('- ')) {
      const list: Yaml[] = [];
      while (lines[at]?.indent === indent && lines[at]?.text.startsWith('- ')) {
        list.push(scalar((lines[at]?.text ?? '').slice(2).trim()));
        at++;
      }
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    while (at < lines.length && (lines[at]?.indent ?? 0) === indent) {
      const { text } = lines[at] as { text: string };
      const match = /^([^:]+):(?:\s+(.*))?$/.exec(text);
      if (!match) throw new Error(`cannot read YAML line: ${text}`);
      at++;
      const key = (match[1] as string).trim().replace(/^"|"$/g, '');
      let value = match[2]?.trim() ?? '';
      let anchor: string | undefined;
      if (value.startsWith('&')) {
        anchor = value.slice(1);
        value = '';
      }
      let parsed: Yaml;
      if (value === '') {
        const next = lines[at];
        parsed = next && next.indent > indent ? block(next.indent) : next && next.indent === indent && next.text.startsWith('- ') ? block(indent) : '';
      } else if (value.startsWith('*')) {
        parsed = anchors.get(value.slice(1)) ?? '';
      } else {
        parsed = scalar(value);
      }
      if (anchor) anchors.set(anchor, parsed);
      if (key === '<<' && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(map, { ...parsed, ...map });
      else map[key] = parsed;
    }
    return map;
  };
  return block(0);
}

const asMap = (value: Yaml | undefined) => (value ?? {}) as { [key: string]: Yaml };

const compose = asMap(parseYaml(read('docker-compose.yml')));
const services = asMap(compose.services);
const appNames = Object.keys(services).filter((name) => /^app\d*$/.test(name));
const dockerfile = read('Dockerfile');
const nginx = read('deploy/nginx.conf');

/** The body of an nginx `location = path { … }` block (no nested blocks in ours). */
function location(path: string): string {
  const match = new RegExp(`location\\s*=\\s*${path.replace('/', '\\/')}\\s*\\{([^}]*)\\}`).exec(nginx);
  expect(match, `nginx has a "location = ${path}" block`).not.toBeNull();
  return match?.[1] ?? '';
}

function seconds(value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!match) return 0;
  return Number(match[1]) * ({ ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? 's'] ?? 1);
}

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('builds on a pinned Node 20 image and runs compiled JavaScript as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^node:20\.\d+\.\d+-bookworm-slim\b/);
    const build = stages[0] ?? '';
    expect(build).toMatch(/RUN npm ci\s*$/m);
    expect(build).toMatch(/RUN npm run build/);
    expect(build).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(runtime).toMatch(/COPY --from=build \/app\/node_modules \.\/node_modules/);
    // public/ beside dist/, where src/app.ts looks for it (../public from dist/app.js).
    expect(runtime).toMatch(/COPY public \.\/public/);
    expect(runtime).not.toMatch(/COPY src|tsx/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    expect(scripts['start:prod']).toBe('node dist/main.js');
    expect(scripts.build).toBeDefined();
  });

  it('exposes the port it listens on and checks its health on /healthz there', () => {
    const port = /ENV[\s\S]*?\bPORT=(\d+)/.exec(runtime)?.[1];
    expect(port).toBe('3000');
    expect(runtime).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    const healthcheck = /HEALTHCHECK[^\n]*\\\n\s*CMD (.*)/.exec(runtime)?.[1] ?? '';
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toContain('process.env.PORT');
    expect(read('src/app.ts')).toContain("app.get('/healthz'");
  });
});

describe('docker-compose.yml', () => {
  it('builds the image once and runs it in every app service', () => {
    expect(appNames.length).toBeGreaterThanOrEqual(2);
    const images = new Set(appNames.map((name) => asMap(services[name]).image));
    expect(images.size).toBe(1);
    expect([...images][0]).toBeTruthy();
    expect(appNames.filter((name) => asMap(services[name]).build !== undefined)).toHaveLength(1);
    for (const name of appNames) {
      const service = asMap(services[name]);
      if (service.build === undefined) expect(service.pull_policy).toBe('never');
    }
  });

  it('gives the apps a configuration the server accepts, on the port nginx and the image use', () => {
    for (const name of appNames) {
      const env = asMap(asMap(services[name]).environment) as Record<string, string>;
      expect(env.PORT).toBe('3000');
      expect(dockerfile).toContain(`EXPOSE ${env.PORT}`);
      expect(nginx).toMatch(new RegExp(`server ${name}:${env.PORT}\\b`));
      // With compose's ${VAR:-default} and ${VAR:?message} filled in as a run would fill them.
      const resolved = Object.fromEntries(
        Object.entries(env).map(([key, value]) => [
          key,
          value.replace(/\$\{(\w+)(?::[-?]([^}]*))?\}/g, (_all, variable: string, fallback: string | undefined) =>
            variable === 'PUBLISHER_TOKENS' || variable === 'REDIS_PASSWORD' ? 'a'.repeat(32) : variable === 'WORKERS' ? '2' : (fallback ?? ''),
          ),
        ]),
      );
      const config = loadConfig(resolved);
      expect(config.port).toBe(3000);
      expect(config.redisUrl).toBe(`redis://:${'a'.repeat(32)}@redis:6379`);
      expect(config.workers).toBe(2);
      expect(config.shutdownGraceMs / 1000).toBeLessThan(seconds(String(asMap(services[name]).stop_grace_period)));
    }
    // Every upstream is an app service.
    for (const [, host] of nginx.matchAll(/server (\w+):\d+/g)) expect(appNames).toContain(host);
  });

  it('runs Redis with a password the apps use, a memory bound and no eviction', () => {
    const command = (asMap(services.redis).command ?? []) as string[];
    const option = (name: string) => command[command.indexOf(name) + 1];
    expect(command).toContain('--requirepass');
    const password = option('--requirepass') ?? '';
    const variable = /^\$\{(\w+)/.exec(password)?.[1];
    expect(variable).toBe('REDIS_PASSWORD');
    for (const name of appNames) {
      const url = (asMap(asMap(services[name]).environment) as Record<string, string>).REDIS_URL ?? '';
      expect(url).toMatch(new RegExp(`^redis://:\\$\\{${variable}[:?}][^@]*@redis:6379$`));
    }
    expect(option('--maxmemory')).toMatch(/^\d+(mb|gb)$/);
    expect(option('--maxmemory-policy')).toBe('noeviction');
    expect(option('--appendfsync')).toBe('always');
    // The health check authenticates too (redis-cli reads REDISCLI_AUTH).
    expect((asMap(asMap(services.redis).environment) as Record<string, string>).REDISCLI_AUTH).toMatch(new RegExp(`^\\$\\{${variable}`));
  });

  it('lets the load balancer start only once the apps are healthy', () => {
    const lb = asMap(services.lb);
    const dependsOn = asMap(lb.depends_on);
    for (const name of appNames) expect(asMap(dependsOn[name]).condition).toBe('service_healthy');
    expect(lb.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(dockerfile).toMatch(/HEALTHCHECK/);
    for (const name of appNames) expect(asMap(asMap(asMap(services[name]).depends_on).redis).condition).toBe('service_healthy');
  });
});

describe('nginx.conf', () => {
  it('passes WebSocket upgrades on /ws, the path the server takes them on', () => {
    const ws = location('/ws');
    expect(ws).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(ws).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(seconds(/proxy_read_timeout (\S+);/.exec(ws)?.[1] ?? '')).toBeGreaterThan(30);
    expect(nginx).toMatch(/map \$http_upgrade \$connection_upgrade/);
    expect(read('src/realtime/gateway.ts')).toMatch(/'\/ws'/);
  });

  it('streams /sse unbuffered and uncompressed, with a read timeout beyond the heartbeat', () => {
    const sse = location('/sse');
    expect(sse).toMatch(/proxy_buffering off;/);
    expect(sse).toMatch(/gzip off;/);
    expect(sse).toMatch(/proxy_set_header Connection "";/);
    expect(seconds(/proxy_read_timeout (\S+);/.exec(sse)?.[1] ?? '')).toBeGreaterThan(30);
    expect(read('src/realtime/sse.ts')).toMatch(/'\/sse'/);
  });

  it('compresses what the server does not, and keeps upstream connections alive', () => {
    expect(nginx).toMatch(/^\s*gzip on;/m);
    expect(nginx).toMatch(/gzip_types[^;]*application\/json/);
    expect(nginx).toMatch(/proxy_http_version 1\.1;/);
    expect(nginx).toMatch(/keepalive \d+;/);
    // KEEP_ALIVE_SECONDS outlasts nginx's upstream idle keep-alive (60 s by default).
    for (const name of appNames) {
      const env = asMap(asMap(services[name]).environment) as Record<string, string>;
      expect(Number(env.KEEP_ALIVE_SECONDS)).toBeGreaterThan(60);
    }
  });
});
