#!/usr/bin/env python3
"""Login throughput with argon2id, and whether a flood of bad logins from one IP slows other users.

Usage: bench/auth/run.py [build/koi] [seconds-per-phase]   (Release build; writes nothing, prints a Markdown table)

Starts `koi serve` three times on loopback with a fresh SQLite database and the demo team (koi seed-demo):
  A  legitimate logins alone (4 client threads, each login from one of 200 loopback addresses 127.0.1.x)
  B  the same, while wrk (2 threads, 32 connections, from 127.0.0.1) floods POST /api/v1/auth/login with bad
     passwords for unknown phones as fast as it can (per-IP limit on: 10 attempts a minute and 60 / 10 min)
  C  as B, with the per-IP limit effectively off (auth.ip_login_limit = 1000000), to show what the limit buys
The legitimate users' addresses differ from the flood's, as they would in production. Every request goes to
127.0.0.0/8 only and each phase stops after its duration.
"""
import http.client, json, os, random, socket, statistics, subprocess, sys, tempfile, threading, time

KOI = sys.argv[1] if len(sys.argv) > 1 else "build/koi"
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
PHONE, PASSWORD = "13800000000", "koi2026demo"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def start(ip_login_limit):
    d = tempfile.mkdtemp(prefix="koi-bench-auth.")
    port = free_port()
    env = dict(os.environ, KOI_DATABASE_URL=f"sqlite:{d}/koi.db", KOI_SERVER_LISTEN=f"127.0.0.1:{port}",
               KOI_LOG_LEVEL="warn", KOI_AUTH_IP_LOGIN_LIMIT=str(ip_login_limit), KOI_SERVER_STATIC_DIR=d,
               KOI_SERVER_WORKER_THREADS="4")
    subprocess.run([KOI, "seed-demo"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc = subprocess.Popen([KOI, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1); c.request("GET", "/readyz")
            if c.getresponse().status == 200: break
        except OSError: pass
        time.sleep(0.1)
    return proc, port


def login(port, source_ip, phone, password):
    """One login over a fresh connection from source_ip. Returns (http status, seconds)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source_ip, 0))
    c.request("GET", "/api/v1/auth/session")
    r = c.getresponse(); r.read()
    csrf = next(v.split(";")[0].split("=", 1)[1] for k, v in r.getheaders() if k.lower() == "set-cookie" and v.startswith("koi_csrf="))
    body = json.dumps({"phone": phone, "password": password})
    t0 = time.perf_counter()
    c.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json", "X-CSRF-Token": csrf,
                                                   "Cookie": "koi_csrf=" + csrf})
    r = c.getresponse(); r.read(); c.close()
    return r.status, time.perf_counter() - t0


def phase(port, flood):
    stop = time.time() + SECONDS
    lat, errors, flood_answers = [], [], {}
    lock = threading.Lock()

    def user(n):
        i = n
        while time.time() < stop:
            ip = f"127.0.1.{1 + i % 200}"; i += 4
            status, s = login(port, ip, PHONE, PASSWORD)
            with lock:
                (lat if status == 200 else errors).append(s if status == 200 else status)

    wrk = None
    if flood:
        script = os.path.join(tempfile.mkdtemp(prefix="koi-bench-wrk."), "flood.lua")
        with open(script, "w") as f:
            f.write(WRK_SCRIPT)
        wrk = subprocess.Popen(["wrk", "-t2", "-c32", f"-d{int(SECONDS)}s", "-s", script, f"http://127.0.0.1:{port}"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    threads = [threading.Thread(target=user, args=(n,)) for n in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    if wrk:
        out = wrk.communicate()[0]
        for line in out.splitlines():
            if line.startswith("status "):
                code, n = line.split()[1:3]; flood_answers[int(code)] = int(n)
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")
    return {"logins_per_s": len(lat) / SECONDS, "p50_ms": p(0.5), "p99_ms": p(0.99), "errors": len(errors),
            "flood": flood_answers}


# wrk: bad logins for random unknown phones; a fixed pre-login CSRF token in cookie and header (double submit).
WRK_SCRIPT = r"""
counts = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
request = function()
  local body = string.format('{"phone":"139%08d","password":"wrong-pass-1"}', math.random(0, 99999999))
  return wrk.format("POST", "/api/v1/auth/login", {["Content-Type"] = "application/json",
    ["X-CSRF-Token"] = "benchtoken", ["Cookie"] = "koi_csrf=benchtoken"}, body)
end
response = function(status) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %d %d\n", k, v)) end
end
"""

rows = []
for name, limit, flood in [("A: logins alone", 60, False), ("B: + bad-login flood from one IP, limit on", 60, True),
                           ("C: + bad-login flood from one IP, limit off", 1000000, True)]:
    proc, port = start(limit)
    try:
        rows.append((name, phase(port, flood)))
    finally:
        proc.terminate(); proc.wait()

print(f"| phase ({SECONDS:.0f} s each) | good logins/s | p50 ms | p99 ms | good-login errors | flood answers |")
print("|---|---|---|---|---|---|")
for name, r in rows:
    flood = ", ".join(f"{k}: {v}" for k, v in sorted(r["flood"].items())) or "-"
    print(f"| {name} | {r['logins_per_s']:.1f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['errors']} | {flood} |")
