// The production build: TypeScript compiled to dist/ (imports rewritten from
// .ts to .js), and the plain JavaScript modules beside it (the push
// encryption worker, the modules shared with the browser), so dist/ runs with
// `node dist/main.js` and finds public/ one level up, as src/ does.
//   node scripts/build.mjs [out-dir]     (default: dist/)
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist');

if ([root, src, join(root, 'public')].includes(dist)) throw new Error(`refusing to replace ${dist} with the build`);
rmSync(dist, { recursive: true, force: true });
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const compiled = spawnSync(tsc, ['-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

let copied = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const isSource = entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts');
  if (isSource) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(dist, relative(src, from)));
  copied++;
}
console.log(`${relative(process.cwd(), dist) || '.'}: compiled, and ${copied} JavaScript and type files copied from src/`);
