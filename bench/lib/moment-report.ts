// The breaking-news moment's figures as tables, and its goals as ratios of
// figures measured in the same run (rush ÷ quiet, 20k stories ÷ empty store).
import type { AlertResult, LoadResult } from './moment-phases.ts';
import type { EventBytes, SnapshotCost } from './moment-probe.ts';
import type { SeedResult } from './moment-seed.ts';
import type { Latency } from './stats.ts';

export type StoreSize = 'empty' | 'stories';

/** One target with one store: everything measured between its start and its stop. */
export interface MomentRow {
  target: string;
  store: StoreSize;
  stories: number;
  processes?: number;
  loadavgStart?: number;
  loadavgEnd?: number;
  /** Raised limits the server refused at start (it then ran with the harness defaults). */
  rejectedEnv?: string[];
  seed?: SeedResult;
  connect?: { ok: number; failed: number; seconds: number };
  eventBytes?: EventBytes;
  snapshot?: SnapshotCost;
  quiet?: AlertResult;
  rush?: LoadResult & { during: AlertResult | undefined };
  idle?: { seconds: number; serverCpuUsPerSecond: number };
  pages?: LoadResult;
  feeds?: LoadResult;
  error?: string;
}

export interface Goal {
  target: string;
  goal: string;
  value: number;
  limit: number;
  detail: string;
  met: boolean;
}

export const GOALS = { rush: 1.5, growth: 1.3, eventBytes: 1536 };

const fmt = (value: number | undefined | null, digits = 1) =>
  value === undefined || value === null || !Number.isFinite(value)
    ? '–'
    : Math.abs(value) >= 100
      ? Math.round(value).toLocaleString('en')
      : String(Number(value.toFixed(digits)));
const pair = (l: Latency | undefined) => (l?.count ? `${fmt(l.p50)} / ${fmt(l.p99)}` : '–');
const times = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? a / b : Number.NaN);
const storeLabel = (r: MomentRow) => (r.store === 'empty' ? 'empty' : `${r.stories.toLocaleString('en')} stories`);

