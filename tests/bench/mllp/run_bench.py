#!/usr/bin/env python3
"""The MLLP end-to-end benchmark: cpis-engine, the bare reference servers and the peers from
other projects, each loaded in turn by cpis-send on loopback. scripts/bench-mllp builds
everything and runs this; see docs/benchmarks.md ("MLLP end to end") for what it measures.

    run_bench.py --bin build/bin --source . --sender EDSYS --facility RXX01 [--seconds 5]
                 [--servers NAME,...] [--idle 1000] [--markdown FILE] [--work DIR]

Every server is started afresh for every case (so its peak RSS and CPU time belong to that
case), waited for by its ready line, warmed up with a short run that also sizes the measured
run to about --seconds, measured, and stopped with SIGTERM. Standard library only.
"""
import argparse
import math
import os
import platform
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MESSAGE = "tests/data/hl7v2/adt_a01_bench.hl7"

# (label, connections, new connection per message)
CASES = [
    ("1", 1, False),
    ("16", 16, False),
    ("64", 64, False),
    ("16, new connection per message", 16, True),
]

PEERS = ("simple-hl7", "node-hl7-server", "python3-hl7")


def engine_config(work, sender, facility, max_connections):
    path = os.path.join(work, "cpis-engine.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"""<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store duplicateWindowHours="168" retentionDays="30" groupCommit="true">
    <sqlite path="store/cpis-engine.db"/>
  </store>
  <limits maxMessageBytes="1048576" readTimeoutMs="30000" idleTimeoutMs="600000"
          maxConnectionsPerListener="{max_connections}"/>
  <logging format="text" level="warning"/>
  <feed name="bench">
    <expectedSender application="{sender}" facility="{facility}"/>
    <listener address="127.0.0.1" port="0"/>
    <acknowledgement mode="original"/>
  </feed>
</cpisEngine>
""")
    return path


def server_command(name, args, work, max_connections=256):
    """The command line that starts server `name` on 127.0.0.1, port 0.

    The engine's connection limit is well above the 64 connections used: it counts a closed
    connection until the engine's thread has noticed the close, so a limit equal to the
    client's concurrency refuses some of its new connections.
    """
    bench = os.path.join(args.source, "tests/bench/mllp")
    if name == "cpis-engine":
        store = os.path.join(work, "store")
        shutil.rmtree(store, ignore_errors=True)
        return [os.path.join(args.bin, "cpis-engine"), "--config",
                engine_config(work, args.sender, args.facility, max_connections)]
    if name.startswith("ref-"):
        journal = os.path.join(work, "ref.journal")
        return [os.path.join(args.bin, "cpis-bench-mllp-ref"), "--mode", name[4:], "--file", journal]
    if name == "simple-hl7":
        return ["node", os.path.join(bench, "peers/simple_hl7_server.js")]
    if name == "node-hl7-server":
        return ["node", os.path.join(bench, "peers/node_hl7_server.js")]
    if name == "python3-hl7":
        return ["/usr/bin/python3", os.path.join(bench, "peers/python_hl7_server.py")]
    raise SystemExit(f"run_bench: unknown server {name}")


class Server:
    """A server child process: started, waited for until its ready line, stopped with SIGTERM."""

    def __init__(self, name, command, work):
        self.name = name
        self.log = open(os.path.join(work, f"{name}.log"), "wb")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, cwd=work)
        self.port = None
        # One thread reads standard output all along (so the server never blocks on it) and
        # hands over the lines up to the ready line.
        lines = queue.Queue()

        def read():
            for raw in self.process.stdout:
                lines.put(raw.decode(errors="replace").rstrip("\n"))
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 60
        ready = False
        while not ready:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            m = re.search(r"listening on [0-9.]+:(\d+)", line)
            if m and self.port is None:
                self.port = int(m.group(1))
            ready = line.endswith(": ready")
        if not ready or self.port is None:
            self.stop()
            raise RuntimeError(f"{name} did not start; see {self.log.name}")

    @property
    def pid(self):
        return self.process.pid

    def cpu_seconds(self):
        """utime + stime of every thread so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat

    def status(self, key):
        """A kB figure from /proc/PID/status (VmRSS, VmHWM) in MiB, or Threads as a count."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    value = int(line.split()[1])
                    return value if key == "Threads" else value / 1024
        return float("nan")

    def stop(self):
        """SIGTERM, then its exit status (SIGKILL after 60 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


def cpis_send(args, port, connections, repeat, per_message, timeout):
    """Runs cpis-send in load mode; returns its parsed summary and its own CPU time."""
    command = [os.path.join(args.bin, "cpis-send"), "--connections", str(connections), "--repeat", str(repeat)]
    if per_message:
        command.append("--connection-per-message")
    command += [f"127.0.0.1:{port}", os.path.join(args.source, MESSAGE)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"cpis-send still running after {timeout:.0f} s"}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = done.stdout
    m = re.search(r"messages (\d+) \(accepted (\d+), refused (\d+), failed (\d+), MSA-2 mismatches (\d+)\)", out)
    t = re.search(r"elapsed ([0-9.]+) s", out)
    r = re.search(r"throughput (\d+) messages/s", out)
    lat = re.search(r"latency ms p50 ([0-9.]+) p99 ([0-9.]+) max ([0-9.]+)", out)
    if not (m and t and r and lat):
        return {"error": f"cpis-send: {done.stdout.strip()} {done.stderr.strip()}"}
    result = {
        "messages": int(m.group(1)), "accepted": int(m.group(2)), "refused": int(m.group(3)),
        "failed": int(m.group(4)), "mismatched": int(m.group(5)), "elapsed": float(t.group(1)),
        "rate": int(r.group(1)), "p50": float(lat.group(1)), "p99": float(lat.group(2)),
        "max": float(lat.group(3)),
        "client_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }
    first = re.search(r"first failure: (.*)", done.stderr)
    if first:
        result["first_failure"] = first.group(1)
    return result


def run_case(args, name, connections, per_message, work):
    server = Server(name, server_command(name, args, work), work)
    try:
        # Warm-up: a few hundred messages, which also gives the rate to size the measured run.
        warm_repeat = max(2, math.ceil(args.warmup / connections))
        warm = cpis_send(args, server.port, connections, warm_repeat, per_message, timeout=120)
        if "error" in warm:
            return warm
        rate = max(warm["rate"], 1)
        repeat = max(2, min(1_000_000, math.ceil(rate * args.seconds / connections)))
        if warm["mismatched"] or warm["failed"]:
            # Its answers are already wrong: measure no more than the warm-up's size (a server
            # that keeps every message of a connection, as node-hl7-server 2.5.0 does, would
            # otherwise slow down without bound).
            repeat = warm_repeat
        cpu_before = server.cpu_seconds()
        result = cpis_send(args, server.port, connections, repeat, per_message,
                           timeout=max(60, args.seconds * 8))
        if "error" in result:
            return result
        result["short"] = repeat == warm_repeat and (warm["mismatched"] or warm["failed"])
        result["server_cpu"] = server.cpu_seconds() - cpu_before
        result["rss_peak"] = server.status("VmHWM")
        result["threads"] = server.status("Threads")
        return result
    finally:
        status = server.stop()
        if status not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
            print(f"run_bench: {name} exited with status {status} (log: {server.log.name})", file=sys.stderr)


def fdatasync_ms(folder, rounds=100):
    """Median time of write(4 KiB) + fdatasync in `folder` now: the disk's state for a case."""
    path = os.path.join(folder, "probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        block = b"x" * 4096
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            os.write(fd, block)
            os.fdatasync(fd)
            times.append((time.perf_counter() - start) * 1000)
        return sorted(times)[len(times) // 2]
    finally:
        os.close(fd)
        os.unlink(path)


def idle_rss(args, work, count):
    """Engine RSS and CPU with `count` idle connections, each having sent one message."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count * 2 + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    server = Server("cpis-engine", server_command("cpis-engine", args, work, max_connections=count + 100), work)
    tool = None
    try:
        result = {"rss_start": server.status("VmRSS"), "threads_start": server.status("Threads")}
        tool = subprocess.Popen([sys.executable, os.path.join(args.source, "tests/bench/mllp/idle_connections.py"),
                                 "127.0.0.1", str(server.port), str(count), os.path.join(args.source, MESSAGE)],
                                stdout=subprocess.PIPE, text=True)
        line = tool.stdout.readline()
        if "each acknowledged" not in line:
            return {"error": f"idle_connections.py: {line.strip() or 'no output'} (exit {tool.wait()})"}
        time.sleep(2)  # let the connections settle into their idle wait before measuring
        cpu_before = server.cpu_seconds()
        time.sleep(args.idle_seconds)
        result.update({
            "rss": server.status("VmRSS"), "rss_peak": server.status("VmHWM"),
            "threads": server.status("Threads"),
            "idle_cpu": (server.cpu_seconds() - cpu_before) / args.idle_seconds,
        })
        return result
    finally:
        if tool is not None and tool.poll() is None:
            tool.send_signal(signal.SIGTERM)
            tool.wait()
        server.stop()


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB memory, Linux {platform.release()}"


def fmt_rate(v):
    return f"{v:,}"


def table(results, servers):
    lines = ["| server | connections | messages/s | p50 ms | p99 ms | max ms | peak RSS MiB | server CPU s (µs/msg) | client CPU µs/msg | notes |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|---|"]
    for name in servers:
        for label, _, _ in CASES:
            r = results.get((name, label))
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {name} | {label} | – | – | – | – | – | – | – | failed: {r['error'][:120]} |")
                continue
            notes = []
            if r["mismatched"]:
                notes.append(f"**{r['mismatched']:,} of {r['messages']:,} ACKs with a wrong MSA-2**")
            if r.get("short"):
                notes.append("a warm-up-sized run, since its answers were already wrong")
            if r["refused"]:
                notes.append(f"{r['refused']:,} refused")
            if r["failed"]:
                notes.append(f"{r['failed']:,} failed ({r.get('first_failure', '')[:80]})")
            per_msg = r["server_cpu"] / max(r["messages"], 1) * 1e6
            client = r["client_cpu"] / max(r["messages"], 1) * 1e6
            lines.append(
                f"| {name} | {label} | {fmt_rate(r['rate'])} | {r['p50']:.3f} | {r['p99']:.3f} | {r['max']:.1f} | "
                f"{r['rss_peak']:.1f} | {r['server_cpu']:.2f} ({per_msg:.0f}) | {client:.0f} | {'; '.join(notes)} |")
    return lines


def valid(r):
    return r is not None and "error" not in r and r["mismatched"] == 0 and r["failed"] == 0 and r["refused"] == 0


def ratios(results, servers):
    lines = ["| connections | cpis-engine msgs/s | vs group-commit reference | vs fastest peer (valid answers only) | vs in-memory reference |",
             "|---|--:|--:|--:|--:|"]
    for label, _, _ in CASES:
        engine = results.get(("cpis-engine", label))
        if not valid(engine):
            continue
        cells = []
        for ref in ("ref-group-commit",):
            r = results.get((ref, label))
            cells.append(f"{engine['rate'] / r['rate']:.2f}× ({fmt_rate(r['rate'])})" if valid(r) else "–")
        peers = [(results[(p, label)]["rate"], p) for p in PEERS if valid(results.get((p, label)))]
        if peers:
            rate, peer = max(peers)
            cells.append(f"{engine['rate'] / rate:.2f}× ({peer}, {fmt_rate(rate)})")
        else:
            cells.append("–")
        r = results.get(("ref-memory", label))
        cells.append(f"{engine['rate'] / r['rate']:.2f}× ({fmt_rate(r['rate'])})" if valid(r) else "–")
        lines.append(f"| {label} | {fmt_rate(engine['rate'])} | " + " | ".join(cells) + " |")
    return lines


def targets(results, idle):
    """The issue's targets, each with what this run measured."""
    out = []
    e16, g16 = results.get(("cpis-engine", "16")), results.get(("ref-group-commit", "16"))
    if valid(e16) and valid(g16):
        share = e16["rate"] / g16["rate"]
        out.append(f"- 16 connections, at least 85% of the group-commit reference: {share:.0%} "
                   f"({'met' if share >= 0.85 else 'not met'})")
    peers = [results[(p, "16")]["rate"] for p in PEERS if valid(results.get((p, "16")))]
    if valid(e16) and peers:
        x = e16["rate"] / max(peers)
        out.append(f"- 16 connections, at least 2.5× the fastest peer: {x:.2f}× ({'met' if x >= 2.5 else 'not met'})")
    if valid(e16):
        out.append(f"- 16 connections, p99 under 3 ms: {e16['p99']:.2f} ms ({'met' if e16['p99'] < 3 else 'not met'})")
    e64 = results.get(("cpis-engine", "64"))
    if valid(e64):
        out.append(f"- 64 connections, at least 26,600 durable messages/s: {fmt_rate(e64['rate'])} "
                   f"({'met' if e64['rate'] >= 26600 else 'not met'})")
    if idle and "error" not in idle:
        out.append(f"- RSS under 100 MiB with {idle['count']:,} idle connections: {idle['rss']:.1f} MiB "
                   f"({'met' if idle['rss'] < 100 else 'not met'})")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True, help="folder with cpis-engine, cpis-send, cpis-bench-mllp-ref")
    p.add_argument("--source", required=True, help="the repository root")
    p.add_argument("--sender", required=True, help="MSH-3 of the benchmark message (the feed expects it)")
    p.add_argument("--facility", required=True, help="MSH-4 of the benchmark message")
    p.add_argument("--seconds", type=float, default=5, help="aimed length of each measured run")
    p.add_argument("--warmup", type=int, default=400, help="messages in each warm-up run")
    p.add_argument("--servers", default="cpis-engine,ref-memory,ref-group-commit,ref-fsync-each,"
                                        "simple-hl7,node-hl7-server,python3-hl7")
    p.add_argument("--idle", type=int, default=1000, help="idle connections for the engine's RSS (0: skip)")
    p.add_argument("--idle-seconds", type=float, default=5, help="how long the idle CPU is measured")
    p.add_argument("--markdown", help="also write the report to this file")
    p.add_argument("--work", help="folder for stores and logs (default: a new one under $TMPDIR)")
    args = p.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.source = os.path.abspath(args.source)
    servers = [s for s in args.servers.split(",") if s]
    work = args.work or tempfile.mkdtemp(prefix="cpis-bench-mllp.")
    os.makedirs(work, exist_ok=True)

    started = time.strftime("%Y-%m-%d %H:%M")
    results = {}
    disk = {}
    # Case by case, every server within a case: the runs a ratio compares are close in time
    # (this machine's fdatasync latency drifts by an order of magnitude over minutes).
    for label, connections, per_message in CASES:
        disk[label] = fdatasync_ms(work)
        print(f"run_bench: {label} connection(s): write 4 KiB + fdatasync now {disk[label]:.2f} ms",
              file=sys.stderr, flush=True)
        for name in servers:
            print(f"run_bench: {name}, {label} connection(s)...", file=sys.stderr, flush=True)
            try:
                r = run_case(args, name, connections, per_message, work)
            except RuntimeError as e:
                r = {"error": str(e)}
            results[(name, label)] = r
            if "error" in r:
                print(f"run_bench:   {r['error']}", file=sys.stderr, flush=True)
            else:
                print(f"run_bench:   {fmt_rate(r['rate'])} msgs/s, p50 {r['p50']:.3f} ms, p99 {r['p99']:.3f} ms, "
                      f"{r['mismatched']} MSA-2 mismatches, {r['failed']} failed", file=sys.stderr, flush=True)
        disk[label] = (disk[label], fdatasync_ms(work))
    idle = None
    if args.idle > 0 and "cpis-engine" in servers:
        print(f"run_bench: cpis-engine with {args.idle} idle connections...", file=sys.stderr, flush=True)
        try:
            idle = idle_rss(args, work, args.idle)
        except RuntimeError as e:
            idle = {"error": str(e)}
        idle["count"] = args.idle

    report = [f"Run {started}; machine: {machine()}.", "",
              f"Each run: cpis-send load mode, {MESSAGE} (1,513 bytes, MSH-10 rewritten per message), "
              f"stop-and-wait per connection, about {args.seconds:g} s after a {args.warmup}-message warm-up; "
              "a fresh server process per row. Server CPU is utime + stime of the measured run "
              "(/proc/PID/stat); peak RSS is VmHWM over the process's life; client CPU is cpis-send's own.", ""]
    report += table(results, servers) + [""]
    report += ["The disk during each case (write 4 KiB + fdatasync in the same folder, median of 100, "
               "before and after the case's runs): " +
               "; ".join(f"{label}: {before:.2f} → {after:.2f} ms" for label, (before, after) in disk.items()) + ".",
               ""]
    report += ["Ratios (messages/s of cpis-engine over the other server's, same case):", ""]
    report += ratios(results, servers) + [""]
    if idle is not None:
        if "error" in idle:
            report += [f"Idle connections: failed: {idle['error']}", ""]
        else:
            report += [f"cpis-engine with {idle['count']:,} idle connections (each sent one message first; "
                       f"maxConnectionsPerListener {idle['count'] + 100}): RSS {idle['rss']:.1f} MiB "
                       f"(peak {idle['rss_peak']:.1f} MiB; {idle['rss_start']:.1f} MiB before they connected), "
                       f"{idle['threads']:,} threads, {idle['idle_cpu'] * 100:.1f}% of a core while they sat idle "
                       f"({args.idle_seconds:g} s).", ""]
    goals = targets(results, idle)
    if goals:
        report += ["Against the targets of issue 4:", ""] + goals + [""]
    text = "\n".join(report)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
