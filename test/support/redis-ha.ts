// Real redis-server processes for replication on free loopback ports: a
// primary with replicas and three sentinels, or a Redis Cluster, each in its
// own temp folder (removed by cleanup() in server.ts), all stopped by
// stopRedisNodes().
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './redis.ts';
import { api, killAll, newItem, type TestServer, tempDir } from './server.ts';
import { until } from './wait.ts';

const run = promisify(execFile);
const running = new Set<ChildProcess>();

export interface RedisNode {
  port: number;
  address: string;
  /** Everything the process wrote. */
  log(): string;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
  /** A plain connection for the test's own commands. */
  admin(): Redis;
}

async function spawnNode(args: string[], port: number, ready: RegExp): Promise<RedisNode> {
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => running.delete(proc));
  let log = '';
  const onData = (chunk: Buffer) => {
    log += chunk.toString();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  await until(
    () => {
      if (proc.exitCode !== null) throw new Error(`redis-server ${args.join(' ')} exited:\n${log}`);
      return ready.test(log);
    },
    `redis-server on ${port} to start`,
    10_000,
    20,
  );
  const clients: Redis[] = [];
  void exited.then(() => {
    for (const client of clients) client.disconnect();
  });
  return {
    port,
    address: `127.0.0.1:${port}`,
    log: () => log,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
    admin() {
      const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false });
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
  };
}

/** A redis-server without persistence; `replicaOf` makes it a replica of that port. */
export async function startRedisNode(options: { replicaOf?: number; args?: string[] } = {}): Promise<RedisNode> {
  const port = await freePort();
  const dir = tempDir('newswire-node-');
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0',
    ...(options.replicaOf ? ['--replicaof', '127.0.0.1', String(options.replicaOf)] : []),
    ...(options.args ?? []),
  ];
  return spawnNode(args, port, /Ready to accept connections/);
}

/** Waits until `check` holds for one connection to each node (in the order given); the connections are closed after. */
async function untilAdmins(nodes: RedisNode[], what: string, check: (admins: Redis[]) => Promise<boolean>, timeoutMs = 20_000, everyMs = 100): Promise<void> {
  const admins = nodes.map((node) => node.admin());
  try {
    await until(() => check(admins), what, timeoutMs, everyMs);
  } finally {
    for (const admin of admins) admin.disconnect();
  }
}

/** The first answer `ask` gets from the nodes in turn, each over a connection of its own; a node that fails (is down) is passed over. */
async function firstAnswer<T>(nodes: RedisNode[], ask: (admin: Redis) => Promise<T | undefined>): Promise<T | undefined> {
  for (const node of nodes) {
    const admin = node.admin();
    try {
      const answer = await ask(admin);
      if (answer !== undefined) return answer;
    } catch {
      // That node is not answering: ask the next.
    } finally {
      admin.disconnect();
    }
  }
  return undefined;
}

/** Waits until a replica has finished its sync with its primary. */
export async function replicaInSync(replica: RedisNode, timeoutMs = 10_000): Promise<void> {
  await untilAdmins(
    [replica],
    `replica ${replica.port} in sync`,
    async ([admin]) => /master_link_status:up/.test(await admin!.info('replication')),
    timeoutMs,
    50,
  );
}

export interface Sentinels {
  name: string;
  nodes: RedisNode[];
  /** `host:port,...` as REDIS_SENTINELS takes it. */
  list: string;
  /** The primary's port as the sentinels see it now. */
  primaryPort(): Promise<number>;
}

/**
 * Three sentinels watching `primaryPort` (quorum 2, down after 1 s);
 * resolves once each knows the other two and `replicas` replicas, so a
 * failover can be agreed as soon as the primary goes.
 */
