// The package's files are copies: public/client.js (the module the server
// serves at /assets/client.js) stays the one source. Run by `npm pack` and
// `npm publish` (prepack), and removed again after packing (postpack).
import { copyFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const COPIES = [
  ['../../public/client.js', 'client.js'],
  ['../../public/client.d.ts', 'client.d.ts'],
  ['../../LICENSE', 'LICENSE'],
];

for (const [source, target] of COPIES) {
  if (process.argv.includes('--clean')) rmSync(here(target), { force: true });
  else copyFileSync(here(source), here(target));
}
