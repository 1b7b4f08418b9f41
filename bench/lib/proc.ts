// Reads a process tree's CPU time and memory from /proc: the figures a
// benchmark compares, taken from outside the process it measures.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_US = 1_000_000 / 100; // USER_HZ is 100 on Linux

/** The pid and every descendant (a tsx launcher runs the script in a child). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const current = out[i] as number;
    let children = '';
    try {
      children = readFileSync(`/proc/${current}/task/${current}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.trim().split(/\s+/)) if (child) out.push(Number(child));
  }
  return out;
}

/** utime + stime of one process (all its threads), in microseconds. */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: ") state ppid ...".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return 0;
  }
}

/** Resident memory of one process, in kilobytes. */
export function rssKB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

export function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** CPU of several process trees together. */
export function treeCpuMicros(pids: number[]): number {
  let total = 0;
  for (const pid of pids) for (const p of processTree(pid)) total += cpuMicros(p);
  return total;
}

/** The process that does the work: the deepest descendant (the launcher itself idles). */
export function leafPid(pid: number): number {
  const tree = processTree(pid);
  return tree[tree.length - 1] as number;
}
