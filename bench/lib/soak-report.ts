// What a soak concludes: the verdict (which checks failed) and the summary
// printed at the end, one screen long.
import type { DeliveryCheck, Log, StateCheck, WritesCheck } from './soak-check.ts';
import type { Life } from './soak-lives.ts';
import type { FaultRecord } from './soak-faults.ts';
import type { Latency } from './stats.ts';

export interface SoakOutcome {
  options: { minutes: number; servers: number; subscribers: number; rate: number; burst: number; seed: number };
  seconds: number;
  faults: FaultRecord[];
  writes: WritesCheck & { ackMs: Latency; statuses: Record<string, number> };
  log: Omit<Log, 'events' | 'bySeq'> & { events: number };
  delivery: DeliveryCheck;
  settle: { ms: number; complete: boolean; behind: number };
  subscribers: {
    welcomes: number;
    closeCodes: Record<string, number>;
    connectFailures: Record<string, number>;
    errorFrames: Record<string, number>;
    notResumed: number;
    pingTimeouts: number;
    downtimeMs: Latency;
  };
  state: StateCheck;
  processes: Life[];
  unexpectedExits: string[];
  harnessRssMaxKB: number;
}

/** Every reason the run failed; empty means it passed. */
export function verdict(o: SoakOutcome): string[] {
  const d = o.delivery;
  const w = o.writes;
  const checks: [boolean, string][] = [
    [w.lost > 0, `${w.lost} acknowledged writes are not in the log`],
    [w.duplicatesInLog > 0, `${w.duplicatesInLog} writes are in the log more than once`],
    [w.cursorMismatches > 0, `${w.cursorMismatches} acknowledgements carry a cursor the log disagrees with`],
    [w.rejected > 0, `${w.rejected} writes were refused (4xx) on a retry with the same content`],
    [w.savedDespite503 > 0, `${w.savedDespite503} writes answered 503 "nothing was saved" had been saved`],
    [o.log.holes > 0 || o.log.badEntries > 0, `the log has ${o.log.holes} holes and ${o.log.badEntries} bad entries`],
    [d.missing > 0, `${d.missing} events never reached a subscriber that follows their topics`],
    [d.duplicates > 0, `${d.duplicates} events were delivered twice to one subscriber`],
    [d.orderViolations > 0, `${d.orderViolations} events arrived out of seq order`],
    [d.resets > 0, `${d.resets} reset frames (epoch changes)`],
    [d.stray + d.phantom + d.idMismatches + d.foreignEpoch > 0, 'events outside the subscriber\'s topics, not in the log, or with the wrong id or epoch'],
    [o.state.mismatches > 0, `${o.state.mismatches} items whose GET disagrees with their last acknowledged write`],
    [!o.settle.complete, `${o.settle.behind} subscribers had not caught up with the log when the settle period ended`],
    [o.unexpectedExits.length > 0, `processes died by themselves: ${o.unexpectedExits.join('; ')}`],
    [o.faults.some((f) => f.error), 'a fault did not recover'],
  ];
  return checks.filter(([failed]) => failed).map(([, reason]) => reason);
}

const n = (value: number) => value.toLocaleString('en-US');
const mb = (kb: number | undefined) => (kb === undefined ? '-' : `${(kb / 1024).toFixed(0)}`);
const counts = (map: Record<string, number>) =>
  Object.entries(map)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}:${n(v)}`)
    .join(' ') || 'none';

export function summary(o: SoakOutcome, failures: string[]): string {
  const { options: opt, writes: w, delivery: d, subscribers: s } = o;
  const byKind: Record<string, number> = {};
  for (const f of o.faults) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const lines = [
    '',
    `SOAK  ${opt.servers} servers, ${opt.subscribers} subscribers, ${opt.rate}/s + bursts of ${opt.burst}, ${opt.minutes} min (ran ${o.seconds.toFixed(0)} s), seed ${opt.seed}`,
    `faults     ${o.faults.length}: ${counts(byKind)}${o.faults.some((f) => f.error) ? `  FAILED: ${o.faults.filter((f) => f.error).length}` : ''}`,
    `writes     ${n(w.total)} sent, acknowledged ${counts(w.acked)}, retried ${n(w.retried)}, abandoned ${w.abandoned}, refused ${w.rejected}`,
    `           attempts ${counts(w.statuses)}; ack p50 ${w.ackMs.p50} ms, p99 ${w.ackMs.p99} ms, max ${w.ackMs.max} ms`,
    `log        epoch ${o.log.epoch}, head ${n(o.log.head)}, ${n(o.log.events)} events, holes ${o.log.holes}`,
    `loss       ${w.lost} acknowledged writes missing from the log; cursor mismatches ${w.cursorMismatches}`,
    `duplicates ${w.duplicatesInLog} in the log, ${d.duplicates} delivered`,
    `delivery   ${n(d.received)} events received of ${n(d.expected)} expected; missing ${d.missing}, out of order ${d.orderViolations}, stray ${d.stray}, phantom ${d.phantom}, wrong id ${d.idMismatches}`,
    `resets     ${d.resets} (welcomes not resumed: ${s.notResumed}, foreign epoch events: ${d.foreignEpoch})`,
    `settle     ${o.settle.complete ? 'caught up' : `${o.settle.behind} behind`} after ${o.settle.ms} ms; item state ${o.state.checked - o.state.mismatches}/${o.state.checked} agree`,
    `info       saved after a 503 that said it might be: ${w.savedAfterUnknown}; after one that said nothing was saved: ${w.savedDespite503}; in log but unacknowledged: ${w.inLogUnacknowledged}`,
    `reconnects ${n(s.welcomes - opt.subscribers)}; closes ${counts(s.closeCodes)}; refused ${counts(s.connectFailures)}`,
    `           offline p50 ${s.downtimeMs.p50} ms, p99 ${s.downtimeMs.p99} ms, max ${s.downtimeMs.max} ms; error frames ${counts(s.errorFrames)}; ping timeouts ${s.pingTimeouts}`,
    'process      life  pid      secs        RSS MB first/last/max   fds first/last/max   clients max  end',
  ];
  for (const life of o.processes) {
    const secs = `${life.startedAt}-${life.endedAt ?? o.seconds.toFixed(0)}`;
    const rss = life.rssKB ? `${mb(life.rssKB.first)}/${mb(life.rssKB.last)}/${mb(life.rssKB.max)}` : '-';
    const fds = life.fds ? `${life.fds.first}/${life.fds.last}/${life.fds.max}` : '-';
    const logged = life.log && life.log.warn + life.log.error + life.log.fatal + life.log.other > 0 ? `  log w${life.log.warn} e${life.log.error} f${life.log.fatal} o${life.log.other}` : '';
    lines.push(
      `  ${life.process.padEnd(10)} ${String(life.life).padStart(4)}  ${String(life.pid).padEnd(8)} ${secs.padEnd(11)} ${rss.padEnd(24)} ${fds.padEnd(20)} ${String(life.clients?.max ?? '-').padEnd(12)} ${life.end}${logged}`,
    );
  }
  lines.push(`harness RSS max ${mb(o.harnessRssMaxKB)} MB`);
  const examples = [...w.examples, ...d.examples, ...o.state.examples].slice(0, 6);
  for (const e of examples) lines.push(`  e.g. ${e}`);
  lines.push(failures.length === 0 ? 'RESULT     PASS' : `RESULT     FAIL: ${failures.join('; ')}`, '');
  return lines.join('\n');
}
