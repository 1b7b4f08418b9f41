// Turns bench/results/*.json into the tables and charts of docs/benchmarks.md
// (between its "results" markers). Figures are medians over rounds; every
// ratio compares targets measured in the same run.
//
//   node node_modules/tsx/dist/cli.mjs bench/report.ts
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChart, lineChart } from './chart.ts';
import { ROOT } from './lib/spawn.ts';
import { median } from './lib/stats.ts';

const RESULTS = join(ROOT, 'bench/results');
const DOC = join(ROOT, 'docs/benchmarks.md');
const IMG = join(ROOT, 'docs/img');

type Row = Record<string, any>;

function load(name: string, dir = RESULTS): Row | null {
  const file = join(dir, name);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}


const fmt = (value: number, digits = 2) =>
  Number.isFinite(value) ? (Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en') : String(Number(value.toFixed(digits)))) : '–';
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b ? `${(a / b).toFixed(2)}×` : '–');

/** Results of one file grouped by target, in first-seen order. */
function byTarget(report: Row): Map<string, Row[]> {
  const map = new Map<string, Row[]>();
  for (const r of report.results as Row[]) {
    if (r.error) continue;
    // A peer run in several processes is another target than the same peer in one.
    const split = (r.processes as number) > 1 && !(r.target as string).endsWith('-redis');
    const key = split ? `${r.target}:${r.processes}` : (r.target as string);
    map.set(key, [...(map.get(key) ?? []), r]);
  }
  return map;
}

/** A peer's rows: in one process if it ran so, else in however many it ran. */
const peer = (groups: Map<string, Row[]>, name: string): Row[] =>
  groups.get(name) ?? [...groups].find(([key]) => key.startsWith(`${name}:`))?.[1] ?? [];

const pick = (rows: Row[], path: (r: Row) => number | undefined) => median(rows.map((r) => path(r) ?? Number.NaN));

const LABEL: Record<string, string> = {
  ours: 'ours (embedded)',
  'ours-redis': 'ours + Redis',
  'raw-frame': 'raw ws, frame once',
  'raw-send': 'raw ws, send loop',
  socketio: 'Socket.IO',
  'socketio-redis': 'Socket.IO + Redis adapter',
};
const label = (target: string, rows: Row[]) => {
  const procs = rows[0]?.processes as number;
  const name = target.split(':')[0] as string;
  return `${LABEL[name] ?? name}${procs > 1 ? ` (${procs} procs)` : ''}`;
};

function fanoutTable(report: Row, title: string): { md: string; cpu: Map<string, number>; p99: Map<string, number> } {
  const groups = byTarget(report);
  const base = pick(peer(groups, 'raw-frame'), (r) => r.fanout?.cpuUsPerDelivery);
  const cpu = new Map<string, number>();
  const p99 = new Map<string, number>();
  const lines = [
    `**${title}** — ${report.params.subscribers.toLocaleString('en')} subscribers, ${report.params.clients} client processes, ${report.params.events} events one after another, ${groups.get('ours')?.length ?? 1} round(s); ${report.date.slice(0, 16)}Z`,
    '',
    '| target | server CPU µs / delivery | × frame-once | client CPU µs / delivery | deliveries/s | latency p50 | p95 | p99 | max (ms) | first delivery p50 (ms) | publish API p50 / p99 (ms) | RSS / idle conn |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [target, rows] of groups) {
    const c = pick(rows, (r) => r.fanout?.cpuUsPerDelivery);
    cpu.set(target, c);
    p99.set(target, pick(rows, (r) => r.fanout?.latencyMs.p99));
    const lost = rows.reduce((n, r) => n + (r.fanout?.lost ?? 0), 0);
    lines.push(
      `| ${label(target, rows)} | ${fmt(c)} | ${ratio(c, base)} | ${fmt(pick(rows, (r) => r.fanout?.clientCpuUsPerDelivery))} | ${fmt(pick(rows, (r) => r.fanout?.deliveriesPerSec))} | ` +
        `${fmt(pick(rows, (r) => r.fanout?.latencyMs.p50), 1)} | ${fmt(pick(rows, (r) => r.fanout?.latencyMs.p95), 1)} | ` +
        `${fmt(pick(rows, (r) => r.fanout?.latencyMs.p99), 1)} | ${fmt(pick(rows, (r) => r.fanout?.latencyMs.max), 1)} | ` +
        `${fmt(pick(rows, (r) => r.fanout?.firstDeliveryMs?.p50), 1)} | ` +
        `${fmt(pick(rows, (r) => r.publish?.publishMs.p50), 1)} / ${fmt(pick(rows, (r) => r.publish?.publishMs.p99), 1)} | ` +
        `${fmt(pick(rows, (r) => r.memory?.[0]?.perConnectionKB), 1)} KB${lost ? ` (**${lost} lost**)` : ''} |`,
    );
  }
  return { md: lines.join('\n'), cpu, p99 };
}

