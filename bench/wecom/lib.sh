# Shared by the WeCom benchmarks: start koi-wecom-sandbox and `koi serve` (the demo team linked to the sandbox's
# demo corp by `koi seed-demo`) on free loopback ports, in a scratch folder removed on exit.
#   start_sandbox_and_koi DB_URL SEED_ARGS...   sets data, port, sport, koi_pid, sandbox_pid, seed_s (seconds the seeding took); returns once Koi is ready
# Release binaries from build/ (make build); BENCH_KOI_BIN names another koi binary (an A/B against an older build).
# The console folder is empty: Koi refuses one that holds its database.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { for _ in $(seq 1 50); do p=$((20000 + RANDOM % 12000)); if port_free "$p"; then echo "$p"; return; fi; done; }

start_sandbox_and_koi() {
  local db_url=$1; shift
  port=$(pick_port); sport=$(pick_port)
  data=$(mktemp -d /tmp/koi-bench-wecom.XXXXXX); mkdir -p "$data/www"
  koi_pid=""; sandbox_pid=""
  trap 'kill $koi_pid $sandbox_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$data"' EXIT
  [ -n "$db_url" ] || db_url="sqlite:$data/koi.db"
  local seed_start; seed_start=$(date +%s.%N)
  build/koi-wecom-sandbox scenario seed --db "$data/sandbox.db" "$@" >"$data/seed.txt"
  seed_s=$(python3 -c "print(round($(date +%s.%N) - $seed_start))")
  build/koi-wecom-sandbox serve --db "$data/sandbox.db" --listen "127.0.0.1:$sport" >"$data/sandbox.log" 2>&1 &
  sandbox_pid=$!
  export KOI_SERVER_LISTEN="127.0.0.1:$port" KOI_DATABASE_URL="$db_url" KOI_LOG_LEVEL=warn \
    KOI_WECOM_API_BASE_URL="http://127.0.0.1:$sport" KOI_WECOM_SECRET_KEY_FILE="$data/key" \
    KOI_SERVER_STATIC_DIR="$data/www"
  sleep 0.5
  "${BENCH_KOI_BIN:-build/koi}" seed-demo >/dev/null
  "${BENCH_KOI_BIN:-build/koi}" serve >"$data/koi.log" 2>&1 &
  koi_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
}
