#!/usr/bin/env bash
# Runs bench/run-all.sh from a copy of the working tree taken now, so edits
# made while a long run goes on (to the server or the harness) cannot change
# what it measures halfway. Results land in this tree's bench/results (or $BENCH_OUT).
# Usage: [BENCH_SRC_REV=<commit> [BENCH_NODE_MODULES=<dir>]] [BENCH_OUT=<dir>] bench/frozen.sh [step...]   (steps of bench/run-all.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
here="$(pwd)"
copy="$(mktemp -d /tmp/bench-frozen-XXXXXX)"
trap 'rm -rf "$copy"' EXIT
cp -r src bench public package.json tsconfig.json "$copy/"
# bench/moment.ts seeds its stores with the article in test/fixtures.
mkdir -p "$copy/test" && cp -r test/fixtures "$copy/test/"
# BENCH_NODE_MODULES: the dependencies of an older server (BENCH_SRC_REV) when they differ from today's.
ln -s "${BENCH_NODE_MODULES:-$here/node_modules}" "$copy/node_modules"
if [ -n "${BENCH_SRC_REV:-}" ]; then
  # The server as it was at another commit (its code and the files it serves), driven by today's harness.
  rm -rf "$copy/src" "$copy/public"
  git archive "$BENCH_SRC_REV" src public | tar -x -C "$copy"
  BENCH_TREE="src at $(git rev-parse --short "$BENCH_SRC_REV")"
else
  # What was measured: the commit, and the server files that differed from it.
  BENCH_TREE="$(git rev-parse --short HEAD)"
  dirty="$(git status --short -- src | awk '{print $2}' | tr '\n' ' ')"
  [ -n "$dirty" ] && BENCH_TREE="$BENCH_TREE + uncommitted: $dirty"
fi
export BENCH_TREE
export BENCH_OUT="${BENCH_OUT:-$here/bench/results}"
# The report belongs to this tree, not to the copy.
steps=("${@:-fanout sustained memory fanout50k storm feeds}")
"$copy/bench/run-all.sh" ${steps[@]/report/}
for step in ${steps[@]}; do [ "$step" = report ] && node node_modules/tsx/dist/cli.mjs bench/report.ts > /dev/null; done
exit 0