function sustainedTable(report: Row): { md: string; max: Map<string, number>; chart: string } {
  const groups = byTarget(report);
  const rates = [...new Set((report.results as Row[]).flatMap((r) => (r.sustained ?? []).map((s: Row) => s.rate as number)))].sort(
    (a, b) => a - b,
  );
  const max = new Map<string, number>();
  const lines = [
    `**Sustained events to ${report.params.subscribers.toLocaleString('en')} subscribers** — each rate for ${report.params.seconds} s, rates in turn until one fails; a cell is p99 latency (ms) of each round, then what was lost; ✗ = p99 ≥ 1 s or loss. The highest rate is the median over rounds (each round in brackets). ${report.date.slice(0, 16)}Z`,
    '',
    `| target | highest rate with p99 < 1 s, nothing lost | ${rates.map((r) => `${r}/s`).join(' | ')} |`,
    `| --- | ---: | ${rates.map(() => '---:').join(' | ')} |`,
  ];
  const series = [];
  for (const [target, rows] of groups) {
    const best = median(rows.map((r) => r.maxSustainedRate as number));
    max.set(target, best);
    // One value per round: the rounds ran minutes apart on a shared machine.
    const cells = rates.map((rate) => {
      const runs = rows.map((r) => (r.sustained as Row[] | undefined)?.find((s) => s.rate === rate));
      if (!runs.some(Boolean)) return '–';
      return runs
        .map((s) => (s ? `${fmt(s.latencyMs.p99, 0)}${s.lost ? ` (${fmt(s.lost, 0)} lost)` : ''}${s.ok ? '' : ' ✗'}` : '–'))
        .join(' / ');
    });
    const perRound = rows.map((r) => fmt(r.maxSustainedRate as number, 1)).join(' / ');
    lines.push(`| ${label(target, rows)} | **${fmt(best, 1)}/s** (${perRound}) | ${cells.join(' | ')} |`);
    series.push({
      label: LABEL[target] ?? target,
      ours: target.startsWith('ours'),
      points: rates.flatMap((rate) => {
        const runs = rows.map((r) => (r.sustained as Row[] | undefined)?.find((s) => s.rate === rate)).filter(Boolean) as Row[];
        return runs.length ? [{ x: rate, y: Math.max(...runs.map((s) => s.latencyMs.p99)) }] : [];
      }),
    });
  }
  const chart = lineChart(
    `p99 latency at sustained rates, ${report.params.subscribers.toLocaleString('en')} subscribers (worst round)`,
    'events per second',
    'p99 ms (log)',
    series,
  );
  return { md: lines.join('\n'), max, chart };
}