export async function startSentinels(name: string, primaryPort: number, replicas: number): Promise<Sentinels> {
  const nodes: RedisNode[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const dir = tempDir('newswire-sentinel-');
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'sentinel announce-ip 127.0.0.1',
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 2`,
        '',
      ].join('\n'),
    );
    nodes.push(await spawnNode([conf, '--sentinel'], port, /\+monitor master/));
  }
  await untilAdmins(nodes, 'the sentinels to know each other and the replicas', async (admins) => {
    for (const admin of admins) {
      const known = (await admin.call('SENTINEL', 'SENTINELS', name)) as unknown[];
      const replicasKnown = (await admin.call('SENTINEL', 'REPLICAS', name)) as unknown[];
      if (known.length < 2 || replicasKnown.length < replicas) return false;
    }
    return true;
  });
  return {
    name,
    nodes,
    list: nodes.map((node) => node.address).join(','),
    async primaryPort() {
      const port = await firstAnswer(nodes, async (admin) => {
        const reply = (await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string] | null;
        return reply ? Number(reply[1]) : undefined;
      });
      if (port === undefined) throw new Error('no sentinel knows the primary');
      return port;
    },
  };
}

export interface TestCluster {
  nodes: RedisNode[];
  /** `host:port,...` as REDIS_CLUSTER_NODES takes it. */
  list: string;
  /** The node that is primary for `slot` now. */
  ownerOf(slot: number): Promise<RedisNode>;
}

/**
 * A Redis Cluster of `primaries` primaries with `replicas` replicas each
 * (node timeout 1 s, so a replica takes over quickly); resolves once every
 * node says the cluster is ok and every replica is in sync.
 */
export async function startRedisCluster(primaries: number, replicas = 0): Promise<TestCluster> {
  const count = primaries * (replicas + 1);
  const nodes = await Promise.all(
    Array.from({ length: count }, async () => {
      const port = await freePort();
      const dir = tempDir('newswire-cluster-');
      return spawnNode(
        [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0',
          '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '1000', '--cluster-announce-ip', '127.0.0.1',
        ],
        port,
        /Ready to accept connections/,
      );
    }),
  );
  await run('redis-cli', [
    '--cluster', 'create', ...nodes.map((node) => node.address), '--cluster-replicas', String(replicas), '--cluster-yes',
  ]);
  await untilAdmins(nodes, 'the cluster to be ok', async (admins) => {
    for (const admin of admins) {
      if (!/cluster_state:ok/.test((await admin.call('CLUSTER', 'INFO')) as string)) return false;
      const replication = await admin.info('replication');
      if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
    }
    // Every node must also see every other, or a failover vote can miss.
    for (const admin of admins) {
      const view = (await admin.call('CLUSTER', 'NODES')) as string;
      if (view.trim().split('\n').length < count || /fail|handshake|noaddr/.test(view)) return false;
    }
    return true;
  });
  return {
    nodes,
    list: nodes.map((node) => node.address).join(','),
    async ownerOf(slot: number) {
      const owner = await firstAnswer(nodes, async (admin) => {
        const ranges = (await admin.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
        const port = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
        return nodes.find((n) => n.port === port);
      });
      if (!owner) throw new Error(`no node owns slot ${slot}`);
      return owner;
    },
  };
}

/** SIGKILLs every node these helpers started. */
export async function stopRedisNodes(): Promise<void> {
  await killAll(running);
}

/**
 * Publishes `item` until it is acknowledged (201, or 200 for a retry the log
 * already holds); each 503 is retried with the same id and content, its code
 * kept in `refusals`. Anything else fails.
 */
export async function publishAcknowledged(server: TestServer, item: Record<string, unknown>, refusals: string[]): Promise<number> {
  return until(
    async () => {
      const res = await api(server, 'POST', '/api/v1/items', item);
      if (res.status === 201 || res.status === 200) return res.status;
      if (res.status !== 503) throw new Error(`publish answered ${res.status}: ${JSON.stringify(res.body)}`);
      refusals.push(String(res.body.error?.code));
      return false;
    },
    `the publish of ${String(item.id)} to be acknowledged`,
    30_000,
    // Quicker than Retry-After, to find the end of an outage closely.
    100,
  );
}

/**
 * A stream of publishes through `servers` in turn (topic world), each until
 * it is acknowledged: the ids acknowledged in order, and the code of every
 * 503 met on the way.
 */
export function publishStream(servers: TestServer[]) {
  const acknowledged: string[] = [];
  const refusals: string[] = [];
  let n = 0;
  return {
    acknowledged,
    refusals,
    async publish(count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        const item = newItem({ topics: ['world'] });
        await publishAcknowledged(servers[n++ % servers.length] as TestServer, item, refusals);
        acknowledged.push(item.id);
      }
    },
  };
}

export interface LogEntry {
  seq: number;
  type: string;
  id: string;
}

/** The log's events as one Redis node holds them, oldest first. */
export async function readLog(node: Redis, prefix: string): Promise<LogEntry[]> {
  const entries = await node.xrange(`${prefix}:log`, '-', '+');
  return entries.map(([, fields]) => {
    const event = JSON.parse(fields[fields.indexOf('e') + 1] as string) as { seq: number; type: string; item: { id: string } };
    return { seq: event.seq, type: event.type, id: event.item.id };
  });
}
