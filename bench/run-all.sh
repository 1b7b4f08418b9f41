#!/usr/bin/env bash
# Every full benchmark run, in order, as documented in docs/benchmarks.md.
# Each step is bounded in time and stops everything it started.
# Usage: bench/run-all.sh [step...]   (steps: fanout sustained memory fanout50k storm feeds moment abuse idempotency report)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="node node_modules/tsx/dist/cli.mjs bench/run.ts"
OUT="${BENCH_OUT:-bench/results}"
steps=("${@:-fanout sustained memory fanout50k storm feeds moment report}")
for step in ${steps[@]}; do
  case "$step" in
    fanout)
      $RUN --scenarios fanout,publish --targets ours,ours-redis,raw-frame,raw-send,socketio,socketio-redis \
        --subscribers 10000 --clients 2 --events 20 --rounds 2 --max-minutes 25 --out $OUT/fanout-10k.json ;;
    sustained)
      $RUN --scenarios sustained --targets ours,socketio,raw-frame,raw-send \
        --subscribers 10000 --clients 2 --rates 0.5,1,2,3,5,7,10,15,20,35,50 --seconds 10 --rounds 2 --max-minutes 40 --out $OUT/sustained-10k.json ;;
    memory)
      $RUN --scenarios memory --targets ours,raw-frame,raw-send,socketio \
        --subscribers 15000 --steps 19900 --clients 2 --max-minutes 20 --out $OUT/memory.json ;;
    fanout50k)
      $RUN --scenarios fanout --targets ours-redis:4,raw-frame:4,socketio-redis:4 \
        --subscribers 50000 --clients 4 --events 10 --max-minutes 30 --out $OUT/fanout-50k.json ;;
    storm)
      $RUN --scenarios storm --targets ours --subscribers 10000 --clients 2 --behind 100 --repeat 3 \
        --max-minutes 10 --out $OUT/storm.json ;;
    feeds)
      node node_modules/tsx/dist/cli.mjs bench/feeds.ts --rounds 2 --seconds 10 --out $OUT/feeds.json ;;
    moment)
      # BENCH_MOMENT_ARGS overrides any of these (the last value of a flag wins), e.g. "--subscribers 5000 --out x.json".
      node node_modules/tsx/dist/cli.mjs bench/moment.ts --targets ours,ours-redis --subscribers 10000 --clients 2 \
        --stories 20000 --page-rate 100 --feed-rate 50 --alerts 10 --seconds 10 --max-minutes 30 \
        --out $OUT/moment.json ${BENCH_MOMENT_ARGS:-} ;;
    abuse)
      node node_modules/tsx/dist/cli.mjs bench/abuse.ts --max-minutes 20 --out $OUT/abuse.json ;;
    idempotency)
      node node_modules/tsx/dist/cli.mjs bench/idempotency.ts --requests 2000 --block 100 --out $OUT/idempotency.json ;;
    report)
      node node_modules/tsx/dist/cli.mjs bench/report.ts > /dev/null ;;
    *) echo "unknown step $step" >&2; exit 1 ;;
  esac
done
