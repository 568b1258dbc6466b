#!/usr/bin/env python3
"""Run several webhooks through run.sh in one session, interleaved, and compare them.

    python3 benchmarks/harness/compare.py [--reps 3] [--seconds 10] [--workers 2] \\
        ceiling=baseline_app:app@/static  mine=my_pkg.app:create_app()@/sms/inbound

Each spec is LABEL=MODULE:APP@PATH. Round r runs every spec once, in the order given,
so slow drift of the machine hits all of them alike. The first spec is the reference:
the ratio column is each spec's median rps over the first one's; the CPU ratio is the
first one's median gunicorn CPU per request over this one's (what the ratio would be if
both were bound by their own CPU: steadier than rps on a shared machine). The environment
(BENCH_WORKER_CLASS, BENCH_CHDIR, BENCH_AUTH_TOKEN, BENCH_TOKEN_ENV, ...) applies to all.
Prints every run's final line, then a Markdown table; exits 1 if any run failed or
had a non-2xx answer.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FINAL = re.compile(r"^rps=(\d+) p50_ms=([\d.]+) p99_ms=([\d.]+) non2xx=(\d+)$")
CPU = re.compile(r"cpu wrk=([\d.]+) cores gunicorn=([\d.]+) cores.* gunicorn_cpu_ms_per_req=([\d.]+)")


def run_once(target, path, workers, seconds):
    proc = subprocess.run(
        ["bash", os.path.join(HERE, "run.sh"), target, path, str(workers), str(seconds)],
        capture_output=True, text=True,
    )
    lines = proc.stdout.strip().splitlines()
    m = FINAL.match(lines[-1]) if lines else None
    if proc.returncode != 0 or not m:
        sys.stderr.write(proc.stdout + proc.stderr)
        return None
    if proc.stderr.strip():
        sys.stderr.write(proc.stderr)
    cpu = next((CPU.search(line) for line in lines if CPU.search(line)), None)
    rps, p50, p99, bad = m.groups()
    return {
        "rps": int(rps), "p50": float(p50), "p99": float(p99), "non2xx": int(bad),
        "wrk_cores": float(cpu.group(1)) if cpu else float("nan"),
        "gun_cores": float(cpu.group(2)) if cpu else float("nan"),
        "cpu_ms": float(cpu.group(3)) if cpu else float("nan"),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("specs", nargs="+", help="LABEL=MODULE:APP@PATH")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    specs = []
    for spec in args.specs:
        label, _, rest = spec.partition("=")
        target, _, path = rest.rpartition("@")
        if not (label and target and path.startswith("/")):
            ap.error(f"bad spec {spec!r}: want LABEL=MODULE:APP@PATH")
        specs.append((label, target, path))

    results = {label: [] for label, _, _ in specs}
    failed = False
    for rep in range(1, args.reps + 1):
        for label, target, path in specs:
            r = run_once(target, path, args.workers, args.seconds)
            if r is None:
                failed = True
                print(f"round {rep} {label}: FAILED", flush=True)
                continue
            failed |= r["non2xx"] > 0
            results[label].append(r)
            print(f"round {rep} {label}: rps={r['rps']} p50_ms={r['p50']} p99_ms={r['p99']}"
                  f" non2xx={r['non2xx']} wrk_cores={r['wrk_cores']} gunicorn_cores={r['gun_cores']}"
                  f" gunicorn_cpu_ms_per_req={r['cpu_ms']}",
                  flush=True)

    wc = os.environ.get("BENCH_WORKER_CLASS", "sync")
    if wc == "gthread":
        wc += f" x{os.environ.get('BENCH_THREADS', '4')}"
    print(f"\n{args.workers} workers, {wc}, {os.environ.get('BENCH_CONNECTIONS', '32')} connections,"
          f" {args.seconds}s x {args.reps} rounds\n")
    print("| label | rps min | rps median | p50 ms median | p99 ms median | p99 ms max"
          " | non2xx | wrk cores | gunicorn cores | gunicorn CPU ms/req | ratio | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ref = ref_cpu = None
    for label, _, _ in specs:
        rs = results[label]
        if not rs:
            print(f"| {label} | failed |" + " |" * 10)
            continue
        med = statistics.median(r["rps"] for r in rs)
        cpu_ms = statistics.median(r["cpu_ms"] for r in rs)
        ref = ref or med
        ref_cpu = ref_cpu or cpu_ms
        print(f"| {label} | {min(r['rps'] for r in rs)} | {med:.0f}"
              f" | {statistics.median(r['p50'] for r in rs):.2f}"
              f" | {statistics.median(r['p99'] for r in rs):.2f} | {max(r['p99'] for r in rs):.2f}"
              f" | {sum(r['non2xx'] for r in rs)}"
              f" | {statistics.median(r['wrk_cores'] for r in rs):.2f}"
              f" | {statistics.median(r['gun_cores'] for r in rs):.2f} | {cpu_ms:.2f}"
              f" | {med / ref:.2f} | {ref_cpu / cpu_ms:.2f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
