#!/usr/bin/python3
"""tests/chaos: N randomized faults against real zenc runs, then the count
of what was lost.  Run by tests/chaos/run.sh (which says how).

Each round is one failed run, from one fault drawn at random:

  yaml-exit, yaml-sigkill, yaml-segv, yaml-oom  a YAML step that exits 3,
      kills itself with SIGKILL or SIGSEGV, or passes its memory_limit
  c-raise, c-crash, c-exit      a C step (alert_pipeline) that raises,
      dies of SIGSEGV or calls _exit()
  orch-kill-yaml, orch-kill-c   SIGKILL of the orchestrating process
      while a step runs (YAML, and the C watch_pipeline)

under isolation process or none, drawn too.  Every failed step has the
standard alerter failure hook, through a webhook alerter whose receiver
(flaky_receiver.py) flaps at random between answering 200, 500, 429
with Retry-After, answering after the client's timeout, dropping the
connection, and being down for a few rounds.

Then the receiver is made reliable, and the driver waits (reading the
store's outbox itself, without any zenc command, so that only the
courier delivers) until no alert is pending, and counts:

  failures recorded       runs recorded failed, of N
  alerted failures        failed steps, each of which must reach the
                          receiver (a 2xx answer) under exactly one id
  lost                    alerted failures that never reached it, and
                          failed runs with no failed step to alert
  duplicated by id        repeats of an id (at least once delivery)
  more than one id        a failure alerted under two ids (a real dup)
  runs/steps left running
  processes left alive    any process of a chaos run after its end
  kills settled           orchestrator kills after which no process of
                          the run was left within 5 s

Exit status 0 only when nothing was lost, left running or left alive,
no failure was alerted twice, and every run was recorded failed.
"""
import argparse
import collections
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int, nargs="?", default=20)
ap.add_argument("--seed", type=int, default=None)
ap.add_argument("--work", required=True)
ap.add_argument("--build", required=True)
ap.add_argument("--drain", type=float, default=300.0,
                help="seconds to wait for pending alerts at the end")
args = ap.parse_args()

seed = args.seed if args.seed is not None else int(time.time())
rng = random.Random(seed)
ZENC = os.path.join(args.build, "zenc")
PROGRAMS = os.path.join(args.build, "tests", "programs")
WORK = args.work
SESSION = "chaos-%d-%d" % (os.getpid(), seed)

env = dict(os.environ)
env.update({
    "ZENC_HOME": os.path.join(WORK, "home"),
    "ZENC_DATA": os.path.join(WORK, "data"),
    "HOME": os.path.join(WORK, "user"),
    "NO_COLOR": "1",
    "ZENC_CHAOS": SESSION,
    # Every run's faults must happen: no step is taken from the cache.
    "ZENC_CACHE": "off",
})
for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
          "all_proxy", "ALL_PROXY", "ZENC_NO_WATCHER"):
    env.pop(k, None)
for d in ("home", "data", "user", "runs"):
    os.makedirs(os.path.join(WORK, d), exist_ok=True)
DB = os.path.join(WORK, "data", "zenc.db")


def zenc(*a, check=True, timeout=120):
    p = subprocess.run([ZENC] + list(a), env=env, cwd=WORK, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if check and p.returncode != 0:
        sys.exit("chaos: zenc %s failed (%d): %s"
                 % (" ".join(a), p.returncode, p.stderr.strip()))
    return p


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- the receiver

PORT = free_port()
RLOG = os.path.join(WORK, "receiver.log")
CONTROL = os.path.join(WORK, "receiver.control")
receiver = None

CALM = {"ok": 1}
FLAPPING = {"ok": 4, "500": 2, "429": 2, "slow": 1, "drop": 1}


def set_mode(weights):
    tmp = CONTROL + ".tmp"
    with open(tmp, "w") as f:
        json.dump(weights, f)
    os.replace(tmp, CONTROL)


def receiver_up():
    global receiver
    if receiver and receiver.poll() is None:
        return
    receiver = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "flaky_receiver.py"),
         "--log", RLOG, "--control", CONTROL, "--port", str(PORT),
         "--delay", "2.5"], env=env)
    import socket
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("chaos: the receiver did not start")


def receiver_down():
    global receiver
    if receiver and receiver.poll() is None:
        receiver.kill()
        receiver.wait()
    receiver = None


# ---- the pipelines

YAML_STEP = {
    "yaml-exit": "exit 3",
    "yaml-sigkill": "kill -KILL $$",
    "yaml-segv": "kill -SEGV $$",
    # Written, not only allocated: pages never touched are not resident.
    "yaml-oom": "exec python3 -c 'b = b\"x\" * (400 * 1024 * 1024); "
                "import time; time.sleep(30)'",
    "orch-kill-yaml": "echo \"$ZENC_RUN_ID\" >\"$CHAOS_DIR/started\"; "
                      "sleep 300",
}


