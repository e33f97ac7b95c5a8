#!/usr/bin/python3
"""The zenc benchmarks: zenc (C pipelines in both isolation modes, YAML
pipelines) side by side with GNU make, Snakemake and the floors (bare
fork+exec, fork, one SQLite transaction per step), on the same DAGs, in one
run.  Called by bench/run.sh, which installs and builds what this needs;
writes bench/results.md (and results.json).

Timing: wall clock around each process, from spawn to wait4(); peak memory:
ru_maxrss of wait4() (what GNU time's %M reports: the largest resident set
of the process or any child it waited for).  Per-step overhead = median wall
time / N.
"""
import argparse
import atexit
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# ----------------------------------------------------------------- options

ap = argparse.ArgumentParser()
ap.add_argument("--zenc-build", required=True, help="zenc's build dir")
ap.add_argument("--bin", required=True, help="the bench programs")
ap.add_argument("--work", required=True, help="scratch dir (wiped)")
ap.add_argument("--out", default=os.path.join(HERE, "results.md"))
ap.add_argument("--quick", action="store_true", help="small N, few reps")
ap.add_argument("--prof-build", default="",
                help="zenc built with -g -fno-inline, for the profiles")
ap.add_argument("--no-profile", action="store_true")
ap.add_argument("--only", default="", help="comma list of contender keys")
args = ap.parse_args()

ZENC = os.path.join(args.zenc_build, "zenc")
C_PIPE = os.path.join(args.bin, "c_pipe")
FLOOR = os.path.join(args.bin, "floor")
POPULATE = os.path.join(args.bin, "populate_store")
RUNNER = os.path.join(args.bin, "runner")
YAML_LOAD = os.path.join(args.bin, "yaml_load")
SNAKEMAKE = "/usr/bin/snakemake"
MAKE = "/usr/bin/make"
WORK = args.work

if args.quick:
    SIZES = [20, 100]
    REPS = {20: 2, 100: 2}
    SMK_REPS = {20: 1, 100: 1}
    STORE_RUNS = 2000
    FAIL_REPS = 2
    YAML_REPS = {}
    SLEEP_N, SLEEP_REPS = 8, 2
    FAILX = {20: 2, 100: 2}
    SMK_SLEEP_REPS, SMK_FAILX = 1, {20: 1}
    LOAD_REPS = 1
else:
    SIZES = [100, 1000, 10000]
    # BENCH_REPS_10000: runs per contender at 10,000 (on a machine whose
    # fork takes 1-2 ms, 3 runs of every contender there take half an
    # hour).
    REPS = {100: 7, 1000: 5,
            10000: int(os.environ.get("BENCH_REPS_10000", "3"))}
    # Snakemake: seconds per run at 1,000; superlinear beyond (see README).
    SMK_REPS = {100: 3, 1000: 1}
    # YAML at 10,000: 14-45 s per run (126 s before posix_spawn), so 1 run
    # (its "median" is that run); every other contender keeps REPS.
    YAML_REPS = {10000: 1}
    STORE_RUNS = 100000
    FAIL_REPS = 7
    # The sleeping fan-out: N steps of `sleep 0.1` at -j cores.
    SLEEP_N, SLEEP_REPS = 40, 5
    # fail-every-10: N and runs per case.
    FAILX = {100: 5, 1000: 3}
    # Snakemake: 3 runs of the sleeping fan-out, fail-every-10 at 100 only
    # (its fan-out of 1,000 takes about 30 s a run).
    SMK_SLEEP_REPS, SMK_FAILX = 3, {100: 3}
    LOAD_REPS = 3
FAIL_N, FAIL_K = 20, 10
# YAML loading: steps in the generated file (the target is stated at
# 100,000; --quick uses the same file, one run).
LOAD_N = 100000
CORES = max(1, os.cpu_count() or 1)
try:
    CORES = len(os.sched_getaffinity(0))
except (AttributeError, OSError):
    pass
PROFILE_N = 200
PROFILE_LOAD_N = 10000

shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_capture(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              **kw).stdout.strip()
    except OSError:
        return ""


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENC_")}
    env.update({"LC_ALL": "C", "NO_COLOR": "1", "TZ": "UTC"})
    return env


def zenc_env(d):
    env = base_env()
    env["ZENC_HOME"] = os.path.join(d, "home")
    env["ZENC_DATA"] = os.path.join(d, "data")
    # Every case measures steps that execute: repeated runs of the same
    # pipeline must not be taken from the step cache (cache_bench.py
    # measures that).
    env["ZENC_CACHE"] = "off"
    return env

# ------------------------------------------------------------- measuring


class Usage:
    def __init__(self, maxrss_kb, user, sys_):
        self.ru_maxrss, self.ru_utime, self.ru_stime = maxrss_kb, user, sys_


def spawn(cmd, env, cwd, tag):
    """Runs cmd under bench/runner.c (a small parent that times it and
    reads its rusage); returns (wall seconds, exit code, usage)."""
    rep = os.path.join(cwd, f".{tag}.report")
    subprocess.run([RUNNER, rep, os.path.join(cwd, f".{tag}.out"),
                    os.path.join(cwd, f".{tag}.err")] + cmd, env=env,
                   cwd=cwd, check=True)
    wall, rss, user, sys_, code = open(rep).read().split()
    return float(wall), int(code), Usage(int(rss), float(user), float(sys_))


class Case:
    """One contender on one workload: how to set up, run and check."""

    def __init__(self, key, shape, n, cmd, cwd, env=None, reps=3,
                 expect=0, setup=None, prepare=None, check=None,
                 warm=None):
        self.key, self.shape, self.n = key, shape, n
        self.cmd, self.cwd, self.env = cmd, cwd, env or base_env()
        self.reps, self.expect = reps, expect
        self.setup, self.prepare, self.check, self.warm = \
            setup, prepare, check, warm


RESULTS = []   # dicts


LOADS = []   # 1-minute load averages sampled before each timed run


def loadavg():
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except (OSError, ValueError):
        return -1.0


def measure_all(cases):
    """Measures the cases round-robin: run 1 of each, then run 2 of each,
    ... so that a change of load on the machine touches every contender
    alike.  Appends one result per case to RESULTS; returns them."""
    st = []
    for c in cases:
        os.makedirs(c.cwd, exist_ok=True)
        if c.setup:
            c.setup()
        if c.warm:   # an untimed small run: creates stores, warms caches
            if c.prepare:
                c.prepare()
            spawn(c.warm, c.env, c.cwd, "warm")
        st.append({"walls": [], "rss": [], "ut": [], "st": [], "note": ""})
    for i in range(max((c.reps for c in cases), default=0)):
        for c, m in zip(cases, st):
            if i >= c.reps or m["note"]:
                continue
            if c.prepare:
                c.prepare()
            LOADS.append(loadavg())
            wall, rc, ru = spawn(c.cmd, c.env, c.cwd, "run")
            if rc != c.expect:
                tail = open(os.path.join(c.cwd, ".run.err"),
                            errors="replace").read()[-600:]
                m["note"] = f"exit {rc}, expected {c.expect}: " + \
                    " ".join(tail.split())[-300:]
                log(f"  {c.key} {c.shape}-{c.n}: FAILED ({m['note']})")
                continue
            if c.check:
                bad = c.check()
                if bad:
                    m["note"] = bad
                    log(f"  {c.key} {c.shape}-{c.n}: CHECK FAILED ({bad})")
                    continue
            m["walls"].append(wall)
            m["rss"].append(ru.ru_maxrss / 1024.0)
            m["ut"].append(ru.ru_utime)
            m["st"].append(ru.ru_stime)
    out = []
    for c, m in zip(cases, st):
        walls = m["walls"]
        r = {"key": c.key, "shape": c.shape, "n": c.n, "reps": len(walls),
             "ok": len(walls) == c.reps and not m["note"],
             "note": m["note"], "walls": walls}
        if walls:
            med = statistics.median(walls)
            r.update({"median_s": med, "per_step_ms": med / c.n * 1e3,
                      "min_s": min(walls), "max_s": max(walls),
                      "peak_mb": max(m["rss"]),
                      "user_ms_step": statistics.median(m["ut"]) / c.n * 1e3,
                      "sys_ms_step": statistics.median(m["st"]) / c.n * 1e3})
            log(f"  {c.key:10} {c.shape}-{c.n}: {r['per_step_ms']:.4f} "
                f"ms/step (median of {len(walls)}, {med:.3f} s), peak "
                f"{r['peak_mb']:.1f} MB{'  ' + m['note'] if m['note'] else ''}")
        RESULTS.append(r)
        out.append(r)
    return out


