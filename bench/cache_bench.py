#!/usr/bin/python3
"""The step cache's bench case (bench/README.md, "The step cache").

Two ratios, each of the medians of repetitions on fresh stores:

- cached / uncached, chain-1000: `c_pipe chain 1000 run -q` on an empty
  store (every step misses the cache and executes) against the same
  command run again right after (every step is taken from the cache).
  Target: at most 0.1.
- lookup / --no-cache, chain-100: `c_pipe chain 100 run -q` on an empty
  store (keys computed, every lookup misses, every step executes) against
  `c_pipe chain 100 run -q --no-cache` on an empty store (keys computed
  and recorded, no lookup).  Target: at most 1.05.

Writes a markdown section to --out (appended with --append) and the
figures as JSON next to it.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True, help="c_pipe and runner")
ap.add_argument("--work", required=True, help="scratch dir (wiped)")
ap.add_argument("--out", required=True)
ap.add_argument("--append", action="store_true")
ap.add_argument("--quick", action="store_true")
ap.add_argument("--zenc", default="", help="the zenc command, to check "
                "that the second run's steps are all cached")
args = ap.parse_args()

C_PIPE = os.path.join(args.bin, "c_pipe")
RUNNER = os.path.join(args.bin, "runner")
# chain-100 is cheap and its two figures are close: more repetitions.
REPS = 3 if args.quick else 5
REPS_100 = 5 if args.quick else 21


def env_for(d):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENC_")}
    env.update({"LC_ALL": "C", "NO_COLOR": "1", "TZ": "UTC",
                "ZENC_HOME": os.path.join(d, "home"),
                "ZENC_DATA": os.path.join(d, "data")})
    return env


def fresh(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return env_for(d)


def timed(cmd, env, d, tag):
    """Wall seconds of cmd, under runner.c, with its CPU seconds (user +
    sys, children included) in CPU; it must exit 0."""
    rep = os.path.join(d, f".{tag}.report")
    subprocess.run([RUNNER, rep, os.path.join(d, f".{tag}.out"),
                    os.path.join(d, f".{tag}.err")] + cmd, env=env, cwd=d,
                   check=True)
    wall, _rss, user, sys_, code = open(rep).read().split()
    if int(code) != 0:
        raise SystemExit(f"cache_bench: {' '.join(cmd)} exited {code}")
    CPU.setdefault(tag, []).append(float(user) + float(sys_))
    return float(wall)


CPU = {}


def loadavg():
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except OSError:
        return 0.0


def statuses(env, d):
    """The statuses of the last run's steps, counted."""
    zenc = args.zenc
    if not zenc:
        return None
    out = subprocess.run([zenc, "runs", "list", "--json"], env=env, cwd=d,
                         check=True, capture_output=True, text=True).stdout
    rid = json.loads(out)[0]["id"]
    out = subprocess.run([zenc, "runs", "show", rid, "--json"], env=env,
                         cwd=d, check=True, capture_output=True,
                         text=True).stdout
    counts = {}
    for s in json.loads(out)["steps"]:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    return counts


os.makedirs(args.work, exist_ok=True)
d = os.path.join(args.work, "w")
cold, warm, lookup, nocache = [], [], [], []
loads = []
for i in range(max(REPS, REPS_100)):
    loads.append(loadavg())
    env = fresh(d)
    cmd = [C_PIPE, "chain", "1000", "run", "-q"]
    if i < REPS:
        cold.append(timed(cmd, env, d, "cold"))
        warm.append(timed(cmd, env, d, "warm"))
    if i == 0:
        cached_counts = statuses(env, d)
        if cached_counts is not None and cached_counts != {"cached": 1000}:
            raise SystemExit(f"cache_bench: the second run was not fully "
                             f"cached: {cached_counts}")
    # Alternate which of the two chain-100 variants goes first.
    order = [("lookup", []), ("nocache", ["--no-cache"])]
    if i % 2:
        order.reverse()
    for name, extra in order:
        env = fresh(d)
        t = timed([C_PIPE, "chain", "100", "run", "-q"] + extra, env, d,
                  name)
        (lookup if name == "lookup" else nocache).append(t)

med = statistics.median
r_cached = med(warm) / med(cold)
r_lookup = med(lookup) / med(nocache)
c_cached = med(CPU["warm"]) / med(CPU["cold"])
c_lookup = med(CPU["lookup"]) / med(CPU["nocache"])
fig = {
    "reps_chain1000": REPS,
    "reps_chain100": REPS_100,
    "chain1000_uncached_s": med(cold), "chain1000_cached_s": med(warm),
    "cached_over_uncached": r_cached,
    "chain100_lookup_s": med(lookup), "chain100_no_cache_s": med(nocache),
    "lookup_over_no_cache": r_lookup,
    "cpu_cached_over_uncached": c_cached,
    "cpu_lookup_over_no_cache": c_lookup,
    "load_averages": loads,
    "cached_run_statuses": cached_counts,
}
lines = [
    "## The step cache",
    "",
    f"Medians of {REPS} (chain-1000) and {REPS_100} (chain-100) "
    "alternating repetitions, each on a fresh store "
    "(`bench/cache_bench.py`; C chain, `c_pipe chain N run -q`); wall "
    "time, and CPU time (user + sys, children included), which a loaded "
    f"machine disturbs less. Load average during the runs: "
    f"{min(loads):.1f} to {max(loads):.1f}.",
    "",
    "| case | wall | CPU | wall ratio | CPU ratio | target (wall) |",
    "|---|---|---|---|---|---|",
    f"| chain-1000, uncached (every lookup misses) | {med(cold):.3f} s | "
    f"{med(CPU['cold']):.3f} s | | | |",
    f"| chain-1000, fully cached (second run) | {med(warm):.3f} s | "
    f"{med(CPU['warm']):.3f} s | {r_cached:.3f} | {c_cached:.3f} | "
    f"at most 0.1 ({'met' if r_cached <= 0.1 else 'missed'}) |",
    f"| chain-100, `--no-cache` (keys recorded, no lookup) | "
    f"{med(nocache):.3f} s | {med(CPU['nocache']):.3f} s | | | |",
    f"| chain-100, cache lookups (all miss) | {med(lookup):.3f} s | "
    f"{med(CPU['lookup']):.3f} s | {r_lookup:.3f} | {c_lookup:.3f} | "
    f"at most 1.05 ({'met' if r_lookup <= 1.05 else 'missed'}) |",
    "",
]
with open(args.out, "a" if args.append else "w") as f:
    f.write(("\n" if args.append else "") + "\n".join(lines))
base = os.path.splitext(args.out)[0]
with open(base + (".json" if base.endswith("-cache") else "-cache.json"),
          "w") as f:
    json.dump(fig, f, indent=1, sort_keys=True)
print("\n".join(lines))
