"""Writes docs/benchmarks.md, docs/bench/results.json and the charts from
bench/run.py's results. docs/bench/notes.md (written by hand: profiling,
before/after figures, analysis) is appended to the report verbatim."""
from __future__ import annotations

import json
import os
from typing import Dict, List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGETS = {
    "throughput_ratio": 0.70,
    "added_p99_ms_at_10k": 1.0,
    "peak_rss_mb": 150.0,
    "scale_loss_percent": 20.0,
}


def _public(obj):
    """Results without the raw sample lists (keys starting with _)."""
    if isinstance(obj, dict):
        return {str(k): _public(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


def _fmt(v, digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _throughput_chart(tp: Dict, path: str) -> None:
    case = tp.get("100 B")
    if not case:
        return
    names = ["raw librdkafka"] + [f"sidecar + {k}" for k in case["sidecar"]]
    rates = [case["raw"]["rate"]] + [v["rate"] for v in case["sidecar"].values()]
    fig, ax = plt.subplots(figsize=(8, 4))
    bars = ax.barh(names[::-1], rates[::-1], color=["#888"] * (len(names) - 1) + ["#333"])
    for b, r in zip(bars, rates[::-1]):
        ax.text(b.get_width(), b.get_y() + b.get_height() / 2, f" {r:,.0f}", va="center", fontsize=8)
    ax.set_xlabel("messages / s (100-byte messages, 6 partitions, until committed)")
    ax.set_title("Throughput by handler language against the raw consumer")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _latency_chart(lat: Dict, path: str) -> None:
    if not lat or not any(r.get("_e2e") for r in lat.values()):
        return  # no samples (re-rendered from results.json): keep the chart
    import numpy as np
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for rate, r in lat.items():
        for ax, key, title in [(axes[0], "_e2e", "produce → handler receive"),
                               (axes[1], "_added", "sidecar-added (handler − raw consumer)")]:
            v = np.sort(np.asarray(r.get(key, []), dtype=float) / 1000.0)
            if len(v) == 0:
                continue
            q = np.arange(1, len(v) + 1) / len(v)
            ax.plot(v, q, label=f"{int(rate):,} msg/s")
            ax.set_title(title)
            ax.set_xlabel("ms")
            ax.set_ylabel("fraction of messages")
            ax.set_xscale("symlog", linthresh=1.0)
            ax.grid(True, alpha=0.3)
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(results: Dict, out_dir: str) -> None:
    chart_dir = os.path.join(out_dir, "bench")
    os.makedirs(chart_dir, exist_ok=True)
    with open(os.path.join(chart_dir, "results.json"), "w") as f:
        json.dump(_public(results), f, indent=2, default=str)

    m = results.get("machine", {})
    lines: List[str] = [
        "# Benchmarks",
        "",
        "Produced by `bench/run.sh` (see README). Every figure below comes from one run",
        "on one machine: the broker, the sidecar, the handlers and the load generators",
        "share its cores, so absolute numbers are low against a production cluster; the",
        "ratios are the point.",
        "",
        "| | |",
        "|---|---|",
        f"| date | {m.get('date', '')} |",
        f"| CPU | {m.get('cpu', '')}, {m.get('cores', '')} cores |",
        f"| memory | {m.get('memory_gib', '')} GiB |",
        f"| kernel | {m.get('kernel', '')} |",
        f"| Kafka | {m.get('kafka', '')} (KRaft, single node, loopback) |",
        f"| librdkafka / gRPC / protobuf | {m.get('librdkafka', '')} / {m.get('grpc', '')} / "
        f"{m.get('protobuf', '')} |",
        f"| compiler | {m.get('compiler', '')} |",
        f"| sidecar | {m.get('sidecar', '')}, Release build, default config |",
        "",
    ]

    summary: List[str] = []
    tp = results.get("throughput")
    if tp:
        lines += ["## Throughput", "",
                  "Each consumer reads the same topic from the start in a group of its own. The raw",
                  "consumer is librdkafka's high-level consumer polling one message at a time",
                  "(`bench/raw_consume.cc`). The sidecar's clock runs from the first delivery to",
                  "the moment the group's committed offsets reach the end of the topic",
                  "(`bench/await_committed.cc` polls them every 10 ms), so it includes the",
                  "handler's work, the settlements and the last commit.",
                  "", "![throughput](bench/throughput.png)", ""]
        for label, case in tp.items():
            raw = case["raw"]
            lines += [f"### {case['messages']:,} × {label}, 6 partitions", "",
                      f"Produced at {_fmt(case['produced']['rate'])} msg/s.", "",
                      "| consumer | msg/s | vs raw | seconds | msg/s to the last settlement | "
                      "CPU µs/msg sidecar / handler | sidecar peak RSS |",
                      "|---|---:|---:|---:|---:|---:|---:|",
                      f"| raw librdkafka, to the last message (median of "
                      f"{', '.join(_fmt(r) for r in raw.get('runs', [raw['rate']]))}) | "
                      f"{_fmt(raw['rate'])} | 1.00 | {raw['read_seconds']:.2f} | | | |",
                      f"| raw librdkafka, to its commit | {_fmt(raw['rate_to_commit'])} | "
                      f"{raw['rate_to_commit'] / raw['rate']:.2f} | {raw['commit_seconds']:.2f} | | | |"]
            for lang, r in case["sidecar"].items():
                handler = "C++ ack handler" if lang == "cpp" else f"{lang} example handler"
                x = r.get("extra", {})
                lines.append(f"| sidecar + {handler} | {_fmt(r['rate'])} | "
                             f"{r['rate'] / raw['rate']:.2f} | {r['seconds']:.2f} | "
                             f"{_fmt(x.get('settled_rate'))} | "
                             f"{_fmt(x.get('sidecar_cpu_us_per_msg'), 2)} / "
                             f"{_fmt(x.get('handler_cpu_us_per_msg'), 2)} | "
                             f"{_fmt(r['peak_rss_mb'])} MB |")
            lines.append("")
            if label == "100 B" and "cpp" in case["sidecar"]:
                ratio = case["sidecar"]["cpp"]["rate"] / raw["rate"]
                summary.append(f"| C++ handler ≥ 70% of raw, 100 B | {ratio:.0%} | "
                               f"{_met(ratio >= TARGETS['throughput_ratio'])} |")
        lines += ["The example handlers do real work per message (UTF-8 JSON decode and a sum);",
                  "the C++ ack handler does none, so its row is the sidecar's own ceiling. The",
                  "sidecar commits every `commit_interval_ms` (1,000 by default), so the clock to",
                  "the commit runs up to a second past the last settlement; *msg/s to the last",
                  "settlement* stops at the moment `/stats` (polled every 50 ms) showed every",
                  "message settled. CPU is each process's user + system time up to then.", ""]

    lat = results.get("latency")
    if lat:
        lines += ["## Latency", "",
                  "The producer writes each message's send time (µs) into its payload and paces",
                  "itself to the rate. A raw consumer and the sidecar with the C++ ack handler",
                  "read the same messages at the same time; each records when it received every",
                  "message. *Sidecar-added* is, per message, the handler's receive time minus the",
                  "raw consumer's: what the sidecar's hop costs over consuming directly. The two",
                  "fetch independently, so a message can reach the handler first and the",
                  "difference is then negative; the percentiles include those. A 3-second",
                  "warm-up is not counted.", "",
                  "| rate | path | n | p50 ms | p99 ms | p99.9 ms | max ms |",
                  "|---:|---|---:|---:|---:|---:|---:|"]
        for rate, r in lat.items():
            for key, name in [("produce_to_raw", "produce → raw consumer"),
                              ("produce_to_handler", "produce → handler (via sidecar)"),
                              ("sidecar_added", "sidecar-added")]:
                q = r.get(key) or {}
                lines.append(f"| {int(rate):,} | {name} | {_fmt(q.get('n'))} | "
                             f"{_fmt(q.get('p50'), 2)} | {_fmt(q.get('p99'), 2)} | "
                             f"{_fmt(q.get('p99.9'), 2)} | {_fmt(q.get('max'), 2)} |")
        lines += ["", "![latency](bench/latency.png)", ""]
        r10 = lat.get(10000) or lat.get("10000")
        if r10 and r10.get("sidecar_added"):
            p99 = r10["sidecar_added"]["p99"]
            summary.append(f"| sidecar-added p99 < 1 ms at 10,000 msg/s | {p99:.2f} ms | "
                           f"{_met(p99 < TARGETS['added_p99_ms_at_10k'])} |")

    mem = results.get("memory")
    if mem:
        lines += ["## Memory", "",
                  f"A backlog of {results['args']['messages']:,} × 100 B and a handler that acks",
                  f"each batch 50 ms after receiving it, for {mem['seconds']} s: the sidecar",
                  "fetches ahead only as far as its per-partition limits allow.", "",
                  "| peak RSS | threads | processed meanwhile |", "|---:|---:|---:|",
                  f"| {_fmt(mem['peak_rss_mb'])} MB | {mem['threads']} | {_fmt(mem['processed'])} |",
                  ""]
        summary.append(f"| peak RSS < 150 MB, 2,000,000 backlog, slow handler | "
                       f"{mem['peak_rss_mb']:.0f} MB | "
                       f"{_met(mem['peak_rss_mb'] < TARGETS['peak_rss_mb'])} |")

    sc = results.get("scale")
    if sc:
        w, n = sc["1000"], sc["6"]
        lines += ["## Scale", "",
                  f"{w['messages']:,} × 100 B, the C++ ack handler with 64 streams.", "",
                  "| partitions | msg/s | seconds | sidecar peak RSS | sidecar threads |",
                  "|---:|---:|---:|---:|---:|",
                  f"| 6 | {_fmt(n['rate'])} | {n['seconds']:.2f} | {_fmt(n['peak_rss_mb'])} MB | "
                  f"{n['threads']} |",
                  f"| 1,000 | {_fmt(w['rate'])} | {w['seconds']:.2f} | {_fmt(w['peak_rss_mb'])} MB | "
                  f"{w['threads']} |", "",
                  "With 6 partitions only 6 of the 64 streams are bound to a partition. Threads",
                  "stay flat: dispatchers own many partitions each. Memory does not: librdkafka",
                  "prefetches per partition queue (`queued.min.messages`,",
                  "`queued.max.messages.kbytes`), so the 1,000-partition run holds much more of",
                  "the topic in memory than the 6-partition one.", ""]
        change = (f"{sc['loss_percent']:.0f}% slower" if sc["loss_percent"] > 0
                  else f"{-sc['loss_percent']:.0f}% faster")
        summary.append(f"| 1,000 partitions: < 20% loss, no thread per partition | "
                       f"{change} than 6 partitions, {w['threads']} sidecar threads | "
                       f"{_met(sc['loss_percent'] < TARGETS['scale_loss_percent'] and w['threads'] < 100)} |")

    rb = results.get("rebalance")
    if rb:
        lines += ["## Rebalance cost", "",
                  f"A sidecar consumes a backlog of {next(iter(rb.values()))['messages']:,} × 100 B on 6",
                  "partitions through the C++ ack handler, acking each batch 10 ms after it",
                  "arrives (a steady flow, so every pause shows). A second sidecar with its own",
                  "handler joins the group, runs for 10 s, and is stopped by SIGTERM; the first",
                  "takes its partitions back. Every handler records when each message of each",
                  "partition arrived. Default configuration apart from `kafka.group_protocol`;",
                  "the broker's group settings are Kafka's defaults (the consumer protocol's",
                  "heartbeat interval among them: 5 s).", "",
                  "- *first delivery*: from the newcomer's start (process launch) to its first",
                  "  message;",
                  "- *kept pause*: the longest time without a delivery on a partition that stays",
                  "  with the first sidecar, from the event until the group settles, next to the",
                  "  longest such gap in the 3 s before it (*normal*);",
                  "- *handover*: for a partition that moves, from the old owner's last delivery to",
                  "  the new owner's first (the revoke waits for in-flight settlements, then",
                  "  commits);",
                  "- *duplicates*: messages delivered more than once in the whole run.", "",
                  "| protocol | join: first delivery | join: kept pause (normal) | join: handover "
                  "| leave: kept pause (normal) | leave: handover | duplicates |",
                  "|---|---:|---:|---:|---:|---:|---:|"]

        def ms(v):
            return "–" if v is None else f"{v:,.0f} ms"
        for protocol, r in rb.items():
            j, l = r["join"], r["leave"]
            lines.append(f"| {protocol} | {ms(j.get('join_to_first_delivery_ms'))} | "
                         f"{ms(j['kept_pause_ms'])} ({ms(j['normal_gap_ms'])}) | "
                         f"{ms(j['handover_ms_max'])} ({j['moved']} moved) | "
                         f"{ms(l['kept_pause_ms'])} ({ms(l['normal_gap_ms'])}) | "
                         f"{ms(l['handover_ms_max'])} ({l['moved']} moved) | "
                         f"{_fmt(r['duplicates'])} of {_fmt(r['deliveries'])} |")
        lines += ["", "Kept partitions do not pause: their gaps stay at the normal flow's. Where the",
                  "time goes otherwise: under `classic` the members already in the group learn of",
                  "a rebalance at their next heartbeat (`kafka.heartbeat_interval_ms`, 3 s by",
                  "default), then the two rounds of the cooperative protocol run; a leaving",
                  "member's LeaveGroup starts the rebalance at once. Under `consumer` the broker",
                  "assigns a newcomer its first partitions as soon as their owner has released",
                  "them, but each member learns of a change at its next heartbeat (the group's",
                  "`consumer.heartbeat.interval.ms`, 5 s by default on the broker), which is what",
                  "the handover back after a leave waits for. Shorter heartbeats shorten both.", "",
                  "The e2e scenario `tests/e2e/scale_out_e2e_test.cc` measures the same under",
                  "load with operator pauses and five membership changes, and asserts bounds on",
                  "stalls and duplicates.", ""]

    if summary:
        head = ["## Targets", "", "| target | measured | |", "|---|---|---|"] + summary + [""]
        # Targets go right after the machine table.
        cut = next(k for k, l in enumerate(lines) if l.startswith("## "))
        lines[cut:cut] = head

    notes = os.path.join(chart_dir, "notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            lines += [f.read().rstrip(), ""]

    with open(os.path.join(out_dir, "benchmarks.md"), "w") as f:
        f.write("\n".join(lines))
    _throughput_chart(tp or {}, os.path.join(chart_dir, "throughput.png"))
    _latency_chart(lat or {}, os.path.join(chart_dir, "latency.png"))


if __name__ == "__main__":
    # Re-renders docs/benchmarks.md from docs/bench/results.json, e.g. after
    # editing docs/bench/notes.md; the latency chart needs a full run.
    import sys

    results_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "bench", "results.json")
    with open(results_path) as f:
        loaded = json.load(f)
    if "latency" in loaded:
        loaded["latency"] = {int(k): v for k, v in loaded["latency"].items()}
    write_report(loaded, os.path.dirname(os.path.dirname(os.path.abspath(results_path))))
