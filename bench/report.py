#!/usr/bin/env python3
"""Tables (and plots) from bench/run's raw results."""
import json
import statistics
import subprocess
import sys
from pathlib import Path


def codec(path):
    data = json.loads(Path(path).read_text())
    print(f"{'benchmark':<40}{'ns/item':>10}{'MB/s':>10}{'M items/s':>11}{'allocs/item':>12}")
    for b in data["benchmarks"]:
        items = b.get("items_per_second", 0)
        print(f"{b['name']:<40}{(1e9 / items if items else 0):>10.1f}"
              f"{b.get('bytes_per_second', 0) / 1e6:>10.1f}{items / 1e6:>11.2f}{b.get('allocs_per_item', 0):>12.2f}")


def record(last, backend, server, c, rep, cpu_ns, scrape=""):
    """One raw line: costrix-load's report, the server's CPU time, and the served metrics' totals (when scraped)."""
    r = json.loads(Path(last).read_text())
    r.update(kind="run", backend=backend, server=server, c=int(c), rep=int(rep), server_cpu_s=int(cpu_ns) / 1e9)
    if scrape:
        import urllib.request
        text = urllib.request.urlopen(scrape, timeout=10).read().decode()
        total = lambda prefix: sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                                   if line.startswith(prefix))
        r["metrics_sessions"] = total("costrix_sessions_total{")
        r["metrics_commands"] = total("costrix_commands_total{")
    print(json.dumps(r))


def metrics_table(runs, summary):
    """fastagi_demo with --metrics against the same without, same run."""
    rows = [(b, c) for b in sorted({r["backend"] for r in runs}) for c in sorted({r["c"] for r in runs})]
    on = [r for r in runs if r["server"] == "metrics"]
    if not on:
        return
    print(f"\n{'backend':<9}{'conc.':>7} | {'metrics on calls/s':>18}{'off':>9}{'on/off':>8} |"
          f" {'p99 on ms':>9}{'off':>7}{'on/off':>8} | {'CPU us/call on':>14}{'off':>7}{'on/off':>8} | totals exact")
    for backend, c in rows:
        pick = lambda s: [r for r in runs if r["backend"] == backend and r["c"] == c and r["server"] == s]
        a, b = pick("metrics"), pick("costrix")
        if not a or not b:
            continue
        ca, cb = (statistics.median(x["calls_per_s"] for x in v) for v in (a, b))
        pa, pb = (statistics.median(x["call_latency"]["p99_ms"] for x in v) for v in (a, b))
        per_call = lambda v: statistics.median(x["server_cpu_s"] * 1e6 / max(1, x["calls_ok"]) for x in v)
        ua, ub = per_call(a), per_call(b)
        exact = all(x.get("metrics_sessions") == x["calls_ok"] + x["calls_failed"] and
                    x.get("metrics_commands") == x["commands"] for x in a)
        print(f"{backend:<9}{c:>7} | {ca:>18.0f}{cb:>9.0f}{ca / cb:>8.3f} | {pa:>9.2f}{pb:>7.2f}{pa / pb:>8.2f} |"
              f" {ua:>14.2f}{ub:>7.2f}{ua / ub:>8.3f} | {exact}")
        summary.setdefault("metrics", []).append(dict(backend=backend, concurrency=c, on_calls_per_s=ca,
                                                      off_calls_per_s=cb, calls_ratio=ca / cb, on_p99_ms=pa,
                                                      off_p99_ms=pb, p99_ratio=pa / pb, on_cpu_us_per_call=ua,
                                                      off_cpu_us_per_call=ub, cpu_ratio=ua / ub, totals_exact=exact))