def measure(c):
    return measure_all([c])[0]


def skipped(key, shape, n, why):
    RESULTS.append({"key": key, "shape": shape, "n": n, "reps": 0,
                    "ok": False, "note": why, "skipped": True})
    log(f"  {key:10} {shape}-{n}: skipped ({why})")


def find(key, shape, n):
    for r in RESULTS:
        if r["key"] == key and r["shape"] == shape and r["n"] == n:
            return r
    return None


def fresh(path):
    def f():
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
    return f

# ------------------------------------------------------------ generators

CHAIN_FIRST = 'echo 1 > {out}'
CHAIN_NEXT = 'read v < {inp}; echo $((v+1)) > {out}'


def gen_makefile(path, shape, n):
    L = [".SUFFIXES:", ""]
    if shape in ("chain", "fail"):
        L += [f".DEFAULT_GOAL := out/s{n}", "", "out/s1:",
              "\t" + CHAIN_FIRST.format(out="$@")]
        nxt = CHAIN_NEXT.replace("$", "$$").format(inp="$<", out="$@")
        for i in range(2, n + 1):
            L.append(f"out/s{i}: out/s{i-1}")
            if shape == "fail" and i == FAIL_K:
                # make has no hooks: the failing recipe reports itself.
                L.append('\t(exit 1) || { echo "on_failure $@" >> fail.log;'
                         ' exit 1; }')
            else:
                L.append("\t" + nxt)
    elif shape == "sleep":
        ws = " ".join(f"w{i}" for i in range(1, n + 1))
        L += [".DEFAULT_GOAL := all", f".PHONY: all {ws}", "", f"all: {ws}"]
        for i in range(1, n + 1):
            L += [f"w{i}:", "\tsleep 0.1"]
    else:
        # fanout; failx: the same, every 10th worker fails (make has no
        # hooks: the failing recipe reports itself, as in fail-at-10)
        ws = " ".join(f"w{i}" for i in range(1, n + 1))
        L += [".DEFAULT_GOAL := join", f".PHONY: src join {ws}", "",
              "src:", "\ttrue", f"join: {ws}", "\ttrue"]
        for i in range(1, n + 1):
            if shape == "failx" and i % 10 == 0:
                L += [f"w{i}: src",
                      '\t(exit 1) || { echo "on_failure $@" >> fail.log;'
                      ' exit 1; }']
            else:
                L += [f"w{i}: src", "\ttrue"]
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def gen_snakefile(path, shape, n):
    # Snakemake's hooks are run-level handlers (onsuccess / onerror); the
    # failing step is named by its log, which onerror reads.
    handlers = '''
onsuccess:
    shell("true")
onerror:
    import re
    names = re.findall(r"Error in rule (\\w+):", open(log).read())
    with open("fail.log", "a") as f:
        for name in names:
            f.write("on_failure " + name + "\\n")
'''
    if shape in ("sleep", "failx"):
        # sleep: N steps of `sleep 0.1`; failx: a source, N workers of
        # which every 10th fails, a join.  One wildcard rule for the
        # workers, as for the chain.
        body = ("sleep 0.1" if shape == "sleep" else
                "test $(( {wildcards.i} % 10 )) -ne 0")
        src = "" if shape == "sleep" else '''rule src:
    output: touch("out/src")
    shell: "true"
'''
        s = f'''N = {n}
rule all:
    input: {'expand("out/w/{i}", i=range(1, N + 1))' if shape == "sleep"
            else '"out/join"'}
{src}rule w:{'' if shape == "sleep" else chr(10) + '    input: "out/src"'}
    output: touch("out/w/{{i}}")
    shell: "{body}"
'''
        if shape == "failx":
            s += '''rule join:
    input: expand("out/w/{i}", i=range(1, N + 1))
    output: touch("out/join")
    shell: "true"
'''
    elif shape in ("chain", "fail"):
        s = f'''N = {n}
rule all:
    input: f"out/s{{N}}"
rule first:
    output: "out/s1"
    shell: "echo 1 > {{output}}"
rule step:
    input: lambda w: f"out/s{{int(w.i) - 1}}"
    output: "out/s{{i}}"
    shell: "read v < {{input}}; echo $((v+1)) > {{output}}"
'''
        if shape == "fail":
            s += f'''rule s{FAIL_K}:
    input: "out/s{FAIL_K - 1}"
    output: "out/s{FAIL_K}"
    shell: "exit 1"
ruleorder: s{FAIL_K} > first > step
'''
        else:
            s += "ruleorder: first > step\n"
    else:
        # A Snakemake step needs an output file: touch() makes Snakemake
        # create it; the command is `true` as for the others.
        s = f'''N = {n}
rule all:
    input: "out/join"
rule src:
    output: touch("out/src")
    shell: "true"
rule w:
    input: "out/src"
    output: touch("out/w/{{i}}")
    shell: "true"
rule join:
    input: expand("out/w/{{i}}", i=range(1, N + 1))
    output: touch("out/join")
    shell: "true"
'''
    with open(path, "w") as f:
        f.write(s + handlers)


def q(s):
    """A YAML single-quoted scalar."""
    return "'" + s.replace("'", "''") + "'"


def gen_yaml(path, shape, n, real=False):
    """The YAML pipeline of a workload.  real: the realistic one, no
    per-step hook, a pipeline-level `on_failure: alerter_failure_hook`
    (the default failure hook of every step, posting through the active
    stack's alerter)."""
    hook = '    on_success: {run: ["true"]}'
    L = [f"name: bench_yaml_{shape}"]
    if real:
        L = [f"name: bench_real_{shape}",
             "on_failure: alerter_failure_hook"]
        if shape in ("sleep", "failx"):
            L.append("steps:")
        if shape == "sleep":
            for i in range(1, n + 1):
                L += [f"  - name: w{i}", '    run: ["sleep", "0.1"]']
        elif shape == "failx":
            L += ["  - name: src", '    run: ["true"]']
            for i in range(1, n + 1):
                L += [f"  - name: w{i}", "    after: [src]",
                      '    run: ["false"]' if i % 10 == 0 else
                      '    run: ["true"]']
            ws = ", ".join(f"w{i}" for i in range(1, n + 1))
            L += ["  - name: join", f"    after: [{ws}]", '    run: ["true"]']
        if shape in ("sleep", "failx"):
            with open(path, "w") as f:
                f.write("\n".join(L) + "\n")
            return
        hook = None
    if shape == "fail":
        L.append("on_failure: {run: " +
                 q('echo "on_failure $ZENC_STEP_NAME" >> fail.log') + "}")
    L.append("steps:")
    if shape in ("chain", "fail"):
        for i in range(1, n + 1):
            L.append(f"  - name: s{i}")
            if i > 1:
                L.append(f"    inputs: {{x: s{i-1}.x}}")
            if shape == "fail" and i == FAIL_K:
                cmd = "exit 1"
            elif i == 1:
                cmd = CHAIN_FIRST.format(out='"$ZENC_OUTPUT_DIR/x"')
            else:
                cmd = CHAIN_NEXT.format(inp='"$ZENC_INPUT_X"',
                                        out='"$ZENC_OUTPUT_DIR/x"')
            L += [f"    run: {q(cmd)}", "    outputs: {x: int}", hook]
    else:
        L += ["  - name: src", '    run: ["true"]', hook]
        for i in range(1, n + 1):
            L += [f"  - name: w{i}", "    after: [src]",
                  '    run: ["true"]', hook]
        ws = ", ".join(f"w{i}" for i in range(1, n + 1))
        L += ["  - name: join", f"    after: [{ws}]", '    run: ["true"]',
              hook]
    with open(path, "w") as f:
        f.write("\n".join(x for x in L if x is not None) + "\n")

# ------------------------------------------------------------ contenders

