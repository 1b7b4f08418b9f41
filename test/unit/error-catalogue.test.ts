// docs/errors.md lists every error code the server can send: this reads the
// sources for the codes they use and fails on any the catalogue lacks.
import { readdirSync, readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLOSE } from '../../src/realtime/protocol.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path: path.slice(ROOT.length), text: readFileSync(path, 'utf8') };
    });
}

interface Use {
  code: string;
  status?: number;
  where: string;
}

/** Every error code the sources send, with its HTTP status where there is one. */
function codesInSources(): { http: Use[]; frames: Use[]; refusals: Use[] } {
  const http: Use[] = [];
  const frames: Use[] = [];
  const refusals: Use[] = [];
  for (const { path, text } of sources(join(ROOT, 'src'))) {
    for (const match of text.matchAll(/problem\(\s*c\s*,\s*(\d{3})\s*,\s*'([^']+)'/g)) {
      http.push({ status: Number(match[1]), code: match[2] as string, where: path });
    }
    // Errors written outside the framework, in the same shape (the edge's 429).
    for (const match of text.matchAll(/error:\s*\{\s*code:\s*'([^']+)'/g)) http.push({ code: match[1] as string, where: path });
    for (const match of text.matchAll(/sendError\(\s*'([^']+)'/g)) frames.push({ code: match[1] as string, where: path });
    // Live-connection refusals: the code is the reason phrase (see refusalBody in realtime/live.ts).
    for (const match of text.matchAll(/statusText:\s*'([^']+)'/g)) {
      const phrase = match[1] as string;
      const status = Number(Object.entries(STATUS_CODES).find(([, text]) => text === phrase)?.[0]);
      refusals.push({ status, code: phrase.toLowerCase().replace(/ /g, '-'), where: path });
    }
  }
  return { http, frames, refusals };
}

/** The catalogue's table rows under a heading: code → the row's cells. */
function catalogue(): Map<string, string[][]> {
  const text = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const sections = new Map<string, string[][]>();
  let heading = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) heading = line.slice(3);
    else if (line.startsWith('| ') && !line.startsWith('| ---')) {
      const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
      sections.set(heading, [...(sections.get(heading) ?? []), cells]);
    }
  }
  return sections;
}

function rowsOf(section: string): string[][] {
  const rows = catalogue().get(section);
  if (!rows) throw new Error(`docs/errors.md has no section "## ${section}"`);
  return rows;
}

describe('the error catalogue (docs/errors.md)', () => {
  const found = codesInSources();

  it('finds the codes in the sources (the scan itself works)', () => {
    expect(found.http.length).toBeGreaterThan(10);
    expect(found.frames.map((use) => use.code)).toContain('bad-frame');
    expect(found.refusals.map((use) => use.code)).toContain('too-many-requests');
  });

  it('lists every HTTP API code with the status it is sent with', () => {
    const rows = rowsOf('HTTP API (`/api/v1/...`, `/websub`, `/feeds`, `/metrics`)');
    const missing = found.http.filter(
      (use) => !rows.some(([code, status]) => code === `\`${use.code}\`` && (use.status === undefined || status === String(use.status))),
    );
    expect(missing.map((use) => `${use.status ?? ''} ${use.code} (${use.where})`)).toEqual([]);
  });

  it('lists every refusal of a live connection with its status', () => {
    const rows = rowsOf('Live connections refused (`/ws` upgrades, `/sse`)');
    const missing = found.refusals.filter((use) => !rows.some(([code, status]) => code === `\`${use.code}\`` && status === String(use.status)));
    expect(missing.map((use) => `${use.status} ${use.code} (${use.where})`)).toEqual([]);
  });

  it('lists every WebSocket error frame and event-stream error code', () => {
    const rows = rowsOf('WebSocket `error` frames and event-stream `error` events');
    const missing = found.frames.filter((use) => !rows.some(([code]) => code === `\`${use.code}\``));
    expect(missing.map((use) => `${use.code} (${use.where})`)).toEqual([]);
  });

  it('lists every WebSocket close code', () => {
    const rows = rowsOf('WebSocket close codes');
    const documented = new Set(rows.map(([code]) => Number(code)));
    const missing = Object.entries(CLOSE).filter(([, code]) => !documented.has(code));
    expect(missing).toEqual([]);
  });

  it('lists every reset reason', () => {
    const recovery = readFileSync(join(ROOT, 'src/realtime/recovery.ts'), 'utf8');
    const declared = /export type ResetReason = ([^;]+);/.exec(recovery)?.[1] ?? '';
    const reasons = [...declared.matchAll(/'([^']+)'/g)].map((match) => match[1]);
    expect(reasons.length).toBeGreaterThan(0);
    const rows = rowsOf('Resets (not errors)');
    expect(reasons.filter((reason) => !rows.some(([code]) => code === `\`${reason}\``))).toEqual([]);
  });
});
