#!/usr/bin/env bash
# Planning a mass message at scale (issue 7): generates a team with N customers (koi-bench-customers-gen), then runs
# koi-bench-messaging on it: the plan for the whole base with and without receipts under wecom-2023, and the time
# to save and send a draft to about half of it.
#   bench/messaging/run.sh [N=1000000] [sqlite|postgresql] [iterations=5]   (PostgreSQL: under scripts/with-postgres)
# Release build. Prints a Markdown section to add to bench/results/messaging.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}; engine=${2:-sqlite}; iterations=${3:-5}
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKOI_BUILD_TESTS=OFF -DKOI_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j2 --target koi-bench-customers-gen koi-bench-messaging >/dev/null
data=$(mktemp -d /tmp/koi-bench-messaging.XXXXXX)
trap 'rm -rf "$data"' EXIT
if [ "$engine" = postgresql ]; then
  db_url=${KOI_TEST_PG_URL:?run under scripts/with-postgres}
else
  db_url="sqlite:$data/koi.db"
fi
build-bench/koi-bench-customers-gen --db "$db_url" --customers "$n" >"$data/gen.txt"
echo
echo "### $n customers, $engine"
echo
echo "$(tail -1 "$data/gen.txt"). Command: \`bench/messaging/run.sh $n $engine $iterations\`"
echo
build-bench/koi-bench-messaging --db "$db_url" --iterations "$iterations"
