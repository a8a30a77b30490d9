#!/bin/bash
set -u
OUT=$1; RATE=${2:-300}; SECS=${3:-20}; ROUNDS=${4:-2}
mkdir -p $OUT
cd /work/main
perf record -k CLOCK_REALTIME -e cpu-clock -F 997 -g -a -o $OUT/perf.data > $OUT/perf.log 2>&1 &
PP=$!
sleep 1
BENCH_RESULTS_DIR=/work/main/bench/results/tmp BENCH_NODE_ARGS="--perf-basic-prof-only-functions" \
  npm run fanout -w bench -- --sizes 100 --targets switchboard,socketio --rate $RATE --seconds $SECS --rounds $ROUNDS > $OUT/bench.log 2>&1 &
BPID=$!
for i in $(seq 1 120); do grep -q "code warmed up" $OUT/bench.log 2>/dev/null && break; sleep 0.5; done
echo "switchboard=$(pgrep -f 'packages/server/dist/cli.js' | head -1) plain=$(pgrep -f 'baselines/plain-socketio.ts' | tail -1)" > $OUT/pids
wait $BPID
kill -INT $PP; wait $PP
cat $OUT/pids