def write_yaml(kind):
    path = os.path.join(WORK, "%s.yaml" % kind)
    if os.path.exists(path):
        return path
    lines = [
        "name: chaos-%s" % kind,
        "on_failure: alerter_failure_hook",
        "steps:",
        "  - name: first",
        "    run: \"true\"",
        "  - name: work",
        "    after: [first]",
        "    run: %s" % json.dumps(YAML_STEP[kind]),
    ]
    if kind == "yaml-oom":
        lines.append("    memory_limit: 64M")
    lines += [
        "  - name: after",
        "    after: [work]",
        "    run: echo never >>\"$CHAOS_DIR/after\"",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def processes_of(run_id):
    """Pids of live processes whose environment holds the run's id."""
    want = ("ZENC_RUN_ID=%s" % run_id).encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if want in f.read().split(b"\0"):
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def run_status(run_id):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=30)
        row = db.execute("SELECT status FROM runs WHERE id = ?",
                         (run_id,)).fetchone()
        db.close()
    except sqlite3.Error:
        return "running"
    return row[0] if row else "running"


def chaos_processes():
    want = ("ZENC_CHAOS=%s" % SESSION).encode()
    me = os.getpid()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if want in f.read().split(b"\0"):
                    with open("/proc/%s/stat" % d) as s:
                        if s.read().split(")")[-1].split()[0] == "Z":
                            continue
                    pids.append(int(d))
        except OSError:
            pass
    return [p for p in pids
            if receiver is None or p != receiver.pid]


kill_times = []


def round_(i, kind, isolation):
    rdir = os.path.join(WORK, "runs", str(i))
    os.makedirs(rdir, exist_ok=True)
    renv = dict(env, CHAOS_DIR=rdir, WP_DIR=rdir)
    name = "r%05d" % i
    if kind.startswith("c-"):
        cmd = [os.path.join(PROGRAMS, "alert_pipeline"), "run",
               "--param", "work.mode=%s" % kind[2:]]
    elif kind == "orch-kill-c":
        cmd = [os.path.join(PROGRAMS, "watch_pipeline"), "run"]
    else:
        cmd = [ZENC, "run", write_yaml(kind)]
    cmd += ["--run-name", name, "--isolation", isolation, "-q"]
    out = open(os.path.join(rdir, "out"), "w")
    p = subprocess.Popen(cmd, env=renv, cwd=rdir, stdout=out,
                         stderr=subprocess.STDOUT)
    if kind.startswith("orch-kill"):
        started = os.path.join(rdir, "started")
        t0 = time.time()
        while not os.path.exists(started) and time.time() - t0 < 60:
            if p.poll() is not None:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))
        run_id = ""
        if os.path.exists(started):
            with open(started) as f:
                run_id = f.read().strip()
        p.send_signal(signal.SIGKILL)
        p.wait()
        killed = time.time()
        # Settled: no process of the run left, and the run recorded
        # as ended (the watcher writes that after its kills).
        while run_id and time.time() - killed < 30 and (
                processes_of(run_id) or run_status(run_id) == "running"):
            time.sleep(0.05)
        kill_times.append(time.time() - killed if run_id else None)
    else:
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    out.close()


# ---- the rounds

zenc("alerter", "register", "hook", "--flavor", "webhook",
     "--url", "http://127.0.0.1:%d/hook" % PORT, "--timeout", "1s")
zenc("stack", "register", "chaos", "-al", "hook", "--set")
if not os.path.exists(os.path.join(PROGRAMS, "watch_pipeline")):
    sys.exit("chaos: %s/watch_pipeline is missing (build the tests)"
             % PROGRAMS)

KINDS = [("yaml-exit", 2), ("yaml-sigkill", 1), ("yaml-segv", 1),
         ("yaml-oom", 1), ("c-raise", 2), ("c-crash", 1), ("c-exit", 1),
         ("orch-kill-yaml", 2), ("orch-kill-c", 2)]
set_mode(CALM)
receiver_up()
counts = collections.Counter()
down_left = 0
t_start = time.time()
for i in range(args.n):
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    isolation = rng.choice(["process", "none"])
    if kind == "yaml-oom":
        # Memory limits are enforced under process isolation only
        # (docs/yaml.md, "Limits").
        isolation = "process"
    counts[kind] += 1
    if down_left > 0:
        down_left -= 1
        if not down_left:
            receiver_up()
    elif rng.random() < 0.05:
        receiver_down()
        down_left = rng.randint(1, 4)
    else:
        set_mode(rng.choice([CALM, FLAPPING, FLAPPING]))
    round_(i, kind, isolation)
    if (i + 1) % 50 == 0:
        print("chaos: %d of %d rounds (%.0f s)"
              % (i + 1, args.n, time.time() - t_start), flush=True)

