#!/usr/bin/env bash
# One run of bench_ml_service with a timeline of where the CPU goes: every 0.5 s, the seconds
# since the start, the service's messages in and refit backlog (its /metrics), and the CPU
# ticks (1/100 s, user + system, all threads) of the service, of the benchmark process (the
# mock cluster and the producer) and of this run's PostgreSQL (postmaster and backends).
# Usage: tests/bench/ml_service_timeline.sh BUILD_DIR OUT.txt [bench arguments]
#        (STACKLENS_BENCH_SERVICE_ENV is passed through, e.g. STACKLENS_ML_RETRAIN_EVERY=50)
set -u
build=$1 out=$2
shift 2
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
tests/harness/with-servers --bin "$build/bin" "$build/bench/bench_ml_service" "$@" &
harness=$!
bench="" service=""
for _ in $(seq 1 600); do
  bench=$(pgrep -n -x bench_ml_servic)
  [ -n "$bench" ] && service=$(pgrep -n -P "$bench" -x stacklens)
  [ -n "$service" ] && break
  sleep 0.5
done
[ -n "$service" ] || { echo "no service process found" >&2; wait $harness; exit 1; }
port=$((18005 + bench % 1000))  # as bench_ml_service.cpp chooses it
pgdata=$(tr '\0' '\n' <"/proc/$bench/environ" | sed -n 's/^STACKLENS_TEST_PG_DATA=//p')
postmaster=$(pgrep -u postgres -f -- "-D $pgdata" | head -1)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgresTicks() {
  local sum=0
  for p in $postmaster $(pgrep -P "$postmaster"); do sum=$((sum + $(ticks "$p"))); done
  echo $sum
}
echo "seconds messages_in refit_backlog service_ticks bench_ticks postgres_ticks" >"$out"
start=$(date +%s.%N)
while kill -0 "$service" 2>/dev/null; do
  metrics=$(curl -s -m 1 "127.0.0.1:$port/metrics" |
    awk '$1=="stacklens_messages_in_total"{a=$2} $1=="stacklens_refit_backlog"{b=$2} END{print a+0, b+0}')
  echo "$(echo "$(date +%s.%N) - $start" | bc | cut -c1-7) $metrics $(ticks "$service") $(ticks "$bench") $(postgresTicks)" >>"$out"
  sleep 0.5
done
wait $harness