CONTENDERS = [
    # key, label
    ("c_proc", "zenc C, isolation process"),
    ("c_proc_nz", "zenc C, isolation process, no zygote"),
    ("c_none", "zenc C, isolation none"),
    ("yaml", "zenc YAML (`zenc run`), isolation process"),
    ("yaml_none", "zenc YAML (`zenc run`), isolation none"),
    ("yaml_real", "zenc YAML realistic (alerter on_failure, default "
     "isolation)"),
    ("make", "GNU make"),
    ("smk", "Snakemake"),
    ("f_exec", "floor: fork+exec+wait /bin/true"),
    ("f_fork", "floor: fork+wait"),
    ("f_sql", "floor: call + 1 SQLite tx (2 rows)"),
    ("f_forksql", "floor: fork+wait + 1 SQLite tx"),
    ("f_sqlfile", "floor: call + 1 SQLite tx + artifact file"),
    ("f_forksqlfile", "floor: fork+wait + 1 SQLite tx + artifact file"),
]
LABEL = dict(CONTENDERS)
ONLY = set(x for x in args.only.split(",") if x)


def wanted(key):
    return not ONLY or key in ONLY


def yaml_available():
    try:
        p = subprocess.run([ZENC, "run", "--help"], capture_output=True,
                           text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0 and "yaml" in (p.stdout + p.stderr).lower()


YAML_OK = yaml_available()
YAML_WHY = "" if YAML_OK else ("`zenc run` is not in this build "
                              "(`zenc run --help` failed)")


def fail_check(d, step):
    def f():
        p = os.path.join(d, "fail.log")
        text = open(p).read() if os.path.exists(p) else ""
        if f"on_failure {step}" not in text:
            return f"failure hook did not name {step}: {text.strip()!r}"
        os.remove(p)
        return None
    return f


# The webhook receiver of the realistic workloads (bench/receiver.py): a
# local HTTP server that answers 200 and logs one line per alert.  Only the
# failing workload sends alerts; the others have it there all the same.
RECEIVER = {}


def receiver_url():
    if not RECEIVER:
        d = os.path.join(WORK, "receiver")
        os.makedirs(d, exist_ok=True)
        port_file = os.path.join(d, "port")
        RECEIVER["log"] = os.path.join(d, "alerts.log")
        RECEIVER["proc"] = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "receiver.py"),
             port_file, RECEIVER["log"]], stdin=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        RECEIVER["url"] = f"http://127.0.0.1:{open(port_file).read()}/"
        log(f"webhook receiver (pid {RECEIVER['proc'].pid}) at "
            f"{RECEIVER['url']}")
    return RECEIVER["url"]


def receiver_stop():
    p = RECEIVER.get("proc")
    if p and p.poll() is None:
        p.terminate()
        p.wait()


atexit.register(receiver_stop)


def alerts_received():
    p = RECEIVER.get("log")
    return len(open(p).read().splitlines()) if p and os.path.exists(p) \
        else 0


def receiver_reset():
    p = RECEIVER.get("log")
    if p and os.path.exists(p):
        os.remove(p)


