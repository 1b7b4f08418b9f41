// Preloaded into every server the tests start (plain JavaScript: workers the
// server starts inherit the preload). Its stdin is a pipe from the test
// process: when that process is gone (a run interrupted before its cleanup),
// the pipe ends and the server exits instead of running on, taking its
// temporary data folder with it.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

function orphaned() {
  const dir = process.env.DATA_DIR;
  if (dir?.startsWith(join(tmpdir(), 'newswire-test-'))) rmSync(dir, { recursive: true, force: true });
  process.exit(70);
}

if (isMainThread) {
  process.stdin.on('end', orphaned);
  process.stdin.on('error', orphaned);
  process.stdin.resume();
  // Never what keeps a server alive once it is done.
  process.stdin.unref();
}
