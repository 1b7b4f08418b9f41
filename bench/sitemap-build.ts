// The cost of one sitemap build at archive size, in process: N stories
// written straight into an embedded store, then builds of /sitemap.xml and
// /sitemap-news.xml timed, with the longest event-loop stall seen meanwhile
// (the list read is synchronous on SQLite).
//
//   node node_modules/tsx/dist/cli.mjs bench/sitemap-build.ts --stories 20000
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ALL_ITEMS } from '../src/domain/event.ts';
import { createMetrics } from '../src/ops/metrics.ts';
import { SitemapCache } from '../src/seo/sitemaps.ts';
import { openBenchStore, seedStore } from './lib/sitemap-stories.ts';
import { median } from './lib/stats.ts';

const { values } = parseArgs({ options: { stories: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } });
const STORIES = Number(values.stories);
const dataDir = mkdtempSync(join(tmpdir(), 'newswire-sitemap-build-'));
const store = openBenchStore(dataDir);
try {
  console.log(`seeded ${STORIES} stories in ${(await seedStore(store, STORIES)).toFixed(1)} s`);

  const reads: number[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    const started = performance.now();
    await store.lists([ALL_ITEMS], 100_000, 'card');
    reads.push(performance.now() - started);
  }
  console.log(`the list read alone (synchronous on SQLite): ${reads.map((ms) => ms.toFixed(1)).join(', ')} ms`);

  // What the machine itself does to the event loop: the same monitor over an idle second.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  idle.disable();
  console.log(`longest event-loop stall over an idle second (the machine's noise): ${(idle.max / 1e6).toFixed(1)} ms`);

  const sitemaps = new SitemapCache({ store, metrics: createMetrics(), siteTitle: 'Newswire', baseUrl: () => 'https://news.example.org' });
  for (const file of ['sitemap.xml', 'sitemap-news.xml']) {
    const times: number[] = [];
    const cpu: number[] = [];
    const stalls: number[] = [];
    let bytes = 0;
    for (let round = 0; round < Number(values.rounds); round++) {
      sitemaps.invalidate();
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const started = performance.now();
      const usage = process.cpuUsage();
      const document = await sitemaps.document(file);
      times.push(performance.now() - started);
      const used = process.cpuUsage(usage);
      cpu.push((used.user + used.system) / 1000);
      delay.disable();
      stalls.push(delay.max / 1e6);
      bytes = document?.encodings.identity.bytes.length ?? 0;
      const cached = performance.now();
      await sitemaps.document(file);
      if (performance.now() - cached > 1) console.log('a request after no change took over 1 ms');
    }
    console.log(
      `${file}: build median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}), process CPU median ${median(cpu).toFixed(1)} ms (compression threads included), longest event-loop stall ${Math.max(...stalls).toFixed(1)} ms, ${bytes} bytes`,
    );
  }
} finally {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
}