function table(title: string, head: string[], rows: string[][]): string {
  return [
    `**${title}**`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function alertsTable(rows: MomentRow[]): string {
  return table(
    'Flash alerts to every subscriber, quiet and during the reader rush (publish → each socket, ms)',
    ['target', 'store', 'subscribers', 'quiet p50 / p99', 'rush p50 / p99', 'rush ÷ quiet p50', 'rush ÷ quiet p99', 'first delivery p50 quiet / rush', 'lost', 'publish API p50 quiet / rush'],
    rows.map((r) => {
      const q = r.quiet;
      const u = r.rush?.during;
      return [
        r.target,
        storeLabel(r),
        fmt(q?.subscribers),
        pair(q?.latencyMs),
        pair(u?.latencyMs),
        `${fmt(times(u?.latencyMs.p50, q?.latencyMs.p50), 2)}×`,
        `${fmt(times(u?.latencyMs.p99, q?.latencyMs.p99), 2)}×`,
        `${fmt(q?.firstDeliveryMs.p50)} / ${fmt(u?.firstDeliveryMs.p50)}`,
        fmt((q?.lost ?? 0) + (u?.lost ?? 0)),
        `${fmt(q?.publishMs.p50)} / ${fmt(u?.publishMs.p50)}`,
      ];
    }),
  );
}

function rushTable(rows: MomentRow[]): string {
  return table(
    'Reader rush: requests during the alerts, p50 / p99 (ms) from when each was due',
    ['target', 'store', 'front', 'topic', 'story', 'feed 200', 'feed 304', 'served / sent', 'sent > 20 ms late (load generator lag p99, ms) / dropped', 'errors'],
    rows.map((r) => {
      const l = r.rush?.load;
      return [
        r.target,
        storeLabel(r),
        pair(l?.kinds.front),
        pair(l?.kinds.topic),
        pair(l?.kinds.story),
        pair(l?.kinds.feed200),
        pair(l?.kinds.feed304),
        l ? `${fmt(l.served)} / ${fmt(l.pagesSent + l.feedsSent)}` : '–',
        l ? `${l.late} (${fmt(l.lagMs?.p99)}) / ${l.dropped}` : '–',
        l ? errorText(l.errors) : '–',
      ];
    }),
  );
}

const errorText = (errors: Record<string, number>) =>
  Object.entries(errors)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ') || '0';

/**
 * Less what the server spends anyway over that time (its idle rate, measured
 * alone): the request's own cost, noisier than the gross figure.
 */
function netCpuPerRequest(w: LoadResult, idle: MomentRow['idle']): number {
  if (!idle) return Number.NaN;
  return (w.serverCpuSeconds * 1e6 - idle.serverCpuUsPerSecond * w.load.seconds) / Math.max(1, w.load.served);
}

function costTable(rows: MomentRow[]): string {
  const cpu = (w: LoadResult | undefined, idle: MomentRow['idle']) =>
    w
      ? `${fmt(w.serverCpuUsPerRequest)} (${fmt(netCpuPerRequest(w, idle))})${w.redisCpuUsPerRequest === null ? '' : ` + ${fmt(w.redisCpuUsPerRequest)}`}`
      : '–';
  return table(
    'Cost alone (no alerts): page-only and feed-only windows, and `reset` snapshots; server CPU µs per request (net of idle) + Redis',
    ['target', 'store', 'page p50 / p99 (ms)', 'CPU µs / page', 'feed p50 / p99 (ms)', 'CPU µs / feed', 'snapshot p50 / p99 (ms)', 'CPU µs / snapshot', 'snapshot KB', 'idle server CPU (ms/s)', 'seed event bytes'],
    rows.map((r) => [
      r.target,
      storeLabel(r),
      pair(r.pages?.load.all.pages),
      cpu(r.pages, r.idle),
      pair(r.feeds?.load.all.feeds),
      cpu(r.feeds, r.idle),
      pair(r.snapshot?.latencyMs),
      r.snapshot
        ? `${fmt(r.snapshot.serverCpuUsPerSnapshot)}${r.snapshot.redisCpuUsPerSnapshot === null ? '' : ` + ${fmt(r.snapshot.redisCpuUsPerSnapshot)}`}`
        : '–',
      fmt(r.snapshot ? r.snapshot.resetBytes / 1024 : undefined),
      fmt(r.idle ? r.idle.serverCpuUsPerSecond / 1000 : undefined, 2),
      fmt(r.eventBytes?.seedStory.payloadBytes),
    ]),
  );
}

/** Every goal, per target, from the rows of that target in this run. */
export function goals(rows: MomentRow[]): Goal[] {
  const out: Goal[] = [];
  const targets = [...new Set(rows.map((r) => r.target))];
  for (const target of targets) {
    const empty = rows.find((r) => r.target === target && r.store === 'empty' && !r.error);
    const full = rows.find((r) => r.target === target && r.store === 'stories' && !r.error);
    for (const r of [empty, full]) {
      if (!r?.quiet || !r.rush?.during) continue;
      for (const q of ['p50', 'p99'] as const) {
        const a = r.rush.during.latencyMs[q];
        const b = r.quiet.latencyMs[q];
        out.push(goal(target, `alert ${q} with rush ÷ without (${storeLabel(r)})`, a / b, GOALS.rush, `${fmt(a)} vs ${fmt(b)} ms`));
      }
    }
    if (empty && full) out.push(...growth(target, empty, full));
    const bytes = (full ?? empty)?.eventBytes?.seedStory.payloadBytes;
    if (bytes !== undefined) {
      out.push({ target, goal: 'bytes per delivered seed-story event ≤ 1.5 KB', value: bytes, limit: GOALS.eventBytes, detail: `${fmt(bytes)} bytes`, met: bytes <= GOALS.eventBytes });
    }
  }
  return out;
}

function goal(target: string, name: string, ratio: number, limit: number, detail: string): Goal {
  return { target, goal: name, value: Number(ratio.toFixed(3)), limit, detail, met: Number.isFinite(ratio) && ratio <= limit };
}

/** 20k stories ÷ empty store, for every figure of the cost windows. */
function growth(target: string, empty: MomentRow, full: MomentRow): Goal[] {
  const label = `${full.stories.toLocaleString('en')} stories ÷ empty`;
  const figures: [string, (r: MomentRow) => number | undefined, string][] = [
    ['front page p50', (r) => r.pages?.load.kinds.front.p50, 'ms'],
    ['topic page p50', (r) => r.pages?.load.kinds.topic.p50, 'ms'],
    ['story page p50', (r) => r.pages?.load.kinds.story.p50, 'ms'],
    ['CPU per page', (r) => cpuPer(r.pages), 'µs'],
    ['feed 200 p50', (r) => r.feeds?.load.kinds.feed200.p50, 'ms'],
    ['feed 304 p50', (r) => r.feeds?.load.kinds.feed304.p50, 'ms'],
    ['CPU per feed request', (r) => cpuPer(r.feeds), 'µs'],
    ['snapshot p50', (r) => r.snapshot?.latencyMs.p50, 'ms'],
    ['CPU per snapshot', (r) => (r.snapshot ? r.snapshot.serverCpuUsPerSnapshot + (r.snapshot.redisCpuUsPerSnapshot ?? 0) : undefined), 'µs'],
  ];
  return figures.map(([name, of, unit]) => {
    const a = of(full);
    const b = of(empty);
    return goal(target, `${name}: ${label}`, times(a, b), GOALS.growth, `${fmt(a)} vs ${fmt(b)} ${unit}`);
  });
}

/** Server and Redis CPU together: with Redis, a read's cost is partly Redis's. */
const cpuPer = (w: LoadResult | undefined) => (w ? w.serverCpuUsPerRequest + (w.redisCpuUsPerRequest ?? 0) : undefined);

function goalsTable(list: Goal[]): string {
  return table(
    'Goals (ratios within this run)',
    ['target', 'goal', 'measured', 'ratio', 'limit', ''],
    list.map((g) => [
      g.target,
      g.goal,
      g.detail,
      g.limit === GOALS.eventBytes ? '–' : `${fmt(g.value, 2)}×`,
      g.limit === GOALS.eventBytes ? `${g.limit} bytes` : `${g.limit}×`,
      g.met ? '**met**' : '**not met**',
    ]),
  );
}

export function momentTables(rows: MomentRow[], list: Goal[]): string {
  const ok = rows.filter((r) => !r.error);
  const notes = [
    ...rows.filter((r) => r.error).map((r) => `- ${r.target} (${storeLabel(r)}) failed: ${r.error}`),
    ...[...new Set(rows.flatMap((r) => r.rejectedEnv ?? []))].map((why) => `- the server refused ${why}; it ran with the harness's default for it`),
  ];
  return [alertsTable(ok), rushTable(ok), costTable(ok), goalsTable(list), ...notes].join('\n\n');
}
