#!/usr/bin/env node
// The `newswire` command line: see `newswire --help`, or the README's CLI section.
import { main } from './cli/main.js';

main(process.argv.slice(2), { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`newswire: unexpected failure: ${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