def macro(raw, outdir):
    rows = [json.loads(line) for line in Path(raw).read_text().splitlines() if line.strip()]
    mem = [r for r in rows if r["kind"] == "memory"]
    summary = {"runs": [], "memory": []}

    def table(kind, title, key_name):
        runs = [r for r in rows if r["kind"] == kind]
        if not runs:
            return

        def median(backend, server, c, key):
            vals = [key(r) for r in runs if r["backend"] == backend and r["server"] == server and r["c"] == c]
            return statistics.median(vals) if vals else None

        print(f"\n{title}")
        print(f"{'backend':<9}{'conc.':>7} | {'costrix calls/s':>15}{'floor calls/s':>14}{'ratio':>7} |"
              f" {'cmds/s ratio':>12} | {'p99 call ms':>11}{'floor':>8}{'ratio':>7} | errors")
        for backend in sorted({r["backend"] for r in runs}):
            for c in sorted({r["c"] for r in runs}):
                get = lambda s, k: median(backend, s, c, k)
                cc, fc = get("costrix", lambda r: r["calls_per_s"]), get("floor", lambda r: r["calls_per_s"])
                cm, fm = get("costrix", lambda r: r["commands_per_s"]), get("floor", lambda r: r["commands_per_s"])
                cp, fp = (get("costrix", lambda r: r["call_latency"]["p99_ms"]),
                          get("floor", lambda r: r["call_latency"]["p99_ms"]))
                errors = sum(r["calls_failed"] for r in runs if r["backend"] == backend and r["c"] == c)
                if None in (cc, fc, cm, fm, cp, fp):
                    continue
                print(f"{backend:<9}{c:>7} | {cc:>15.0f}{fc:>14.0f}{cc / fc:>7.2f} | {cm / fm:>12.2f} |"
                      f" {cp:>11.2f}{fp:>8.2f}{cp / fp:>7.2f} | {errors}")
                summary.setdefault(key_name, []).append(
                    dict(backend=backend, concurrency=c, costrix_calls_per_s=cc, floor_calls_per_s=fc,
                         calls_ratio=cc / fc, commands_ratio=cm / fm, costrix_p99_ms=cp, floor_p99_ms=fp,
                         p99_ratio=cp / fp, failed_calls=errors))

    table("run", "FastAGI: fastagi_demo / floor_server", "runs")
    table("esl_run", "ESL outbound: esl_outbound / esl_floor_server", "esl_runs")
    metrics_table([r for r in rows if r["kind"] == "run"], summary)
    if mem:
        print(f"\n{'backend':<9}{'server':<9}{'sessions':>9}{'parked':>9}{'RSS before KiB':>15}{'after KiB':>10}"
              f"{'bytes/session':>14}")
        for r in mem:
            per = (r["rss_after_kib"] - r["rss_before_kib"]) * 1024 / r["sessions"]
            print(f"{r['backend']:<9}{r['server']:<9}{r['sessions']:>9}{r['parked'].split()[-1]:>9}"
                  f"{r['rss_before_kib']:>15}{r['rss_after_kib']:>10}{per:>14.0f}")
            summary["memory"].append(dict(backend=r["backend"], server=r["server"], sessions=r["sessions"],
                                          parked=r["parked"], bytes_per_session=per))
    out = Path(outdir)
    (out / "latest.json").write_text(json.dumps(summary, indent=1))
    plot(summary, out)


def plot(summary, out):
    """Throughput and memory as PNGs, with gnuplot."""
    if not summary["runs"] or not summary["memory"]:
        return  # a partial run (BENCH_PARTS): nothing to plot
    lines = []
    for r in summary["runs"]:
        lines.append(f"{r['backend']}-c{r['concurrency']} {r['costrix_calls_per_s']:.0f} {r['floor_calls_per_s']:.0f}")
    (out / "throughput.dat").write_text("\n".join(lines) + "\n")
    mem = [r for r in summary["memory"]]
    by_key = {}
    for r in mem:
        by_key.setdefault(f"{r['backend']}-{r['sessions']}", {})[r["server"]] = r["bytes_per_session"]
    (out / "memory.dat").write_text("".join(f"{k} {v.get('costrix', 0):.0f} {v.get('floor', 0):.0f}\n"
                                            for k, v in by_key.items()))
    script = f"""
set terminal png size 900,420 noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set yrange [0:*]
set key top left
set xtics rotate by -20
set output '{out}/throughput.png'
set title 'FastAGI demo script, calls/s (one server thread, one load thread, loopback)'
plot '{out}/throughput.dat' using 2:xtic(1) title 'costrix', '' using 3 title 'plain-Asio floor'
set output '{out}/memory.png'
set title 'Resident memory per idle session (WAIT FOR DIGIT -1), bytes'
plot '{out}/memory.dat' using 2:xtic(1) title 'costrix', '' using 3 title 'plain-Asio floor'
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"(no plot: {e})")


if __name__ == "__main__":
    {"codec": lambda: codec(sys.argv[2]), "macro": lambda: macro(sys.argv[2], sys.argv[3]),
     "record": lambda: record(*sys.argv[2:9])}[sys.argv[1]]()
