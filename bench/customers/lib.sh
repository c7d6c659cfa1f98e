# Sourced by the customer and segment benchmarks: builds, generates a team with N customers straight into a fresh database
# (koi-bench-customers-gen; PostgreSQL: $KOI_TEST_PG_URL from scripts/with-postgres), starts `koi serve` on it and
# logs in as the generator's admin. After start_generated_koi N ENGINE JOBS_ENABLED: base (the server's URL), data
# (a scratch directory, removed on exit), jar (the cookie jar), csrf, session, gen_s (generation time, s) and
# $data/gen.txt (the generator's summary, last line).
source bench/wecom/lib.sh

# Generates a team with N customers into a fresh database (ENGINE sqlite: a file in a new scratch directory;
# postgresql: $KOI_TEST_PG_URL). Sets data (the scratch directory, removed on exit), db_url and gen_s.
generate_customers() {
  local n=$1 engine=$2 gen_start
  data=$(mktemp -d /tmp/koi-bench-customers.XXXXXX)
  trap 'rm -rf "$data"' EXIT
  if [ "$engine" = postgresql ]; then
    db_url=${KOI_TEST_PG_URL:?run under scripts/with-postgres}
  else
    db_url="sqlite:$data/koi.db"
  fi
  gen_start=$(date +%s.%N)
  if [ -n "${BENCH_REUSE_DB:-}" ]; then
    # A database an earlier run generated (e.g. BENCH_REUSE_DB=/tmp/b1m, holding koi.db and gen.txt; for PostgreSQL
    # the database at $KOI_TEST_PG_URL, BENCH_REUSE_DB holding its gen.txt): no regeneration.
    cp "$BENCH_REUSE_DB/gen.txt" "$data/gen.txt"
    if [ "$engine" != postgresql ]; then db_url="sqlite:$BENCH_REUSE_DB/koi.db"; fi
  else
    build-bench/koi-bench-customers-gen --db "$db_url" --customers "$n" >"$data/gen.txt"
    # The generator bulk-loads; a running PostgreSQL would have vacuumed and analysed since (planner statistics,
    # visibility map for index-only scans) — do it now rather than have autovacuum run during the measurements.
    if [ "$engine" = postgresql ]; then psql -q "$db_url" -c "VACUUM ANALYZE" >/dev/null; fi
  fi
  gen_s=$(python3 -c "print(round($(date +%s.%N) - $gen_start))")
}

start_generated_koi() {
  local n=$1 engine=$2 jobs=$3 port
  make -s build >/dev/null
  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKOI_BUILD_TESTS=OFF -DKOI_BUILD_BENCH=ON >/dev/null
  cmake --build build-bench -j2 --target koi-bench-customers-gen >/dev/null
  port=$(pick_port)
  generate_customers "$n" "$engine"
  mkdir -p "$data/www"
  koi_pid=""
  trap 'kill -TERM $koi_pid 2>/dev/null; wait $koi_pid 2>/dev/null; rm -rf "$data"' EXIT
  KOI_SERVER_LISTEN="127.0.0.1:$port" KOI_DATABASE_URL="$db_url" KOI_LOG_LEVEL=warn KOI_SERVER_STATIC_DIR="$data/www" \
    KOI_WECOM_SECRET_KEY_FILE="$data/key" KOI_JOBS_ENABLED="$jobs" build/koi serve >"$data/koi.log" 2>&1 &
  koi_pid=$!
  base="http://127.0.0.1:$port"
  # Start-up includes migrations and, on a database from before migration 21, filling the pinyin initials.
  local start_at; start_at=$(date +%s.%N)
  for _ in $(seq 1 6000); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  ready_s=$(python3 -c "print(round($(date +%s.%N) - $start_at, 1))")
  jar="$data/jar"
  curl -fs -c "$jar" "$base/api/v1/auth/session" >/dev/null || true
  csrf=$(awk '$6=="koi_csrf" {print $7}' "$jar")
  curl -fs -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"phone":"13800000000","password":"koi2026bench"}' "$base/api/v1/auth/login" >/dev/null
  csrf=$(awk '$6=="koi_csrf" {print $7}' "$jar")
  session=$(awk '$6=="koi_session" {print $7}' "$jar")
}