# ---- the drain: only the courier delivers from here on

set_mode(CALM)
receiver_up()
t0 = time.time()
pending = -1
while time.time() - t0 < args.drain:
    db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=30)
    pending = db.execute(
        "SELECT count(*) FROM alerts WHERE status = 'pending'"
    ).fetchone()[0]
    db.close()
    if pending == 0:
        break
    time.sleep(1)
drain = time.time() - t0

# ---- the count

runs = json.loads(zenc("runs", "list", "--json", "--limit",
                       "1000000").stdout or "[]")
chaos_runs = [r for r in runs if r["name"].startswith("r")]
failed_runs = [r for r in chaos_runs if r["status"] == "failed"]
left_runs = [r for r in chaos_runs if r["status"] == "running"]
expected = set()
left_steps = 0
silent = []  # failed runs with no failed step: nothing could alert
for r in chaos_runs:
    d = json.loads(zenc("runs", "show", r["id"], "--json").stdout)
    n_failed = 0
    for s in d["steps"]:
        if s["status"] == "running":
            left_steps += 1
        if s["status"] == "failed":
            expected.add((r["id"], s["name"]))
            n_failed += 1
    if r["status"] == "failed" and not n_failed:
        silent.append(r["id"])

got = collections.defaultdict(set)
per_id = collections.Counter()
if os.path.exists(RLOG):
    with open(RLOG) as f:
        for line in f:
            rec = json.loads(line)
            if rec["answer"] not in ("ok", "slow"):
                continue
            if rec.get("event") not in (None, "on_failure"):
                continue
            got[(rec["run_id"], rec["step"])].add(rec["alert_id"])
            per_id[rec["alert_id"]] += 1
lost = sorted(k for k in expected if not got.get(k))
multi = sorted(k for k in expected if len(got.get(k, ())) > 1)
dups = sum(c - 1 for c in per_id.values())
receiver_down()
time.sleep(0.2)


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


# The courier is the store's, not a run's: it exits once nothing is due
# (it may be sleeping until its next try); it is waited for, not counted.
t0 = time.time()
while (any(comm(p) == "zenc-courier" for p in chaos_processes())
       and time.time() - t0 < 90):
    time.sleep(0.5)
courier_left = [p for p in chaos_processes() if comm(p) == "zenc-courier"]
alive = [p for p in chaos_processes() if comm(p) != "zenc-courier"]
kills = [t for t in kill_times if t is not None]
slow_kills = [t for t in kills if t > 5]

print("chaos: N=%d seed=%d in %.0f s; faults: %s" % (
    args.n, seed, time.time() - t_start,
    ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
print("failures recorded: %d of %d runs" % (len(failed_runs), args.n))
print("alerted failures: %d; delivered under exactly one id: %d"
      % (len(expected), len(expected) - len(lost) - len(multi)))
print("lost: %d (and failed runs with no failed step to alert: %d)"
      % (len(lost), len(silent)))
print("duplicated by id: %d (the same alert id received again)" % dups)
print("failures alerted under more than one id: %d" % len(multi))
print("pending after the drain: %d (waited %.0f s)" % (max(pending, 0),
                                                       drain))
print("runs left running: %d; steps left running: %d"
      % (len(left_runs), left_steps))
print("processes left alive: %d (the courier still running 90 s after "
      "the drain: %d)" % (len(alive), len(courier_left)))
print("orchestrator kills settled within 5 s: %d of %d (slowest %.2f s)"
      % (len(kills) - len(slow_kills), len(kill_times),
         max(kills) if kills else 0.0))
for k in lost[:10]:
    print("  lost: run %s step %s" % k)
for r in silent[:10]:
    print("  failed with no failed step: run %s" % r)
for p in alive[:10]:
    try:
        with open("/proc/%d/cmdline" % p, "rb") as f:
            print("  alive: %d %s" % (p, f.read().replace(b"\0", b" ")
                                      .decode(errors="replace")))
    except OSError:
        pass
for p in alive + courier_left:
    try:
        os.kill(p, signal.SIGKILL)
    except OSError:
        pass
ok = (not lost and not silent and not multi and not left_runs and not left_steps
      and not alive and len(failed_runs) == args.n
      and len(kills) == len(kill_times) and not slow_kills)
print("chaos: %s" % ("PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
