// One process's lives: each start of a server or of Redis is a life, with
// its pid, how it ended, its memory and open files sampled from /proc, and a
// count of what it logged. Growth shows as a life's last sample against its
// first; a death nobody caused shows too.
import { readFileSync } from 'node:fs';
import { openFiles, rssKB } from './proc.ts';
import type { Started } from './spawn.ts';
import { sleep } from './stats.ts';

export interface Range {
  first: number;
  last: number;
  min: number;
  max: number;
}

export interface LogSummary {
  warn: number;
  error: number;
  fatal: number;
  /** Lines that are not JSON (a crash's stack trace, say). */
  other: number;
  /** How often each warn/error/fatal message appeared. */
  messages: Record<string, number>;
  /** The first few non-JSON lines, as they were. */
  otherLines: string[];
}

export interface Life {
  process: string;
  /** 1 for the first start, 2 after the first restart, … */
  life: number;
  pid: number;
  /** Seconds since the soak started. */
  startedAt: number;
  endedAt: number | null;
  /** How it ended: running, sigkill, sigterm, sigterm-overran (killed after its drain took too long). */
  end: string;
  samples: number;
  rssKB: Range | null;
  fds: Range | null;
  /** Soak subscribers connected to it when sampled (servers only). */
  clients: Range | null;
  log?: LogSummary;
}

const range = (value: number): Range => ({ first: value, last: value, min: value, max: value });
function extend(r: Range | null, value: number): Range {
  if (!r) return range(value);
  r.last = value;
  r.min = Math.min(r.min, value);
  r.max = Math.max(r.max, value);
  return r;
}

/** True once the process is gone (or a zombie nobody reaped yet). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** Waits until `pid` has exited; false if it is still there after `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!gone(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Counts warn/error/fatal lines of a pino log (LOG_LEVEL=warn keeps it short). */
export function summariseLog(output: string): LogSummary {
  const out: LogSummary = { warn: 0, error: 0, fatal: 0, other: 0, messages: {}, otherLines: [] };
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    let entry: { level?: number; msg?: string; err?: { message?: string } } | null = null;
    try {
      entry = line.startsWith('{') ? JSON.parse(line) : null;
    } catch {
      entry = null;
    }
    if (!entry || typeof entry.level !== 'number') {
      out.other++;
      if (out.otherLines.length < 5) out.otherLines.push(line.slice(0, 300));
      continue;
    }
    const level = entry.level >= 60 ? 'fatal' : entry.level >= 50 ? 'error' : entry.level >= 40 ? 'warn' : null;
    if (!level) continue;
    out[level]++;
    const key = `${level}: ${entry.msg ?? ''}${entry.err?.message ? ` (${entry.err.message.slice(0, 120)})` : ''}`;
    out.messages[key] = (out.messages[key] ?? 0) + 1;
  }
  return out;
}

/** Something whose lives are sampled: a server process or redis-server. */
export abstract class Lives {
  readonly lives: Life[] = [];
  protected current: Started | null = null;
  /** Servers log pino JSON lines worth counting; Redis's own log is not summarised. */
  protected readonly jsonLog: boolean = true;

  constructor(
    readonly name: string,
    protected readonly elapsed: () => number,
  ) {}

  /** The process doing the work (the server's node, not its tsx launcher). */
  get pid(): number | null {
    return this.current?.workerPid ?? null;
  }

  protected born(started: Started): void {
    this.current = started;
    this.lives.push({
      process: this.name,
      life: this.lives.length + 1,
      pid: started.workerPid,
      startedAt: this.elapsed(),
      endedAt: null,
      end: 'running',
      samples: 0,
      rssKB: null,
      fds: null,
      clients: null,
    });
  }

  protected died(how: string): void {
    const life = this.lives.at(-1);
    if (life && life.endedAt === null) {
      life.endedAt = this.elapsed();
      life.end = how;
      if (this.current && this.jsonLog) life.log = summariseLog(this.current.output());
    }
    this.current = null;
  }

  sample(clients?: number): void {
    const life = this.lives.at(-1);
    if (!life || life.endedAt !== null) return;
    const rss = rssKB(life.pid);
    if (rss === 0) return; // between death and our noticing it
    life.samples++;
    life.rssKB = extend(life.rssKB, rss);
    life.fds = extend(life.fds, openFiles(life.pid));
    if (clients !== undefined) life.clients = extend(life.clients, clients);
  }

  /** True (once) when the process died without being told to; its life is closed. */
  protected noticeDeath(expectedAlive: boolean): boolean {
    const pid = this.pid;
    if (!expectedAlive || pid === null || !gone(pid)) return false;
    this.died('exited-unexpectedly');
    return true;
  }

  /** Called once at the end, while the processes still run: their logs so far. */
  closeLife(): void {
    const life = this.lives.at(-1);
    if (life && life.endedAt === null && this.current && this.jsonLog) life.log = summariseLog(this.current.output());
  }
}