def real_stack(env):
    """The stack of the realistic workloads in env's ZENC_HOME: a webhook
    alerter posting to the local receiver, set active."""
    for cmd in (["alerter", "register", "bench_webhook", "--flavor",
                 "webhook", f"--url={receiver_url()}", "--timeout=5s"],
                ["stack", "register", "bench", "-al", "bench_webhook",
                 "--set"]):
        subprocess.run([ZENC] + cmd, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def zenc_case(key, shape, n, reps):
    d = os.path.join(WORK, f"{key}-{shape}-{n}")
    env = zenc_env(d)
    jobs = {"fanout": "2", "sleep": str(CORES), "failx": str(CORES)}.get(
        shape, "1")
    expect = 1 if shape in ("fail", "failx") else 0
    check = None
    setup = fresh(d)
    if key in ("c_proc", "c_proc_nz", "c_none"):
        iso = "none" if key == "c_none" else "process"
        if key == "c_proc_nz":
            # The engine's previous way: the orchestrator forks each
            # step itself (docs/hooks.md, "Who forks the child").
            env["ZENC_NO_ZYGOTE"] = "1"

        def cmd_for(m):
            return [C_PIPE, shape, str(m), "run", "-j", jobs,
                    "--isolation", iso, "--quiet"]
        if shape == "fail":
            env["BENCH_FAIL_LOG"] = os.path.join(d, "fail.log")
            env["BENCH_FAIL_AT"] = str(FAIL_K)
            check = fail_check(d, f"s{FAIL_K}")
        cmd, warm = cmd_for(n), cmd_for(2 if shape != "fail" else n)
    else:
        yml = os.path.join(d, "pipeline.yaml")
        wyml = os.path.join(d, "warm.yaml")

        real = key == "yaml_real"
        wn = {"fail": n, "failx": 10}.get(shape, 2)

        def setup():
            fresh(d)()
            gen_yaml(yml, shape, n, real)
            gen_yaml(wyml, shape, wn, real)
            if real:
                real_stack(env)
        if real:
            # default isolation (no --isolation), as a user runs it
            opts = ["-j", jobs, "--quiet"] + \
                (["--keep-going"] if shape == "failx" else [])
        else:
            opts = ["-j", jobs, "--isolation",
                    "none" if key == "yaml_none" else "process", "--quiet"]
        cmd = [ZENC, "run", yml] + opts
        warm = [ZENC, "run", wyml] + opts
        if shape == "fail":
            check = fail_check(d, f"s{FAIL_K}")
        if shape == "failx":
            def check():
                got = alerts_received()
                if got != n // 10:
                    return (f"the receiver got {got} alerts, expected "
                            f"{n // 10}")
                return None

    def prep():
        p = os.path.join(d, "fail.log")
        if os.path.exists(p):
            os.remove(p)
        receiver_reset()
    return Case(key, shape, n, cmd, d, env=env, reps=reps, expect=expect,
                setup=setup, prepare=prep, check=check, warm=warm)


def make_case(shape, n, reps):
    d = os.path.join(WORK, f"make-{shape}-{n}")
    mk = os.path.join(d, "Makefile")
    jobs = {"fanout": "2", "sleep": str(CORES), "failx": str(CORES)}.get(
        shape, "1")

    def setup():
        fresh(d)()
        gen_makefile(mk, shape, n)

    def prep():
        shutil.rmtree(os.path.join(d, "out"), ignore_errors=True)
        os.makedirs(os.path.join(d, "out"))
        p = os.path.join(d, "fail.log")
        if os.path.exists(p):
            os.remove(p)
    check = fail_check(d, f"out/s{FAIL_K}") if shape == "fail" else None
    if shape == "failx":
        def check():
            p = os.path.join(d, "fail.log")
            got = len(open(p).read().splitlines()) if os.path.exists(p) \
                else 0
            if got != n // 10:
                return f"{got} failing recipes reported, expected {n // 10}"
            return None
    return Case("make", shape, n, [MAKE, "-s", "-r", "-R", "-j", jobs] +
                (["-k"] if shape == "failx" else []), d,
                reps=reps, expect=2 if shape in ("fail", "failx") else 0,
                setup=setup, prepare=prep, check=check)


def smk_case(shape, n, reps):
    d = os.path.join(WORK, f"smk-{shape}-{n}")
    sf = os.path.join(d, "Snakefile")
    cores = {"fanout": "2", "sleep": str(CORES), "failx": str(CORES)}.get(
        shape, "1")

    def setup():
        fresh(d)()
        gen_snakefile(sf, shape, n)

    def prep():
        for x in ("out", ".snakemake"):
            shutil.rmtree(os.path.join(d, x), ignore_errors=True)
        p = os.path.join(d, "fail.log")
        if os.path.exists(p):
            os.remove(p)
    check = fail_check(d, f"s{FAIL_K}") if shape == "fail" else None
    if shape == "failx":
        def check():
            p = os.path.join(d, "fail.log")
            got = len(open(p).read().splitlines()) if os.path.exists(p) \
                else 0
            if got != n // 10:
                return (f"onerror named {got} failed jobs, expected "
                        f"{n // 10}")
            return None
    env = base_env()
    env["PATH"] = "/usr/bin:/bin"
    return Case("smk", shape, n,
                [SNAKEMAKE, "--snakefile", sf, "--cores", cores, "--quiet"]
                + (["--keep-going"] if shape == "failx" else []),
                d, env=env, reps=reps,
                expect=1 if shape in ("fail", "failx") else 0,
                setup=setup, prepare=prep, check=check)


def floor_case(key, n, reps):
    d = os.path.join(WORK, f"{key}-{n}")
    mode = {"f_exec": "forkexec", "f_fork": "fork", "f_sql": "sqlite",
            "f_forksql": "fork+sqlite", "f_sqlfile": "sqlite+file",
            "f_forksqlfile": "fork+sqlite+file"}[key]
    db = os.path.join(d, "floor.db")

    # like zenc's store, the database is created by an untimed first run
    # and then kept: every run appends to it
    return Case(key, "loop", n, [FLOOR, mode, str(n), db], d, reps=reps,
                setup=fresh(d), warm=[FLOOR, mode, "2", db])

# -------------------------------------------------------------- running


def smk_fanout_s():
    """Snakemake's fan-out time at its largest N, from this run."""
    for m in sorted(SMK_REPS, reverse=True):
        r = find("smk", "fanout", m)
        if r and r.get("walls"):
            return f"{r['median_s']:.0f} s at N={m:,}"
    return "?"


T_START = time.time()
log(f"zenc: {ZENC}; YAML contender: "
    f"{'yes' if YAML_OK else 'skipped: ' + YAML_WHY}")

for n in SIZES:
    reps = REPS[n]
    log(f"N = {n} ({reps} runs each, round-robin)")
    cases = [floor_case(k, n, reps)
             for k in ("f_exec", "f_fork", "f_sql", "f_forksql",
                       "f_sqlfile", "f_forksqlfile")
             if wanted(k)]
    for shape in ("chain", "fanout"):
        for key in ("c_proc", "c_proc_nz", "c_none", "yaml", "yaml_none",
                    "yaml_real"):
            if not wanted(key):
                continue
            if key.startswith("yaml") and not YAML_OK:
                skipped(key, shape, n, YAML_WHY)
                continue
            cases.append(zenc_case(key, shape, n,
                                   YAML_REPS.get(n, reps)
                                   if key.startswith("yaml") else reps))
        if wanted("make"):
            cases.append(make_case(shape, n, reps))
        if wanted("smk"):
            if n in SMK_REPS:
                cases.append(smk_case(shape, n, SMK_REPS[n]))
            else:
                skipped("smk", shape, n, "capped: Snakemake's fan-out takes"
                        f" {smk_fanout_s()} and grows faster than N")
    measure_all(cases)

log(f"fail-at-{FAIL_K} (chain of {FAIL_N})")
cases = []
for key in ("c_proc", "c_none", "yaml", "yaml_none"):
    if not wanted(key):
        continue
    if key.startswith("yaml") and not YAML_OK:
        skipped(key, "fail", FAIL_N, YAML_WHY)
        continue
    cases.append(zenc_case(key, "fail", FAIL_N, FAIL_REPS))
if wanted("make"):
    cases.append(make_case("fail", FAIL_N, FAIL_REPS))
if wanted("smk"):
    cases.append(smk_case("fail", FAIL_N, 3 if not args.quick else 1))
measure_all(cases)

# The sleeping fan-out: SLEEP_N independent steps of `sleep 0.1` at -j
# cores; the ideal wall time is ceil(N / cores) * 0.1 s.
SLEEP_IDEAL = -(-SLEEP_N // CORES) * 0.1
if YAML_OK and wanted("yaml_real"):
    log(f"sleep-fanout: {SLEEP_N} steps of sleep 0.1 at -j {CORES} "
        f"(ideal {SLEEP_IDEAL:.1f} s)")
    cases = [zenc_case("yaml_real", "sleep", SLEEP_N, SLEEP_REPS)]
    if wanted("make"):
        cases.append(make_case("sleep", SLEEP_N, SLEEP_REPS))
    if wanted("smk"):
        cases.append(smk_case("sleep", SLEEP_N, SMK_SLEEP_REPS))
    measure_all(cases)

# fail-every-10: a fan-out of N steps (plus a source and a join) where
# every 10th step fails, --keep-going / make -k, -j cores: N/10 failure
# hooks posting N/10 alerts, the join skipped.
if YAML_OK and wanted("yaml_real"):
    for n, reps in FAILX.items():
        log(f"fail-every-10: fan-out of {n}, {n // 10} fail, --keep-going, "
            f"-j {CORES}")
        cases = [zenc_case("yaml_real", "failx", n, reps)]
        if wanted("make"):
            cases.append(make_case("failx", n, reps))
        if wanted("smk") and n in SMK_FAILX:
            cases.append(smk_case("failx", n, SMK_FAILX[n]))
        measure_all(cases)

# YAML loading: a realistic chain of LOAD_N steps, loaded and validated
# (yaml_load.c: zenc_yaml_pipeline_load + zenc_pipeline_validate, what
# `zenc run` does before it runs anything) and `zenc run --dry-run`.
load = {}
if YAML_OK and wanted("yaml_real") and os.path.exists(YAML_LOAD):
    log(f"YAML loading: {LOAD_N:,} steps, {LOAD_REPS} run(s) each")
    d = os.path.join(WORK, "yaml-load")
    fresh(d)()
    yml = os.path.join(d, "big.yaml")
    gen_yaml(yml, "chain", LOAD_N, real=True)
    load["file_mb"] = os.path.getsize(yml) / 2**20
    env = zenc_env(d)
    for what, cmd in (("load", [YAML_LOAD, yml]),
                      ("dry", [ZENC, "run", yml, "--dry-run"])):
        walls, rss, cpu = [], [], []
        for _ in range(LOAD_REPS):
            LOADS.append(loadavg())
            wall, rc, ru = spawn(cmd, env, d, what)
            if rc != 0:
                load[what + "_error"] = f"exit {rc}: " + open(os.path.join(
                    d, f".{what}.err"), errors="replace").read()[-300:]
                log(f"  {what}: FAILED ({load[what + '_error']})")
                break
            walls.append(wall)
            rss.append(ru.ru_maxrss / 1024.0)
            cpu.append(ru.ru_utime + ru.ru_stime)
        if walls:
            load[what] = {"median_s": statistics.median(walls),
                          "walls": walls, "peak_mb": max(rss),
                          "cpu_s": statistics.median(cpu)}
            log(f"  {what}: {load[what]['median_s']:.3f} s (median of "
                f"{len(walls)}), peak {max(rss):.1f} MB")
elif YAML_OK and wanted("yaml_real"):
    load["load_error"] = f"{YAML_LOAD} is missing (bench/run.sh builds it)"

# Hook cost: the same isolation-none chain with 0, 1 and 11 success hooks
# per step; (t11 - t1) / 10 is the cost of one more hook, recording included.
HOOK_N = 1000 if not args.quick else 100
hook_runs = {}
if wanted("c_none"):
    log(f"hook cost: isolation none, chain-{HOOK_N}, 0 / 1 / 11 hooks a step")
    cases = []
    for h in (0, 1, 11):
        c = zenc_case("c_none", "chain", HOOK_N, 9)
        c.key = f"c_none_h{h}"
        c.cwd = os.path.join(WORK, f"hooks-{h}")
        c.env.update(zenc_env(c.cwd))
        c.env["BENCH_HOOKS"] = str(h)
        c.setup = fresh(c.cwd)
        cases.append(c)
    for h, r in zip((0, 1, 11), measure_all(cases)):
        hook_runs[h] = r

# ---------------------------------------------------- the runs store

store = {}
if wanted("store"):
    log(f"store: {STORE_RUNS} recorded runs")
    d = os.path.join(WORK, "store")
    fresh(d)()
    env = zenc_env(d)
    subprocess.run([C_PIPE, "chain", "5", "run", "-j", "1", "--quiet"],
                   env=env, check=True, cwd=d)
    runs = json.loads(run_capture([ZENC, "runs", "list", "--json"],
                                  env=env))
    tid = runs[0]["id"]
    t0 = time.perf_counter()
    mid = run_capture([POPULATE, os.path.join(d, "data", "zenc.db"), tid,
                       str(STORE_RUNS)])
    log(f"  populated in {time.perf_counter() - t0:.1f} s; show {mid}")
    nlines = len(run_capture([ZENC, "runs", "list"], env=env).splitlines())
    store["lines"] = nlines
    store["db_mb"] = os.path.getsize(os.path.join(d, "data", "zenc.db")) / \
        2**20
    cmds = [("zenc runs list", f"{ZENC} runs list"),
            ("zenc runs list --limit 50", f"{ZENC} runs list --limit 50"),
            ("zenc runs list --json", f"{ZENC} runs list --json"),
            ("zenc runs show RUN (5 steps)", f"{ZENC} runs show {mid}"),
            ("zenc runs show RUN-PREFIX", f"{ZENC} runs show {mid[:8]}")]
    hj = os.path.join(d, "hyperfine.json")
    hcmd = ["hyperfine", "-N", "--warmup", "2", "--runs", "10",
            "--export-json", hj, "--style", "basic"]
    for _, c in cmds:
        hcmd.append(c)
    p = subprocess.run(hcmd, env=env, cwd=d, capture_output=True, text=True)
    if p.returncode == 0:
        data = json.load(open(hj))["results"]
        store["rows"] = [(label, res["median"] * 1e3, res["min"] * 1e3,
                          res["max"] * 1e3)
                         for (label, _), res in zip(cmds, data)]
        for label, med, lo, hi in store["rows"]:
            log(f"  {label}: median {med:.1f} ms")
    else:
        store["error"] = (p.stderr or p.stdout)[-500:]
        log("  hyperfine failed: " + store["error"])
    # Peak memory of the full listing.
    _, _, ru = spawn([ZENC, "runs", "list"], env, d, "list")
    store["list_peak_mb"] = ru.ru_maxrss / 1024.0

# ------------------------------------------------------------- verdicts


def ps(key, shape, n):
    r = find(key, shape, n)
    return r.get("per_step_ms") if r and r.get("ok") else None


def ratio(a, b):
    return a / b if a is not None and b is not None and b > 0 else None


TARGETS = []   # (target, measured text, met: True/False/None)


def target(text, measured, met):
    TARGETS.append((text, measured, met))


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


for n in SIZES:
    fe, ff, fsql, ffs = (ps("f_exec", "loop", n), ps("f_fork", "loop", n),
                         ps("f_sql", "loop", n), ps("f_forksql", "loop", n))
    for shape in ("chain", "fanout"):
        w = f"{shape}-{n}"
        mk, sm = ps("make", shape, n), ps("smk", shape, n)
        cp, cn = ps("c_proc", shape, n), ps("c_none", shape, n)
        for yk, yl in (("yaml", "YAML"), ("yaml_none", "YAML none")):
            y = ps(yk, shape, n)
            r = ratio(y, mk)
            target(f"{yl} ≤ make ({w})", f"{yl} / make = {fmt_ratio(r)}",
                   None if r is None else r <= 1.0)
            r = ratio(y, fe)
            target(f"{yl} ≤ 1.3x fork+exec+wait ({w})",
                   f"{yl} / fork+exec = {fmt_ratio(r)}",
                   None if r is None else r <= 1.3)
            r = ratio(sm, y)
            if r is not None:
                target(f"{yl} ≥ 20x below Snakemake ({w})",
                       f"Snakemake / {yl} = {fmt_ratio(r)}", r >= 20)
        r = ratio(cp, ffs)
        target(f"C process ≤ 2x (fork+wait + SQLite tx) ({w})",
               f"C process / floor = {fmt_ratio(r)}"
               + (f" (vs sum of the two floors: "
                  f"{fmt_ratio(ratio(cp, (ff or 0) + (fsql or 0)))})"
                  if ff and fsql else ""),
               None if r is None else r <= 2)
        r = ratio(cn, fsql)
        target(f"C none ≤ 2x SQLite tx ({w})",
               f"C none / floor = {fmt_ratio(r)}",
               None if r is None else r <= 2)

hook_cost_us = None
if hook_runs.get(1, {}).get("ok") and hook_runs.get(11, {}).get("ok"):
    hook_cost_us = (hook_runs[11]["median_s"] - hook_runs[1]["median_s"]) \
        / 10 / HOOK_N * 1e6
    hook_cost_min_us = (hook_runs[11]["min_s"] - hook_runs[1]["min_s"]) \
        / 10 / HOOK_N * 1e6
    both = (hook_cost_us, hook_cost_min_us)
    target("hook dispatch < 1 µs (C none)",
           f"{hook_cost_us:.2f} µs (medians) / {hook_cost_min_us:.2f} µs "
           "(fastest runs) per extra hook, its record row included",
           None if min(both) < 0 else max(both) < 1.0)

big, small = SIZES[-1], SIZES[0]
growth = {}
for key in ("c_proc", "c_proc_nz", "c_none", "yaml", "yaml_none",
            "yaml_real", "make", "smk"):
    for shape in ("chain", "fanout"):
        g = ratio(ps(key, shape, big), ps(key, shape, small))
        growth[(key, shape)] = g
        if key in ("c_proc", "c_none", "yaml", "yaml_none", "yaml_real"):
            target(f"scale: {LABEL[key]} {shape}-{big} ≤ 1.2x {shape}-"
                   f"{small} per step", f"{fmt_ratio(g)}",
                   None if g is None else g <= 1.2)
for key in ("c_proc", "c_none", "yaml", "yaml_none", "yaml_real"):
    for shape in ("chain", "fanout"):
        r = find(key, shape, big)
        if r and r.get("ok"):
            target(f"memory < 100 MB: {LABEL[key]} {shape}-{big}",
                   f"{r['peak_mb']:.1f} MB", r["peak_mb"] < 100)
if store.get("rows"):
    med = store["rows"][0][1]
    target(f"`zenc runs list` over {STORE_RUNS:,} runs < 100 ms",
           f"{med:.1f} ms (all {store['lines'] - 1:,} runs printed)",
           med < 100)

# The targets of the realistic workload, each with its measure (medians,
# default isolation, ratios within this run).
ITARGETS = []   # (target, measured text, met: True/False/None)


def itarget(text, measured, met):
    ITARGETS.append((text, measured, met))


for n in (100, 1000):
    r = ratio(ps("yaml_real", "chain", n), ps("make", "chain", n))
    itarget(f"realistic YAML chain-{n} ≤ make per step",
            "not run" if r is None else f"realistic YAML / make = "
            f"{fmt_ratio(r)}", None if r is None else r <= 1.0)
for n in SIZES:
    r = ratio(ps("yaml_real", "fanout", n), ps("make", "fanout", n))
    itarget(f"realistic YAML fanout-{n} within 1.2x of make",
            "not run" if r is None else f"realistic YAML / make = "
            f"{fmt_ratio(r)}", None if r is None else r <= 1.2)
r = find("yaml_real", "sleep", SLEEP_N)
if r and r.get("ok"):
    x = r["median_s"] / SLEEP_IDEAL
    itarget(f"sleeping fan-out ({SLEEP_N} × sleep 0.1, -j {CORES}) within "
            "5% of ideal wall time",
            f"{r['median_s']:.3f} s against ideal {SLEEP_IDEAL:.1f} s = "
            f"{fmt_ratio(x)}", x <= 1.05)
else:
    itarget("sleeping fan-out within 5% of ideal wall time", "not run",
            None)


def worst(key, floor, limit):
    """Ratios of key to floor on every chain/fan-out workload: (text,
    met)."""
    parts, oks = [], []
    for n in SIZES:
        for shape in ("chain", "fanout"):
            x = ratio(ps(key, shape, n), ps(floor, "loop", n))
            if x is not None:
                parts.append(f"{shape}-{n} {fmt_ratio(x)}")
                oks.append(x <= limit)
    return ("; ".join(parts) or "not run"), (all(oks) if oks else None)


t, ok = worst("c_proc", "f_forksql", 2)
itarget("C process within 2x of fork+wait + 1 SQLite tx", t, ok)
t, ok = worst("c_none", "f_sqlfile", 2)
itarget("C none within 2x of 1 SQLite tx + the artifact file", t, ok)
if load.get("load"):
    m = load["load"]
    itarget(f"YAML loading: {LOAD_N:,} steps loaded and validated in < 2 s",
            f"{m['median_s']:.3f} s wall ({m['cpu_s']:.3f} s CPU)",
            m["median_s"] < 2)
    itarget(f"YAML loading: {LOAD_N:,} steps in < 500 MB",
            f"{m['peak_mb']:.1f} MB peak (load and validate)"
            + (f"; {load['dry']['peak_mb']:.1f} MB for --dry-run"
               if load.get("dry") else ""), m["peak_mb"] < 500)
else:
    itarget(f"YAML loading: {LOAD_N:,} steps in < 2 s and < 500 MB",
            load.get("load_error", "not run"), None)
if load.get("dry"):
    m = load["dry"]
    itarget(f"`zenc run --dry-run` of {LOAD_N:,} steps < 3 s",
            f"{m['median_s']:.3f} s wall ({m['cpu_s']:.3f} s CPU)",
            m["median_s"] < 3)
else:
    itarget(f"`zenc run --dry-run` of {LOAD_N:,} steps < 3 s",
            load.get("dry_error", "not run"), None)

# --------------------------------------------------------------- profile

profiles = []


def misses(key):
    def about(t):
        if LABEL[key] in t:
            return True
        return {"c_proc": t.startswith("C process"),
                "c_none": t.startswith(("C none", "hook")),
                "yaml": t.startswith(("YAML ≤", "YAML ≥")),
                "yaml_none": t.startswith("YAML none"),
                "yaml_real": t.startswith(("realistic", "sleeping"))}[key]
    return any(m is False and about(t) for (t, _, m) in TARGETS + ITARGETS)


SKIP = re.compile(r"below main|libc_start|ld-linux-x86-64.so.2\]$|"
                  r"c_pipe.c:main|^\?\?\?:main |_dl_start|_start ")


def annotate(path, inclusive, top):
    """Top functions of a callgrind file: (total Ir, [(share %, name)])."""
    out = run_capture(["callgrind_annotate",
                       f"--inclusive={'yes' if inclusive else 'no'}",
                       "--threshold=100", path])
    total, rows = None, []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S.*?)\s*$",
                     line)
        if not m:
            continue
        if "PROGRAM TOTALS" in m.group(3):
            total = int(m.group(1).replace(",", ""))
            continue
        name = m.group(3)
        if inclusive and SKIP.search(name):
            continue
        # "file:function [object]" -> "function [object basename]"; with
        # -g, callgrind_annotate lists a function under both spellings
        fn = re.sub(r"\s*\[.*\]$", "", name)
        fn = fn.rsplit(":", 1)[-1] if ":" in fn else fn
        obj = re.search(r"\[(.*)\]$", name)
        if any(f == fn for _, f, _ in rows):
            continue
        rows.append((m.group(2), fn,
                     os.path.basename(obj.group(1)) if obj else ""))
    return total, [(pct, f"{fn} ({obj})" if obj else fn)
                   for pct, fn, obj in rows[:top]]


