#!/usr/bin/env bash
# The segment engine at scale (issue 6): generates a team with N customers (koi-bench-customers-gen: Zipf tags,
# 500 employees, 20 stages, 5,000 groups, three years of adds), then runs koi-bench-segments on it: index build
# time and memory, and each named rule's p50/p99 through the index and as SQL on the same database.
#   bench/segments/run.sh [N=1000000] [sqlite|postgresql] [SQL iterations=3]   (PostgreSQL: under scripts/with-postgres)
# Release build. Prints a Markdown section to add to bench/results/segments.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}; engine=${2:-sqlite}; sql_iterations=${3:-3}
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKOI_BUILD_TESTS=OFF -DKOI_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j2 --target koi-bench-customers-gen koi-bench-segments >/dev/null
source bench/customers/lib.sh
generate_customers "$n" "$engine"
echo
echo "### $n customers, $engine"
echo
echo "$(tail -1 "$data/gen.txt") (generated in ${gen_s} s). Command: \`bench/segments/run.sh $n $engine $sql_iterations\`"
echo
build-bench/koi-bench-segments --db "$db_url" --sql-iterations "$sql_iterations"