function memoryTable(report: Row, title: string): { md: string; perConn: Map<string, Map<number, number>> } {
  const groups = byTarget(report);
  const perConn = new Map<string, Map<number, number>>();
  const lines = [
    `**${title}** — RSS of the server process(es) idle before connecting and ${report.params.quick ? 'at once' : '5 s after'} the last connection; ${report.date.slice(0, 16)}Z`,
    '',
    '| target | connections | idle RSS | connected RSS | per connection | × raw ws | × Socket.IO |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const at = (target: string, i: number) => pick(peer(groups, target), (r) => r.memory?.[i]?.perConnectionKB);
  for (const [target, rows] of groups) {
    const steps = (rows[0]?.memory as Row[]) ?? [];
    const m = new Map<number, number>();
    steps.forEach((step, i) => {
      const kb = at(target, i);
      m.set(step.connections, kb);
      const sio = at(report.results.some((r: Row) => r.target === 'socketio-redis') ? 'socketio-redis' : 'socketio', i);
      lines.push(
        `| ${label(target, rows)} | ${step.connections.toLocaleString('en')} | ${fmt(pick(rows, (r) => r.memory?.[i]?.idleRssKB) / 1024, 1)} MB | ` +
          `${fmt(pick(rows, (r) => r.memory?.[i]?.connectedRssKB) / 1024, 1)} MB | ${fmt(kb, 2)} KB | ${ratio(kb, at('raw-frame', i))} | ${ratio(kb, sio)} |`,
      );
    });
    perConn.set(target, m);
  }
  return { md: lines.join('\n'), perConn };
}

function stormTable(report: Row): { md: string; worst: number | null; lost: number } {
  const rows = (report.results as Row[]).filter((r) => r.storm);
  const lines = [
    `**Reconnect storm** — ${report.params.subscribers.toLocaleString('en')} subscribers drop, ${report.params.behind} events are published, all reconnect at once with their cursor; ${report.date.slice(0, 16)}Z`,
    '',
    '| round | all connected (ms) | all caught up (ms) | resumed | delivered / expected | lost | duplicates | server CPU (s) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  let worst: number | null = 0;
  let lost = 0;
  for (const r of rows) {
    for (const [i, s] of (r.storm as Row[]).entries()) {
      if (s.doneMs === null) worst = null;
      else if (worst !== null) worst = Math.max(worst, s.doneMs);
      lost += s.lost;
      lines.push(
        `| ${i + 1} | ${fmt(s.connectMs)} | ${s.doneMs === null ? 'timed out' : fmt(s.doneMs)} | ${fmt(s.resumed)} | ${fmt(s.received)} / ${fmt(s.expected)} | ${s.lost} | ${s.dups} | ${s.serverCpuSeconds} |`,
      );
    }
  }
  return { md: lines.join('\n'), worst, lost };
}

function feedsTable(report: Row): { md: string; ratios: Record<string, number> } {
  const rows = (report.results as Row[]).filter((r) => r.kind);
  const extra = (report.results as Row[]).find((r) => r.bodyBytes);
  const lines = [
    `**Feeds** — autocannon, ${report.params.connections} connections, ${report.params.seconds} s per run, ${report.params.rounds} rounds interleaved, \`GET ${report.params.path}\` (${extra?.bodyBytes} bytes); ${report.date.slice(0, 16)}Z`,
    '',
    '| response | ours req/s | node:http req/s | ours ÷ node:http | ours p99 (ms) | node:http p99 (ms) | ours CPU µs / req | node:http CPU µs / req |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const ratios: Record<string, number> = {};
  for (const kind of ['200', '304']) {
    const get = (server: string, f: (r: Row) => number) => median(rows.filter((r) => r.kind === kind && r.server === server).map(f));
    const ours = get('ours', (r) => r.requestsPerSec);
    const raw = get('node-http', (r) => r.requestsPerSec);
    ratios[kind] = ours / raw;
    lines.push(
      `| ${kind === '200' ? '200 (cached body)' : '304 (If-None-Match)'} | ${fmt(ours)} | ${fmt(raw)} | ${ratio(ours, raw)} | ` +
        `${get('ours', (r) => r.latencyMs.p99)} | ${get('node-http', (r) => r.latencyMs.p99)} | ${fmt(get('ours', (r) => r.cpuUsPerRequest))} | ${fmt(get('node-http', (r) => r.cpuUsPerRequest))} |`,
    );
  }
  return { md: lines.join('\n'), ratios };
}

// ---------------------------------------------------------------------------

interface Goal {
  goal: string;
  measured: string;
  ok: boolean;
}

/** Tables, charts (when `charts`) and goals of one results folder. */
function analyse(dir: string, charts: boolean): { sections: string[]; goals: Goal[] } {
  const sections: string[] = [];
  const goals: Goal[] = [];
  const writeChart = (name: string, svg: string) => {
    if (charts) writeFileSync(join(IMG, name), svg);
  };
  const goal = (name: string, measured: string, ok: boolean) => goals.push({ goal: name, measured, ok });

  const f10 = load('fanout-10k.json', dir);
  if (f10) {
    const t = fanoutTable(f10, 'Fan-out of single events to 10,000 subscribers');
    sections.push('### Fan-out, 10k subscribers\n', t.md, '', '![CPU per delivery](img/bench-cpu-10k.svg)', '');
    writeChart(
      'bench-cpu-10k.svg',
      barChart(
        'Server CPU per delivery, single events to 10k subscribers (lower is better)',
        'µs',
        [...t.cpu].map(([target, value]) => ({ label: LABEL[target] ?? target, value: Number(value.toFixed(2)), ours: target.startsWith('ours') })),
      ),
    );
    const ours = t.cpu.get('ours') as number;
    const frame = t.cpu.get('raw-frame') as number;
    goal('single events: server CPU per delivery ≤ 1.1× frame-once', `${fmt(ours)} vs ${fmt(frame)} µs = ${ratio(ours, frame)}`, ours / frame <= 1.1);
    const redis = t.cpu.get('ours-redis');
    if (redis !== undefined) {
      const added = (t.p99.get('ours-redis') as number) - (t.p99.get('ours') as number);
      goal('two processes with Redis: CPU per delivery ≤ 1.1× embedded', `${fmt(redis)} vs ${fmt(ours)} µs = ${ratio(redis, ours)}`, redis / ours <= 1.1);
      goal(
        'two processes with Redis: ≤ 5 ms added p99',
        `p99 ${fmt(t.p99.get('ours-redis') as number, 1)} vs ${fmt(t.p99.get('ours') as number, 1)} ms (${added >= 0 ? '+' : ''}${fmt(added, 1)} ms)`,
        added <= 5,
      );
    }
  }
  const control = load('two-process-control.json', dir);
  if (control) {
    const t = fanoutTable(control, 'Two processes, control run: the same fan-out, one process against two for both our server and the frame-once baseline');
    sections.push(
      '### One process or two\n',
      'Two server processes on a two-core machine that also runs the clients cost more CPU per delivery even with no Redis work at all: the frame-once baseline in two processes (relaying through Redis pub/sub) shows how much of the difference is the machine and how much is ours.',
      '',
      t.md,
      '',
    );
    const ours = t.cpu.get('ours') as number;
    const redis = t.cpu.get('ours-redis') as number;
    const added = (t.p99.get('ours-redis') as number) - (t.p99.get('ours') as number);
    goal('two processes with Redis, control run: CPU per delivery ≤ 1.1× embedded', `${fmt(redis)} vs ${fmt(ours)} µs = ${ratio(redis, ours)}`, redis / ours <= 1.1);
    goal(
      'two processes with Redis, control run: ≤ 5 ms added p99',
      `p99 ${fmt(t.p99.get('ours-redis') as number, 1)} vs ${fmt(t.p99.get('ours') as number, 1)} ms (${added >= 0 ? '+' : ''}${fmt(added, 1)} ms)`,
      added <= 5,
    );
  }

  const f50 = load('fanout-50k.json', dir);
  if (f50) sections.push('### Fan-out, 50k subscribers over several processes\n', fanoutTable(f50, 'Fan-out of single events to 50,000 subscribers').md, '');

  const sus = load('sustained-10k.json', dir);
  if (sus) {
    const t = sustainedTable(sus);
    writeChart('bench-sustained-10k.svg', t.chart);
    sections.push('### Sustained rate, 10k subscribers\n', t.md, '', '![p99 at sustained rates](img/bench-sustained-10k.svg)', '');
    const ours = t.max.get('ours') as number;
    const sio = t.max.get('socketio') as number;
    goal('sustained: highest rate to 10k (p99 < 1 s, nothing lost) ≥ 2× Socket.IO', `${fmt(ours, 1)}/s vs ${fmt(sio, 1)}/s = ${ratio(ours, sio)}`, ours >= 2 * sio);
  }

  const mem = load('memory.json', dir);
  if (mem) {
    const t = memoryTable(mem, 'Idle connections, one process');
    sections.push('### Memory per idle connection\n', t.md, '');
    const kb = t.perConn.get('ours');
    const raw = t.perConn.get('raw-frame');
    const sio = t.perConn.get('socketio');
    const at = [...(kb?.keys() ?? [])].sort((a, b) => a - b)[0] as number;
    if (kb && raw && sio) {
      const o = kb.get(at) as number;
      const r = raw.get(at) as number;
      const x = sio.get(at) as number;
      goal(`memory: ≤ 1.1× raw ws RSS per idle connection at ${at.toLocaleString('en')}`, `${fmt(o)} vs ${fmt(r)} KB = ${ratio(o, r)}`, o / r <= 1.1);
      goal(`memory: ≤ ½ Socket.IO per idle connection at ${at.toLocaleString('en')}`, `${fmt(o)} vs ${fmt(x)} KB = ${ratio(o, x)}`, o / x <= 0.5);
      writeChart(
        'bench-memory.svg',
        barChart(
          `RSS per idle connection at ${at.toLocaleString('en')} connections (lower is better)`,
          'KB',
          [...t.perConn].map(([target, m]) => ({ label: LABEL[target] ?? target, value: Number((m.get(at) ?? 0).toFixed(2)), ours: target.startsWith('ours') })),
        ),
      );
      sections.push('![memory per connection](img/bench-memory.svg)', '');
    }
  }
  if (f50) sections.push(memoryTable(f50, 'Idle connections, 50k over several processes').md, '');

  const storm = load('storm.json', dir);
  if (storm) {
    const t = stormTable(storm);
    sections.push('### Reconnect storm\n', t.md, '');
    goal(
      'reconnect storm: 10k clients 100 events behind, done < 5 s, nothing lost',
      `worst of rounds ${t.worst === null ? 'timed out' : `${fmt(t.worst)} ms`}, ${t.lost} lost`,
      t.worst !== null && t.worst < 5_000 && t.lost === 0,
    );
  }

  const feeds = load('feeds.json', dir);
  if (feeds) {
    const t = feedsTable(feeds);
    sections.push('### Feeds\n', t.md, '');
    goal('feeds: cached 200 ≥ 0.8× node:http', `${ratio(t.ratios['200'] as number, 1)} of node:http`, (t.ratios['200'] as number) >= 0.8);
    goal('feeds: 304 ≥ 0.8× node:http', `${ratio(t.ratios['304'] as number, 1)} of node:http`, (t.ratios['304'] as number) >= 0.8);
  }

  const moment = load('moment.json', dir);
  if (moment) {
    const t = momentTable(moment, load('moment-before.json', dir));
    sections.push('### The breaking-news moment\n', t.md, '', '![alert latency at 20,000 stories](img/bench-moment.svg)', '');
    writeChart('bench-moment.svg', t.chart);
  }

  return { sections, goals };
}

/** Goals of the breaking-news moment, before and after, and alert p99 at 20k stories as a chart. */
function momentTable(after: Row, before: Row | null): { md: string; chart: string } {
  const key = (g: Row) => `${g.target}|${g.goal}`;
  const old = new Map(((before?.goals ?? []) as Row[]).map((g) => [key(g), g]));
  const lines = [
    `${fmt(Number(after.params?.subscribers))} subscribers per target, ${fmt(Number(after.params?.stories))} stories against an empty store; "before" is ${before?.tree ?? 'not measured'}, "after" ${after.tree ?? 'this tree'}. Command: \`${after.command}\`.`,
    '',
    '| target | goal | before | after | |',
    '| --- | --- | --- | --- | --- |',
    ...(after.goals as Row[]).map((g) => {
      const b = old.get(key(g));
      const measured = (x: Row) => `${x.detail ?? x.value}${String(x.goal).includes('÷') ? ` (${fmt(Number(x.value))}×)` : ''}`;
      return `| ${g.target} | ${g.goal} | ${b ? measured(b) : '–'} | ${measured(g)} | ${g.met ? '**met**' : '**not met**'} |`;
    }),
  ];
  const bars: { label: string; value: number; ours?: boolean }[] = [];
  for (const [label, report] of [['before', before], ['after', after]] as const) {
    for (const r of (report?.results ?? []) as Row[]) {
      if (r.store !== 'stories') continue;
      bars.push({ label: `${label}, ${r.target}, quiet`, value: Math.round(r.quiet?.latencyMs?.p99 ?? 0), ours: label === 'after' });
      bars.push({ label: `${label}, ${r.target}, rush`, value: Math.round(r.rush?.during?.latencyMs?.p99 ?? 0), ours: label === 'after' });
    }
  }
  return { md: lines.join('\n'), chart: barChart('Flash alert to 10,000 sockets, p99, 20,000 stories', 'ms', bars) };
}

mkdirSync(IMG, { recursive: true });
const now = analyse(RESULTS, true);
const before = existsSync(join(RESULTS, 'baseline')) ? analyse(join(RESULTS, 'baseline'), false) : null;
const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
const goalRows = now.goals.map((g) => {
  const old = before?.goals.find((b) => b.goal === g.goal);
  return `| ${g.goal} | ${old ? old.measured : '–'} | ${g.measured} | ${met(g.ok)} |`;
});
const sections = now.sections;

const generated = [
  '<!-- results:start (written by bench/report.ts from bench/results/*.json; do not edit by hand) -->',
  '',
  '### Goals\n',
  'Each ratio compares targets measured in the same run. "Before" is the server as it was when the harness was',
  'written (`bench/results/baseline/`), "after" the current one (`bench/results/`).',
  '',
  '| goal | before | after | |',
  '| --- | --- | --- | --- |',
  ...goalRows,
  '',
  ...sections,
  '<!-- results:end -->',
].join('\n');

const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n';
const updated = doc.replace(/<!-- results:start[\s\S]*?<!-- results:end -->/, generated);
writeFileSync(DOC, updated);
console.log(generated);
