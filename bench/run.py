#!/usr/bin/env python3
"""kafka-sidecar benchmark: the sidecar against a raw librdkafka consumer on
the same data, in one run, on a real local broker.

Run through bench/run.sh, which builds a Release tree and installs what this
needs. Writes docs/benchmarks.md and the charts in docs/bench/.

Sections (each can be chosen with --only):
  throughput  2,000,000 x 100 B (and 1,000,000 x 1 KB) on 6 partitions: the raw
              consumer, the sidecar with the C++ ack handler, and the example
              handlers of every language, until the group's commits reach the end
  latency     produce -> handler receive at fixed produce rates, and the
              sidecar's share of it (paired per message with a raw consumer)
  memory      peak RSS with a 2,000,000-message backlog and a slow handler
  scale       1,000 partitions and 64 handler streams against 6 partitions
  rebalance   a second sidecar joining a busy one and leaving again, under each
              group protocol: time to the newcomer's first delivery, the pause
              on the partitions that stay, handover time, duplicates
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Dict, List, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# --set section.key=value: applied to every sidecar the run starts.
SIDECAR_SETTINGS: Dict[str, Dict] = {}


def log(*args) -> None:
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now_us() -> int:
    return time.time_ns() // 1000


def wait_for(predicate, timeout_s: float, what: str, tick_s: float = 0.01):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(tick_s)  # a poll with a deadline
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


class Proc:
    """A child process with its output in a log file, stopped on exit."""

    live: List["Proc"] = []

    def __init__(self, name: str, argv: List[str], workdir: str, env: Optional[Dict] = None,
                 stdout_to_log: bool = True):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            argv, stdout=self._log if stdout_to_log else subprocess.PIPE, stderr=self._log,
            env={**os.environ, **(env or {})}, cwd=REPO)
        Proc.live.append(self)

    def status_field(self, key: str) -> Optional[int]:
        try:
            with open(f"/proc/{self.popen.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def peak_rss_mb(self) -> Optional[float]:
        kb = self.status_field("VmHWM")
        return None if kb is None else kb / 1024.0

    def rss_mb(self) -> Optional[float]:
        kb = self.status_field("VmRSS")
        return None if kb is None else kb / 1024.0

    def cpu_seconds(self) -> Optional[float]:
        try:
            with open(f"/proc/{self.popen.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def threads(self) -> Optional[int]:
        return self.status_field("Threads")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout_s: float = 30) -> Optional[int]:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        if self in Proc.live:
            Proc.live.remove(self)
        return self.popen.returncode

    def tail(self, n: int = 30) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def run_json(argv: List[str], timeout_s: float) -> dict:
    """Runs a bench tool that prints one JSON line; fails loudly otherwise."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, cwd=REPO)
    if r.returncode != 0:
        raise RuntimeError(f"{os.path.basename(argv[0])} exited {r.returncode}: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


@dataclass
class Tools:
    build: str

    def path(self, rel: str) -> str:
        p = os.path.join(self.build, rel)
        if not os.access(p, os.X_OK):
            raise FileNotFoundError(f"{p} missing: run bench/run.sh, which builds it")
        return p

    @property
    def sidecar(self): return self.path("sidecar/kafka-sidecar")
    @property
    def produce(self): return self.path("bench/bench_produce")
    @property
    def raw_consume(self): return self.path("bench/bench_raw_consume")
    @property
    def await_committed(self): return self.path("bench/bench_await_committed")
    @property
    def ack_handler(self): return self.path("bench/bench_ack_handler")


class Broker:
    def __init__(self, workdir: str):
        self.dir = os.path.join(workdir, "kafka")
        out = subprocess.run([f"{REPO}/scripts/kafka.sh", "start", self.dir],
                             capture_output=True, text=True, check=True)
        self.bootstrap = out.stdout.strip().splitlines()[-1]

    def create_topic(self, topic: str, partitions: int) -> None:
        subprocess.run([f"{REPO}/scripts/kafka.sh", "topic-create", self.bootstrap, topic,
                        str(partitions)], check=True, capture_output=True)

    def clean(self) -> None:
        subprocess.run([f"{REPO}/scripts/kafka.sh", "clean", self.dir], capture_output=True)


class Sidecar:
    def __init__(self, tools: Tools, workdir: str, name: str, bootstrap: str, group: str,
                 topic: str, extra: Optional[Dict[str, Dict]] = None):
        self.grpc_port = free_port()
        self.http_port = free_port()
        config = {
            "kafka": {"bootstrap_servers": bootstrap, "group_id": group, "topics": [topic]},
            "server": {"grpc_listen": f"127.0.0.1:{self.grpc_port}",
                       "http_listen": f"127.0.0.1:{self.http_port}"},
        }
        for section, values in list(SIDECAR_SETTINGS.items()) + list((extra or {}).items()):
            config.setdefault(section, {}).update(values)
        path = os.path.join(workdir, f"{name}.yaml")
        with open(path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        argv = [tools.sidecar, "--config", path]
        perf_dir = os.environ.get("BENCH_PERF_DIR")
        if perf_dir:
            # Profiling run: figures of this run measure perf, not the sidecar.
            argv = ["perf", "record", "-F", "1999", "-g", "-o",
                    os.path.join(perf_dir, f"{name}.perf.data"), "--"] + argv
        self.proc = Proc(name, argv, workdir)
        wait_for(lambda: self.stats() is not None or not self.proc.alive(), 60, "sidecar /stats")
        if not self.proc.alive():
            raise RuntimeError(f"sidecar exited:\n{self.proc.tail()}")

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def stats(self) -> Optional[dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/stats", timeout=2) as r:
                return json.load(r)
        except (OSError, ValueError):
            return None

    def counter(self, key: str) -> int:
        s = self.stats() or {}
        return int(s.get(key, 0))


def handler_argv(lang: str, tools: Tools, target: str, expect: int, extra: List[str]) -> List[str]:
    if lang == "cpp":
        return [tools.ack_handler, "--target", target, "--expect", str(expect), *extra]
    examples = f"{REPO}/client_examples"
    return {
        "cpp-example": [os.path.join(tools.build, "client_examples/cpp/cpp_example_handler")],
        "python": [f"{REPO}/.venv/bin/python3", f"{examples}/python/example_handler.py"],
        "go": [f"{examples}/go/bin/example-handler"],
        "nodejs": ["node", f"{examples}/nodejs/example_handler.js"],
        "java": ["java", "-jar", f"{examples}/java/target/kafka-sidecar-java-example.jar"],
    }[lang]


@dataclass
class SidecarRun:
    lang: str
    messages: int
    seconds: float
    rate: float
    peak_rss_mb: float
    threads: int
    extra: dict = field(default_factory=dict)


def sidecar_throughput(tools: Tools, broker: Broker, workdir: str, topic: str, partitions: int,
                       messages: int, lang: str, streams: int = 1,
                       sidecar_extra: Optional[Dict] = None, tag: str = "") -> SidecarRun:
    name = f"{lang}{tag}"
    group = f"bench-{name}-{int(time.time() * 1000)}"
    sidecar = Sidecar(tools, workdir, f"sidecar-{name}", broker.bootstrap, group, topic,
                      sidecar_extra)
    extra = ["--streams", str(streams)] if lang == "cpp" and streams > 1 else []
    handler = Proc(f"handler-{name}", handler_argv(lang, tools, sidecar.target, messages, extra),
                   workdir, env={"SIDECAR_ADDRESS": sidecar.target, "HANDLER_NAME": f"bench-{name}"})
    try:
        waiter = subprocess.Popen(
            [tools.await_committed, "--bootstrap", broker.bootstrap, "--group", group,
             "--topic", topic, "--partitions", str(partitions), "--target", str(messages),
             "--timeout-s", "900"], stdout=subprocess.PIPE, text=True)
        # The clock starts at the first delivery: group join and handler
        # start-up (a JVM's, say) are not what is measured.
        wait_for(lambda: sidecar.counter("messages_delivered") > 0 or not handler.alive(), 120,
                 f"the first delivery to the {lang} handler")
        t0 = time.time()
        if not handler.alive():
            raise RuntimeError(f"{lang} handler exited:\n{handler.tail()}")
        rss_max = 0.0
        processed_at = None
        cpu = {}
        while waiter.poll() is None:
            rss_max = max(rss_max, sidecar.proc.peak_rss_mb() or 0)
            if not sidecar.proc.alive():
                raise RuntimeError(f"sidecar exited:\n{sidecar.proc.tail()}")
            if processed_at is None:
                s = sidecar.stats() or {}
                if (int(s.get("messages_processed", 0)) + int(s.get("messages_failed", 0))
                        >= messages):
                    processed_at = time.time()
                    # CPU up to the last settlement: the handler may exit
                    # (the C++ one does at --expect) before the commit.
                    cpu = {"sidecar": sidecar.proc.cpu_seconds(), "handler": handler.cpu_seconds()}
            time.sleep(0.05)  # sampling, not synchronisation
        out, _ = waiter.communicate()
        if waiter.returncode != 0:
            raise RuntimeError(f"commits never reached {messages} for {lang}:\n{handler.tail()}")
        done = json.loads(out.strip().splitlines()[-1])["done_us"] / 1e6
        seconds = done - t0
        stats = sidecar.stats() or {}
        batches = int(stats.get("batches_delivered", 0))
        run = SidecarRun(lang, messages, seconds, messages / seconds,
                         max(rss_max, sidecar.proc.peak_rss_mb() or 0), sidecar.proc.threads() or 0,
                         {"batches": batches,
                          "mean_batch": int(stats.get("messages_delivered", 0)) / max(batches, 1),
                          "settled_seconds": (processed_at or done) - t0,
                          "settled_rate": messages / max((processed_at or done) - t0, 1e-9),
                          "sidecar_cpu_us_per_msg": 1e6 * (cpu.get("sidecar") or 0) / messages,
                          "handler_cpu_us_per_msg": 1e6 * (cpu.get("handler") or 0) / messages})
        log(f"  sidecar + {lang}{' x%d streams' % streams if streams > 1 else ''}: "
            f"{run.rate:,.0f} msg/s ({seconds:.2f} s), sidecar peak RSS {run.peak_rss_mb:.0f} MB, "
            f"{run.threads} threads, mean batch {run.extra['mean_batch']:.0f}; all settled after "
            f"{run.extra['settled_seconds']:.2f} s ({run.extra['settled_rate']:,.0f} msg/s); CPU per "
            f"message: sidecar {run.extra['sidecar_cpu_us_per_msg']:.2f} us, handler "
            f"{run.extra['handler_cpu_us_per_msg']:.2f} us")
        return run
    finally:
        handler.stop()
        sidecar.proc.stop()


def raw_throughput(tools: Tools, broker: Broker, topic: str, messages: int) -> dict:
    r = run_json([tools.raw_consume, "--bootstrap", broker.bootstrap, "--topic", topic,
                  "--group", f"bench-raw-{int(time.time() * 1000)}", "--messages", str(messages)],
                 timeout_s=900)
    r["read_seconds"] = (r["last_us"] - r["first_us"]) / 1e6
    r["commit_seconds"] = (r["commit_done_us"] - r["first_us"]) / 1e6
    r["rate_to_commit"] = messages / r["commit_seconds"]
    log(f"  raw librdkafka: {r['rate']:,.0f} msg/s reading ({r['read_seconds']:.2f} s), "
        f"{r['rate_to_commit']:,.0f} msg/s to its commit")
    return r


def produce(tools: Tools, broker: Broker, topic: str, messages: int, size: int, partitions: int,
            rate: Optional[int] = None) -> dict:
    argv = [tools.produce, "--bootstrap", broker.bootstrap, "--topic", topic, "--messages",
            str(messages), "--size", str(size), "--partitions", str(partitions)]
    if rate:
        argv += ["--rate", str(rate)]
    r = run_json(argv, timeout_s=1800)
    log(f"  produced {messages:,} x {size} B to {topic}: {r['rate']:,.0f} msg/s")
    return r


# ---------------------------------------------------------------- sections

def section_throughput(ctx) -> dict:
    tools, broker, wd, a = ctx["tools"], ctx["broker"], ctx["workdir"], ctx["args"]
    results = {}
    cases = [("100 B", 100, a.messages)]
    if a.kb_messages > 0:
        cases.append(("1 KB", 1024, a.kb_messages))
    for label, size, n in cases:
        topic = f"bench-{size}"
        log(f"throughput, {n:,} x {label} on 6 partitions")
        broker.create_topic(topic, 6)
        produced = produce(tools, broker, topic, n, size, 6)
        # The raw consumer's run is short (a second or two) and so noisy: the
        # median of three.
        raws = sorted((raw_throughput(tools, broker, topic, n) for _ in range(3)),
                      key=lambda r: r["rate"])
        raw = dict(raws[1], runs=[r["rate"] for r in raws])
        runs = {"cpp": sidecar_throughput(tools, broker, wd, topic, 6, n, "cpp", tag=f"-{size}")}
        if size == 100:
            for lang in a.languages:
                try:
                    runs[lang] = sidecar_throughput(tools, broker, wd, topic, 6, n, lang,
                                                    tag=f"-{size}")
                except (RuntimeError, TimeoutError, FileNotFoundError) as e:
                    log(f"  {lang}: FAILED: {e}")
        results[label] = {"messages": n, "produced": produced, "raw": raw,
                          "sidecar": {k: v.__dict__ for k, v in runs.items()}}
    return results


def read_samples(path: str, since_us: int) -> Dict[int, tuple]:
    samples = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            i, ts, recv = int(parts[0]), int(parts[1]), int(parts[2])
            if ts >= since_us and i not in samples:
                samples[i] = (ts, recv)
    return samples


def percentiles(values) -> dict:
    import numpy as np
    if len(values) == 0:
        return {}
    v = np.asarray(values, dtype=float) / 1000.0  # ms
    return {"n": int(len(v)), "p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99)),
            "p99.9": float(np.percentile(v, 99.9)), "max": float(v.max())}


def section_latency(ctx) -> dict:
    tools, broker, wd, a = ctx["tools"], ctx["broker"], ctx["workdir"], ctx["args"]
    results = {}
    for rate in a.rates:
        topic = f"bench-latency-{rate}"
        broker.create_topic(topic, 6)
        main_n = rate * a.latency_seconds
        warm_n = 1000 * 3
        total = warm_n + main_n
        log(f"latency at {rate:,} msg/s for {a.latency_seconds} s")
        raw_samples = os.path.join(wd, f"raw-latency-{rate}.txt")
        handler_samples = os.path.join(wd, f"handler-latency-{rate}.txt")
        raw = Proc(f"raw-latency-{rate}",
                   [tools.raw_consume, "--bootstrap", broker.bootstrap, "--topic", topic,
                    "--group", f"bench-lat-raw-{rate}", "--messages", str(total),
                    "--samples-out", raw_samples], wd)
        sidecar = Sidecar(tools, wd, f"sidecar-latency-{rate}", broker.bootstrap,
                          f"bench-lat-sc-{rate}", topic)
        handler = Proc(f"handler-latency-{rate}",
                       [tools.ack_handler, "--target", sidecar.target, "--expect", str(total),
                        "--samples-out", handler_samples], wd)
        try:
            wait_for(lambda: len((sidecar.stats() or {}).get("partitions", [])) == 6, 60,
                     "the sidecar's assignment")
            # Warm-up at 1,000 msg/s: the raw consumer joins its group and
            # both paths settle; only what is produced after it is measured.
            produce(tools, broker, topic, warm_n, 100, 6, rate=1000)
            since = now_us()
            produce(tools, broker, topic, main_n, 100, 6, rate=rate)
            wait_for(lambda: not raw.alive() and not handler.alive(), 120,
                     "both consumers to finish")
            if raw.popen.returncode != 0 or handler.popen.returncode != 0:
                raise RuntimeError(f"raw {raw.popen.returncode}: {raw.tail()}\n"
                                   f"handler {handler.popen.returncode}: {handler.tail()}")
        finally:
            handler.stop()
            raw.stop()
            sidecar.proc.stop()
        hs = read_samples(handler_samples, since)
        rs = read_samples(raw_samples, since)
        e2e = [recv - ts for ts, recv in hs.values()]
        raw_e2e = [recv - ts for ts, recv in rs.values()]
        added = [hs[i][1] - rs[i][1] for i in hs.keys() & rs.keys()]
        results[rate] = {"produce_to_handler": percentiles(e2e),
                         "produce_to_raw": percentiles(raw_e2e),
                         "sidecar_added": percentiles(added),
                         "_e2e": e2e, "_raw": raw_e2e, "_added": added}
        r = results[rate]
        log(f"  produce->handler p50 {r['produce_to_handler'].get('p50', 0):.2f} ms "
            f"p99 {r['produce_to_handler'].get('p99', 0):.2f} ms; sidecar-added p50 "
            f"{r['sidecar_added'].get('p50', 0):.2f} ms p99 {r['sidecar_added'].get('p99', 0):.2f} ms")
    return results


def section_memory(ctx) -> dict:
    tools, broker, wd, a = ctx["tools"], ctx["broker"], ctx["workdir"], ctx["args"]
    topic = "bench-100"
    if "throughput" not in ctx["done"]:
        broker.create_topic(topic, 6)
        produce(tools, broker, topic, a.messages, 100, 6)
    log(f"memory: {a.messages:,}-message backlog, a handler acking each batch after 50 ms")
    sidecar = Sidecar(tools, wd, "sidecar-memory", broker.bootstrap,
                      f"bench-mem-{int(time.time())}", topic)
    handler = Proc("handler-memory", [tools.ack_handler, "--target", sidecar.target,
                                      "--delay-ms", "50"], wd)
    samples = []
    try:
        start = time.monotonic()
        while time.monotonic() - start < a.memory_seconds:
            samples.append((time.monotonic() - start, sidecar.proc.rss_mb() or 0))
            time.sleep(0.25)  # sampling RSS
        stats = sidecar.stats() or {}
        result = {"peak_rss_mb": sidecar.proc.peak_rss_mb(), "threads": sidecar.proc.threads(),
                  "processed": int(stats.get("messages_processed", 0)),
                  "seconds": a.memory_seconds, "_samples": samples}
    finally:
        handler.stop()
        sidecar.proc.stop()
    log(f"  peak RSS {result['peak_rss_mb']:.0f} MB after {a.memory_seconds} s, "
        f"{result['processed']:,} processed")
    return result


def section_scale(ctx) -> dict:
    tools, broker, wd, a = ctx["tools"], ctx["broker"], ctx["workdir"], ctx["args"]
    topic = "bench-scale-1000"
    log(f"scale: {a.messages:,} x 100 B on 1,000 partitions, 64 handler streams")
    broker.create_topic(topic, 1000)
    produce(tools, broker, topic, a.messages, 100, 1000)
    wide = sidecar_throughput(tools, broker, wd, topic, 1000, a.messages, "cpp", streams=64,
                              tag="-1000p")
    narrow_topic = "bench-100"
    if "throughput" not in ctx["done"]:
        broker.create_topic(narrow_topic, 6)
        produce(tools, broker, narrow_topic, a.messages, 100, 6)
    narrow = sidecar_throughput(tools, broker, wd, narrow_topic, 6, a.messages, "cpp", streams=64,
                                tag="-6p-64s")
    return {"1000": wide.__dict__, "6": narrow.__dict__,
            "loss_percent": 100.0 * (1 - wide.rate / narrow.rate)}


def read_partition_samples(path: str) -> List[tuple]:
    """(recv_us, partition, id) per message a handler received."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 4:
                    out.append((int(parts[2]), int(parts[3]), int(parts[0])))
    except OSError:
        pass
    out.sort()
    return out


def by_partition(samples: List[tuple], lo_us: int, hi_us: int) -> Dict[int, List[int]]:
    out: Dict[int, List[int]] = {}
    for recv, part, _ in samples:
        if lo_us <= recv < hi_us:
            out.setdefault(part, []).append(recv)
    return out


def longest_gap_ms(times: List[int], lo_us: int, hi_us: int) -> float:
    """The longest time without a delivery that overlaps [lo, hi)."""
    worst = 0
    for a, b in zip(times, times[1:]):
        if b > lo_us and a < hi_us:
            worst = max(worst, b - a)
    return worst / 1000.0


def rebalance_phase(stayer: List[tuple], mover: List[tuple], event_us: int, settle_us: int,
                    joining: bool) -> dict:
    """What a join (mover joins) or a leave (mover leaves) cost the partitions.

    kept: the stayer's partitions on both sides of the event; moved: those
    that changed hands. A handover is the gap between the last delivery by
    the old owner and the first by the new one."""
    stayer_before = by_partition(stayer, event_us - 3_000_000, event_us)
    stayer_after = by_partition(stayer, settle_us - 2_000_000, settle_us)
    kept = sorted(p for p in stayer_before if p in stayer_after)
    window = by_partition(stayer, event_us - 3_000_000, settle_us)
    kept_pause = max((longest_gap_ms(window.get(p, []), event_us, settle_us) for p in kept),
                     default=0.0)
    normal_gap = max((longest_gap_ms(window.get(p, []), event_us - 3_000_000, event_us - 1)
                      for p in kept), default=0.0)
    old = stayer if joining else mover
    new = mover if joining else stayer
    handovers = []
    moved = []
    new_after = by_partition(new, event_us, settle_us)
    old_before = by_partition(old, event_us - 3_000_000, event_us)
    # The old owner keeps delivering a moving partition until its revoke.
    old_until = by_partition(old, event_us - 3_000_000, settle_us)
    for p, times in new_after.items():
        if p in kept or p not in old_before:
            continue
        moved.append(p)
        earlier = [t for t in old_until[p] if t <= times[0]]
        last_old = earlier[-1] if earlier else old_before[p][-1]
        handovers.append((times[0] - last_old) / 1000.0)
    result = {"kept": len(kept), "moved": len(moved), "kept_pause_ms": kept_pause,
              "normal_gap_ms": normal_gap,
              "handover_ms_max": max(handovers, default=None)}
    if joining:
        first = [recv for recv, _, _ in mover if recv >= event_us]
        result["join_to_first_delivery_ms"] = (first[0] - event_us) / 1000.0 if first else None
    return result


def rebalance_run(ctx, protocol: str) -> dict:
    tools, broker, wd, a = ctx["tools"], ctx["broker"], ctx["workdir"], ctx["args"]
    topic = f"bench-rebalance-{protocol}"
    messages = a.rebalance_messages
    broker.create_topic(topic, 6)
    produce(tools, broker, topic, messages, 100, 6)
    group = f"bench-rebalance-{protocol}-{int(time.time() * 1000)}"
    extra = {"kafka": {"group_protocol": protocol}}
    # A handler acking each batch 10 ms after it arrives: a steady flow with
    # a backlog throughout, so that every pause shows.
    handler_args = ["--delay-ms", "10"]
    first = Sidecar(tools, wd, f"sidecar-rb-{protocol}-1", broker.bootstrap, group, topic, extra)
    first_samples = os.path.join(wd, f"rb-{protocol}-1.samples")
    h1 = Proc(f"handler-rb-{protocol}-1", [tools.ack_handler, "--target", first.target,
                                           "--samples-out", first_samples, *handler_args], wd)
    second = h2 = None
    second_samples = os.path.join(wd, f"rb-{protocol}-2.samples")
    try:
        wait_for(lambda: first.counter("messages_processed") > 20_000, 120, "the first member")
        time.sleep(4)  # a steady flow before the join, to compare against
        join_us = now_us()
        second = Sidecar(tools, wd, f"sidecar-rb-{protocol}-2", broker.bootstrap, group, topic,
                         extra)
        h2 = Proc(f"handler-rb-{protocol}-2", [tools.ack_handler, "--target", second.target,
                                               "--samples-out", second_samples, *handler_args],
                  wd)
        wait_for(lambda: second.counter("messages_delivered") > 0, 120, "the second member")
        time.sleep(10)  # the rebalance settles; kept partitions keep flowing meanwhile
        leave_us = now_us()
        second.proc.stop(60)
        h2.stop(30)
        time.sleep(10)  # the partitions go back
        end_us = now_us()
        stats = first.stats() or {}
    finally:
        for proc in [h2, second.proc if second else None, h1, first.proc]:
            if proc is not None:
                proc.stop(30)
    s1 = read_partition_samples(first_samples)
    s2 = read_partition_samples(second_samples)
    ids = [i for _, _, i in s1 + s2 if i >= 0]
    result = {
        "messages": messages,
        "join": rebalance_phase(s1, s2, join_us, leave_us, joining=True),
        "leave": rebalance_phase(s1, s2, leave_us, end_us, joining=False),
        "deliveries": len(s1) + len(s2),
        "duplicates": len(ids) - len(set(ids)),
        "rebalances_first": int(stats.get("rebalances", 0)),
    }
    j, l = result["join"], result["leave"]
    log(f"  {protocol}: join: first delivery after {_ms(j.get('join_to_first_delivery_ms'))}, "
        f"kept {j['kept']} paused at most {_ms(j['kept_pause_ms'])} (normal gap "
        f"{_ms(j['normal_gap_ms'])}), moved {j['moved']} handed over in {_ms(j['handover_ms_max'])}; "
        f"leave: kept paused {_ms(l['kept_pause_ms'])}, moved {l['moved']} back in "
        f"{_ms(l['handover_ms_max'])}; duplicates {result['duplicates']:,}")
    return result


def _ms(v) -> str:
    return "-" if v is None else f"{v:,.0f} ms"


def section_rebalance(ctx) -> dict:
    a = ctx["args"]
    log(f"rebalance: a second member joins a busy one and leaves again, "
        f"{a.rebalance_messages:,} x 100 B on 6 partitions, per group protocol")
    return {protocol: rebalance_run(ctx, protocol) for protocol in ["classic", "consumer"]}


# ---------------------------------------------------------------- report

def machine_facts(tools: Tools) -> dict:
    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
        except OSError:
            return ""
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024),
        "kernel": platform.release(),
        "sidecar": cmd([tools.sidecar, "--version"]).splitlines()[0] if tools.sidecar else "",
        # The librdkafka the sidecar is linked with, as it reports it.
        "librdkafka": (cmd([tools.sidecar, "--version"]).splitlines()[1:] or [""])[0]
        .removeprefix("librdkafka ").split(" ")[0],
        "grpc": cmd(["pkg-config", "--modversion", "grpc++"]),
        "protobuf": cmd(["pkg-config", "--modversion", "protobuf"]),
        "compiler": cmd(["c++", "--version"]).splitlines()[0],
        "kafka": os.environ.get("KAFKA_VERSION", "4.1.1"),
    }


def yaml_scalar(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text, text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build", required=True, help="a Release build tree")
    p.add_argument("--messages", type=int, default=2_000_000)
    p.add_argument("--kb-messages", type=int, default=1_000_000, help="1 KB case; 0 = skip")
    p.add_argument("--languages", nargs="*", default=["python", "go", "nodejs", "java"])
    p.add_argument("--rates", type=int, nargs="*", default=[10_000, 50_000])
    p.add_argument("--latency-seconds", type=int, default=20)
    p.add_argument("--memory-seconds", type=int, default=30)
    p.add_argument("--rebalance-messages", type=int, default=3_000_000)
    p.add_argument("--only", nargs="*",
                   default=["throughput", "latency", "memory", "scale", "rebalance"])
    p.add_argument("--out", default=os.path.join(REPO, "docs"))
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="sidecar config for every sidecar of the run (default: the defaults)")
    a = p.parse_args()
    for setting in a.set:
        key, _, value = setting.partition("=")
        if key.startswith("kafka.properties."):
            # librdkafka property names have dots of their own; values stay strings.
            props = SIDECAR_SETTINGS.setdefault("kafka", {}).setdefault("properties", {})
            props[key[len("kafka.properties."):]] = value
            continue
        section, _, name = key.partition(".")
        SIDECAR_SETTINGS.setdefault(section, {})[name] = yaml_scalar(value)

    from bench_report import write_report  # beside this file

    tools = Tools(os.path.abspath(a.build))
    workdir = tempfile.mkdtemp(prefix="kafka-sidecar-bench.")
    broker = None
    results = {"args": {k: v for k, v in vars(a).items()}}
    try:
        results["machine"] = machine_facts(tools)
        log("starting Kafka")
        broker = Broker(workdir)
        ctx = {"tools": tools, "broker": broker, "workdir": workdir, "args": a, "done": set()}
        for name, fn in [("throughput", section_throughput), ("latency", section_latency),
                         ("memory", section_memory), ("scale", section_scale),
                         ("rebalance", section_rebalance)]:
            if name in a.only:
                results[name] = fn(ctx)
                ctx["done"].add(name)
        write_report(results, a.out)
        log(f"wrote {a.out}/benchmarks.md and {a.out}/bench/*.png")
        return 0
    finally:
        for proc in list(Proc.live):
            proc.stop(5)
        if broker is not None:
            broker.clean()
        if os.environ.get("BENCH_KEEP_DIR"):
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