PROF = args.prof_build or args.zenc_build
if not args.no_profile and shutil.which("valgrind"):
    todo = [k for k in ("c_proc", "c_none", "yaml", "yaml_none", "yaml_real")
            if wanted(k) and misses(k) and (YAML_OK or "yaml" not in k)]
    for key in todo:
        log(f"profile: {key} chain-{PROFILE_N} under callgrind")
        d = os.path.join(WORK, f"prof-{key}")
        fresh(d)()
        env = zenc_env(d)
        pz = os.path.join(PROF, "zenc")
        pc = os.path.join(PROF, "bench-bin", "c_pipe")
        if key == "yaml_real":
            gen_yaml(os.path.join(d, "p.yaml"), "chain", PROFILE_N, True)
            real_stack(env)
            target_cmd = [pz, "run", os.path.join(d, "p.yaml"), "-j", "1",
                          "--quiet"]
        elif key.startswith("yaml"):
            gen_yaml(os.path.join(d, "p.yaml"), "chain", PROFILE_N)
            target_cmd = [pz, "run", os.path.join(d, "p.yaml"), "-j", "1",
                          "--isolation",
                          "none" if key == "yaml_none" else "process",
                          "--quiet"]
        else:
            target_cmd = [pc, "chain", str(PROFILE_N), "run", "-j", "1",
                          "--isolation",
                          "process" if key == "c_proc" else "none",
                          "--quiet"]
        # a first run creates the store, so the profile is a steady run
        subprocess.run(target_cmd, env=env, cwd=d, capture_output=True)
        cmd = ["valgrind", "--tool=callgrind", "--trace-children=no",
               f"--callgrind-out-file={d}/cg.%p"] + target_cmd
        # valgrind runs as the process started here, so the parent's file
        # is cg.<that pid>; sorting by pid would not do, pids wrap.
        p = subprocess.Popen(cmd, env=env, cwd=d, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        _, err = p.communicate()
        parent = os.path.join(d, f"cg.{p.pid}")
        # children whose file is empty exec'd (a command) or were killed
        # before callgrind wrote it
        files = [os.path.join(d, f) for f in os.listdir(d)
                 if f.startswith("cg.")
                 and os.path.getsize(os.path.join(d, f)) > 0]
        if not os.path.exists(parent) or not os.path.getsize(parent):
            profiles.append((key, None, [], "callgrind wrote nothing: " +
                             err[-300:]))
            continue
        prof = {"key": key, "n_files": len(files),
                "incl": annotate(parent, True, 22),
                "self": annotate(parent, False, 12), "child": None}
        if len(files) > 1:
            # A forked child's file holds its parent's costs up to the
            # fork too: profile the children again, collecting only inside
            # zenc__attempt_exec (the step and its hooks).
            d2 = os.path.join(d, "children")
            os.makedirs(d2)
            p2 = subprocess.Popen(["valgrind", "--tool=callgrind",
                                   "--toggle-collect=zenc__attempt_exec",
                                   f"--callgrind-out-file={d2}/cg.%p"] +
                                  target_cmd, env=env, cwd=d,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            p2.wait()
            kids = sorted(f for f in os.listdir(d2)
                          if f != f"cg.{p2.pid}"
                          and os.path.getsize(os.path.join(d2, f)) > 0)
            if kids:
                prof["child"] = annotate(os.path.join(d2, kids[len(kids) // 2]),
                                         True, 12)
        profiles.append(prof)
        shutil.copy(parent, os.path.join(WORK, f"callgrind-{key}-parent"))

    # YAML loading: when its time target is missed, where loading spends
    # its instructions, on a smaller file of the same shape (loading is
    # linear in the steps, so the shares are those of the big file's).
    pl = os.path.join(PROF, "bench-bin", "yaml_load")
    if any(m is False and t.startswith(("YAML loading", "`zenc run"))
           for t, _, m in ITARGETS) and os.path.exists(pl):
        log(f"profile: loading a {PROFILE_LOAD_N:,}-step YAML file under "
            "callgrind")
        d = os.path.join(WORK, "prof-load")
        fresh(d)()
        yml = os.path.join(d, "p.yaml")
        gen_yaml(yml, "chain", PROFILE_LOAD_N, real=True)
        p = subprocess.Popen(["valgrind", "--tool=callgrind",
                              f"--callgrind-out-file={d}/cg.%p", pl, yml],
                             env=zenc_env(d), cwd=d,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        _, err = p.communicate()
        f = os.path.join(d, f"cg.{p.pid}")
        if os.path.exists(f) and os.path.getsize(f):
            profiles.append({"key": "load", "incl": annotate(f, True, 22),
                             "self": annotate(f, False, 12)})
        else:
            profiles.append(("load", None, [], "callgrind wrote nothing: "
                             + err[-300:]))

# ---------------------------------------------------------------- report


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def mem_total():
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    return "?"


def first_line(cmd):
    return (run_capture(cmd).splitlines() or ["?"])[0]


machine = {
    "date": datetime.datetime.now(datetime.timezone.utc)
    .strftime("%Y-%m-%d %H:%M UTC"),
    "nproc": run_capture(["nproc"]),
    "cpu": cpu_model(),
    "kernel": platform.release(),
    "memory": mem_total(),
    "os": run_capture(["sh", "-c", ". /etc/os-release; echo "
                       "$PRETTY_NAME"]),
    "fs": run_capture(["df", "--output=fstype", WORK]).split()[-1:],
    "zenc": run_capture([ZENC, "--version"]) + " (git " +
    run_capture(["git", "-C", os.path.join(HERE, ".."), "describe",
                 "--always", "--dirty"]) + ")",
    "make": first_line([MAKE, "--version"]),
    "snakemake": run_capture([SNAKEMAKE, "--version"]),
    "hyperfine": run_capture(["hyperfine", "--version"]),
    "sqlite": run_capture(["pkg-config", "--modversion", "sqlite3"]),
    "cc": first_line(["cc", "--version"]),
}

COLS = [k for k, _ in CONTENDERS if wanted(k)]


def cell(r, field, fmt):
    if r is None:
        return ""
    if r.get("skipped"):
        return "skipped¹" if r["key"].startswith("yaml") else "capped²"
    if not r.get("ok"):
        return "failed³" if not r.get("walls") else fmt.format(r[field]) + "³"
    return fmt.format(r[field])


out = []
w = out.append
w("# zenc benchmark results\n")
w(f"Written by `bench/run.sh`{' (--quick)' if args.quick else ''} on "
  f"{machine['date']}, in {(time.time() - T_START) / 60:.1f} min.\n")
w(f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), "
  f"{machine['memory']} RAM, kernel {machine['kernel']}, "
  f"{machine['os']}, work dir on {''.join(machine['fs'])}.  ")
w(f"Versions: {machine['zenc']}; {machine['make']}; Snakemake "
  f"{machine['snakemake']}; {machine['hyperfine']}; SQLite "
  f"{machine['sqlite']}; {machine['cc']}.\n")
if LOADS:
    w(f"Load average (1 min) sampled before each timed run: median "
      f"{statistics.median(LOADS):.2f}, max {max(LOADS):.2f} on "
      f"{machine['nproc']} CPUs (the benchmark's own running process "
      "counts for about 1 of it); contenders ran round-robin (run 1 of "
      "each, then run 2 of each, ...) so that any other load falls on all "
      "alike.\n")
w(f"Runs per case: " + ", ".join(f"N={n}: {REPS[n]}" for n in SIZES) +
  " (Snakemake: " + ", ".join(f"N={n}: {r}" for n, r in SMK_REPS.items())
  + "; zenc YAML: " + (", ".join(f"N={n}: {r}" for n, r in
                                  YAML_REPS.items()) or "as above")
  + ", a single run's figure where that is 1). Chains run with 1 job, "
  "fan-outs with 2.\n")

if wanted("yaml_real"):
    w("\n## Headline: a realistic YAML pipeline against GNU make\n")
    w("The realistic pipeline: the same generated steps as zenc YAML below "
      "(chain: `/bin/sh -c` lines reading and writing files; fan-out: "
      "`true`), no per-step hook, a pipeline-level `on_failure: "
      "alerter_failure_hook`, and a webhook alerter on the active stack "
      "(posting to a local receiver; nothing fails, so nothing is sent). "
      "`zenc run FILE -j J --quiet`, default isolation. Per step: median "
      "wall time / N. Ratio: realistic YAML ÷ make (≤ 1: zenc as fast or "
      "faster).\n")
    w("| workload | realistic YAML ms/step | GNU make ms/step | ratio to "
      "make | Snakemake ms/step | floor fork+exec+wait | floor fork+wait + "
      "1 SQLite tx | floor call + 1 SQLite tx + artifact file | realistic "
      "YAML peak MB | make peak MB |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in ("chain", "fanout"):
        for n in SIZES:
            y, mk = find("yaml_real", shape, n), find("make", shape, n)
            w(f"| {shape}-{n} | {cell(y, 'per_step_ms', '{:.3f}')} | "
              f"{cell(mk, 'per_step_ms', '{:.3f}')} | "
              f"{fmt_ratio(ratio(ps('yaml_real', shape, n), ps('make', shape, n)))} | "
              f"{cell(find('smk', shape, n), 'per_step_ms', '{:.3f}')} | "
              f"{cell(find('f_exec', 'loop', n), 'per_step_ms', '{:.3f}')} | "
              f"{cell(find('f_forksql', 'loop', n), 'per_step_ms', '{:.3f}')} | "
              f"{cell(find('f_sqlfile', 'loop', n), 'per_step_ms', '{:.3f}')} | "
              f"{cell(y, 'peak_mb', '{:.1f}')} | "
              f"{cell(mk, 'peak_mb', '{:.1f}')} |")
    w(f"\nChains run with 1 job, fan-outs with 2 (`-j 2`), for every "
      "contender.\n")

    r, mk = find("yaml_real", "sleep", SLEEP_N), find("make", "sleep", SLEEP_N)
    w(f"\n### Sleeping fan-out: {SLEEP_N} steps of `sleep 0.1`, -j {CORES}\n")
    w(f"Ideal wall time: ceil({SLEEP_N} / {CORES}) × 0.1 s = "
      f"{SLEEP_IDEAL:.1f} s (every core busy all the time, nothing else "
      "costs). Medians.\n")
    w("| contender | wall s | ratio to ideal | peak MB |")
    w("|---|---:|---:|---:|")
    for k, x in (("yaml_real", r), ("make", mk),
                 ("smk", find("smk", "sleep", SLEEP_N))):
        if x is None:
            continue
        w(f"| {LABEL[k]} | {cell(x, 'median_s', '{:.3f}')} | "
          + (fmt_ratio(x['median_s'] / SLEEP_IDEAL) if x.get("ok") else "")
          + f" | {cell(x, 'peak_mb', '{:.1f}')} |")

    w("\n### fail-every-10: a fan-out where every 10th step fails, "
      "--keep-going\n")
    w(f"A source, N workers, a join; workers 10, 20, ... fail (`false`), so "
      f"N/10 failure hooks each post an alert (written to the store's "
      f"outbox, sent to the local receiver), and the join is skipped. "
      f"`zenc run -k -j {CORES}` against `make -k -j {CORES}` (make has no "
      "hooks: each failing recipe appends its own line) and `snakemake "
      "--keep-going` (its `onerror` handler names each failed job from its "
      "log; run at the smaller N only). The check after every run: the "
      "receiver got N/10 alerts (make, Snakemake: N/10 lines). Medians.\n")
    w("| N | realistic YAML ms | ms/step | GNU make -k ms | ms/step | ratio "
      "to make | Snakemake ms | realistic YAML peak MB | check |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in FAILX:
        y, mk = find("yaml_real", "failx", n), find("make", "failx", n)
        sm = find("smk", "failx", n)
        if y is None:
            continue
        ms = (lambda x: f"{x['median_s'] * 1e3:.1f}" if x and x.get("walls")
              else cell(x, "x", ""))
        w(f"| {n:,} | {ms(y)} | {cell(y, 'per_step_ms', '{:.3f}')} | "
          f"{ms(mk)} | {cell(mk, 'per_step_ms', '{:.3f}')} | "
          f"{fmt_ratio(ratio(ps('yaml_real', 'failx', n), ps('make', 'failx', n)))} | "
          f"{ms(sm) if sm else ''} | "
          f"{cell(y, 'peak_mb', '{:.1f}')} | "
          + ("ok" if all(x is None or x.get("ok") for x in (y, mk, sm))
             else "FAILED: " + " ".join(x.get("note", "") for x in
                                         (y, mk, sm) if x))
          + " |")

    w(f"\n### YAML loading: {LOAD_N:,} steps\n")
    if load.get("load") or load.get("dry"):
        w(f"The realistic chain of {LOAD_N:,} steps ({load['file_mb']:.1f} "
          "MB of YAML). *Load and validate*: `bench/yaml_load.c`, "
          "`zenc_yaml_pipeline_load()` then `zenc_pipeline_validate()`, "
          "what `zenc run` does before it runs anything; *dry run*: `zenc "
          f"run FILE --dry-run` (the plan printed to a file). {LOAD_REPS} "
          "run(s) each, median wall time, CPU = user + sys.\n")
        w("| what | wall s | CPU s | peak MB |")
        w("|---|---:|---:|---:|")
        for what, label in (("load", "load and validate"),
                             ("dry", "`zenc run --dry-run`")):
            m = load.get(what)
            if m:
                w(f"| {label} | {m['median_s']:.3f} | {m['cpu_s']:.3f} | "
                  f"{m['peak_mb']:.1f} |")
            else:
                w(f"| {label} | failed: {load.get(what + '_error', '?')} "
                  "| | |")
    else:
        w(load.get("load_error", "not run") + "\n")

    w("\n## Targets of the realistic workload\n")
    w("Medians, default isolation, ratios within this run.\n")
    w("| target | measured | verdict |")
    w("|---|---|---|")
    for t, m, ok in ITARGETS:
        w(f"| {t} | {m} | {verdict(ok)} |")

w("\n## Per-step overhead (ms per step = median wall time / N)\n")
w("| workload | " + " | ".join(LABEL[k] for k in COLS) + " |")
w("|---|" + "---:|" * len(COLS))
for n in SIZES:
    for shape in ("chain", "fanout"):
        row = []
        for k in COLS:
            r = find(k, "loop" if k.startswith("f_") else shape, n)
            row.append(cell(r, "per_step_ms", "{:.3f}"))
        w(f"| {shape}-{n} | " + " | ".join(row) + " |")
w("\nThe floors are loops with no DAG; the same loop figure stands in the "
  "chain and fan-out rows of each N (they run one step at a time).\n")

w("\n## Ratio to zenc (per-step overhead of the contender ÷ zenc's)\n")
w("Above 1: the contender is slower than zenc; below 1: faster.\n")
ref_keys = [k for k in ("c_proc", "c_none", "yaml", "yaml_none",
                      "yaml_real") if wanted(k)]
w("| workload | vs | " + " | ".join(LABEL[k] for k in COLS) + " |")
w("|---|---|" + "---:|" * len(COLS))
for n in SIZES:
    for shape in ("chain", "fanout"):
        for ref in ref_keys:
            base = ps(ref, shape, n)
            if base is None:
                continue
            row = []
            for k in COLS:
                v = ps(k, "loop" if k.startswith("f_") else shape, n)
                row.append("" if k == ref else fmt_ratio(ratio(v, base))
                           if v else "")
            w(f"| {shape}-{n} | {LABEL[ref]} | " + " | ".join(row) + " |")

w("\n## Peak memory (MB, ru_maxrss = GNU time %M; largest over the runs)\n")
w("| workload | " + " | ".join(LABEL[k] for k in COLS) + " |")
w("|---|" + "---:|" * len(COLS))
for n in SIZES:
    for shape in ("chain", "fanout"):
        row = [cell(find(k, "loop" if k.startswith("f_") else shape, n),
                    "peak_mb", "{:.1f}") for k in COLS]
        w(f"| {shape}-{n} | " + " | ".join(row) + " |")

w("\n## CPU per step (ms: user + sys of the process and its children)\n")
w("| workload | " + " | ".join(LABEL[k] for k in COLS) + " |")
w("|---|" + "---:|" * len(COLS))
for n in SIZES:
    for shape in ("chain", "fanout"):
        row = []
        for k in COLS:
            r = find(k, "loop" if k.startswith("f_") else shape, n)
            row.append(f"{r['user_ms_step']:.3f} + {r['sys_ms_step']:.3f}"
                       if r and r.get("walls") else cell(r, "x", ""))
        w(f"| {shape}-{n} | " + " | ".join(row) + " |")

w(f"\n## fail-at-{FAIL_K}: chain of {FAIL_N}, step {FAIL_K} fails\n")
w("Total wall time (median); the check: after every run, the failure "
  "hook's line names the failed step.\n")
w("| contender | total ms | peak MB | failure hook ran and named the step |")
w("|---|---:|---:|---|")
for k in ("c_proc", "c_none", "yaml", "yaml_none", "make", "smk"):
    r = find(k, "fail", FAIL_N)
    if r is None:
        continue
    if r.get("skipped"):
        w(f"| {LABEL[k]} | skipped¹ | | |")
        continue
    how = {"make": "yes (make has no hooks: the failing recipe appends the "
           "line itself)",
           "smk": "yes (onerror handler, names the rule from Snakemake's "
           "log)"}.get(k, "yes (per-step on_failure hook)")
    w(f"| {LABEL[k]} | "
      + (f"{r['median_s'] * 1e3:.1f} | {r['peak_mb']:.1f} | "
         f"{how if r['ok'] else 'NO: ' + r['note']} |" if r.get("walls")
         else f"failed³ | | {r['note']} |"))

w(f"\n## Growth of per-step overhead from N={small} to N={big}\n")
w("| contender | chain | fan-out |")
w("|---|---:|---:|")
for key in ("c_proc", "c_none", "yaml", "yaml_none", "yaml_real", "make",
            "smk"):
    if wanted(key):
        w(f"| {LABEL[key]} | {fmt_ratio(growth[(key, 'chain')])} | "
          f"{fmt_ratio(growth[(key, 'fanout')])} |")
for key in ("f_exec", "f_fork", "f_sql", "f_forksql", "f_sqlfile",
            "f_forksqlfile"):
    if wanted(key):
        w(f"| {LABEL[key]} | {fmt_ratio(ratio(ps(key, 'loop', big), ps(key, 'loop', small)))} | |")

if hook_runs:
    w(f"\n## Cost of a hook (isolation none, chain-{HOOK_N})\n")
    w("| success hooks per step | ms per step |")
    w("|---:|---:|")
    for h, r in sorted(hook_runs.items()):
        w(f"| {h} | {cell(r, 'per_step_ms', '{:.4f}')} |")
    if hook_cost_us is not None:
        w(f"\nOne more hook costs {hook_cost_us:.2f} µs from the medians, "
          f"{hook_cost_min_us:.2f} µs from the fastest runs "
          "((11 hooks − 1 hook) / 10 / N): the call and its hook_runs row "
          "in the step's transaction, so an upper bound on dispatch alone. "
          "A negative figure means the difference is within the noise.\n")

if store:
    w(f"\n## The runs store with {STORE_RUNS:,} recorded runs\n")
    if store.get("rows"):
        w(f"Store: {store['db_mb']:.0f} MB SQLite file; each run a copy of "
          "a real 5-step zenc chain run (steps, attempts, artifacts, hook "
          "runs). hyperfine, 2 warm-ups, 10 runs, output to /dev/null.\n")
        w("| command | median ms | min | max |")
        w("|---|---:|---:|---:|")
        for label, med, lo, hi in store["rows"]:
            w(f"| `{label}` | {med:.1f} | {lo:.1f} | {hi:.1f} |")
        w(f"\nPeak memory of `zenc runs list`: "
          f"{store['list_peak_mb']:.1f} MB.\n")
    else:
        w("hyperfine failed: " + store.get("error", "?") + "\n")

w("\n## Speed targets\n")
w("| target | measured | verdict |")
w("|---|---|---|")
for t, m, ok in TARGETS:
    w(f"| {t} | {m} | {verdict(ok)} |")

if profiles:
    w("\n## Profiles (callgrind)\n")
    w("zenc for the profiles is built apart, as Release plus `-g "
      "-fno-inline` so that static functions keep their names; its "
      "instruction counts are a little higher than the timed build's.\n")
    w(f"Of each zenc contender that misses a target above, on chain-"
      f"{PROFILE_N} at -j 1, after an "
      "untimed first run created the store (and of loading a "
      f"{PROFILE_LOAD_N:,}-step YAML file when a loading target is "
      "missed). Instructions only (Ir): time "
      "in system calls and page faults is not in them (the CPU table above "
      "splits user and sys). Inclusive: the function and all it calls; "
      "process start-up frames left out.\n")

    def table(title, tr, steps=PROFILE_N):
        total, rows = tr
        w(f"\n{title}" + (f" — {total:,} Ir in all" + (
            f", {total / steps:,.0f} per step, start-up included"
            if steps > 1 else "")
            if total else "") + ":\n")
        w("| share | function |")
        w("|---:|---|")
        for pct, fn in rows:
            w(f"| {pct}% | `{fn}` |")
    for prof in profiles:
        if isinstance(prof, tuple):
            w(f"- {LABEL.get(prof[0], prof[0])}: {prof[3]}\n")
            continue
        if prof["key"] == "load":
            w(f"\n### Loading and validating a YAML file (`yaml_load`, the "
              f"realistic chain of {PROFILE_LOAD_N:,} steps)\n")
            table("Inclusive", prof["incl"], steps=PROFILE_LOAD_N)
            table("Self", prof["self"], steps=PROFILE_LOAD_N)
            continue
        w(f"\n### {LABEL[prof['key']]} ({prof['n_files']} processes "
          "profiled)\n")
        table("Orchestrating process, inclusive", prof["incl"])
        table("Orchestrating process, self", prof["self"])
        if prof["child"]:
            table("One step's child process, inside zenc__attempt_exec "
                  "(the step body and its hooks), inclusive", prof["child"],
                  steps=1)

w("\n---\n" + (f"¹ {YAML_WHY}.  " if YAML_WHY else "") + "² Snakemake capped: its fan-out "
  f"took {smk_fanout_s()} in this run and grows faster than N; N="
  "10,000 would take far longer than the whole benchmark's budget.  ³ the "
  "run failed; the note in results.json says why (Snakemake's chains "
  "beyond a few hundred steps stop with a RecursionError while building "
  "the DAG).\n")

with open(args.out, "w") as f:
    f.write("\n".join(out) + "\n")
with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
    json.dump({"machine": machine, "results": RESULTS, "store": store,
               "targets": TARGETS, "realistic_targets": ITARGETS,
               "yaml_loading": load, "sleep_ideal_s": SLEEP_IDEAL, "profiles": [p for p in profiles
                                                if isinstance(p, dict)]},
              f, indent=1, default=str)
log(f"wrote {args.out} in {(time.time() - T_START) / 60:.1f} min")
