#!/usr/bin/env python3
"""Checks the alert rules and the Grafana dashboard against a running sidecar.

Every metric name in the rules' `expr`s, the dashboard's `expr`s and its
variable queries must be one the sidecar serves on /metrics (a histogram's
_bucket, _sum and _count included), or one Prometheus makes itself (`up`
and the other scrape series, ALERTS). A label matcher on a metric must name
a label its samples carry (or `job`/`instance`, which the scrape adds), so a
panel filtering on a label a metric lacks is an error, not an empty graph.

Also: `promtool check rules` on the rules file, and on the dashboard's
queries turned into recording rules (with Grafana's variables filled in),
so a query Prometheus cannot parse fails here; every alert has `for:`, a
severity label and summary and description annotations; the dashboard has
a `datasource` variable, panels with a gridPos, targets with an expr, and
uses only variables it defines.

Python standard library only. The rules file is read with a line-based
reader for the subset of YAML that Prometheus rule files use (block
mappings and lists, plain, quoted or `|`/`>` block scalars); its count of
rules is checked against promtool's.

usage: check_queries.py (--sidecar BINARY | --metrics-url URL) [--promtool PATH]
                        [--save-metrics FILE] RULES_FILE DASHBOARD_JSON

--sidecar starts `BINARY --dev` (no Kafka needed) on free loopback ports and
reads its /metrics; --metrics-url reads a sidecar that is already running
(or, as file://, what --save-metrics wrote).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Series Prometheus writes itself, for every target or from alerting rules.
PROMETHEUS_BUILTINS = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added",
    "ALERTS", "ALERTS_FOR_STATE",
}
TARGET_LABELS = {"job", "instance"}
# Grafana's own variables; a query may use them without defining them.
GRAFANA_BUILTIN_VARS = {
    "__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
    "__range_ms", "__from", "__to", "__dashboard", "__name", "__org", "__user",
    "__timeFilter",
}
PROMQL_KEYWORDS = {
    "and", "or", "unless", "bool", "by", "without", "on", "ignoring",
    "group_left", "group_right", "offset", "inf", "nan", "start", "end",
}
SEVERITIES = {"critical", "warning", "info"}
IDENT = r"[a-zA-Z_:][a-zA-Z0-9_:]*"


class CheckError(Exception):
    pass


# ---------------------------------------------------------------------------
# What the sidecar exposes


def parse_exposition(text):
    """Returns {family_or_sample_name: set of label names seen on its samples}."""
    names = {}
    histograms = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                names.setdefault(parts[2], set())
                if parts[3] in ("histogram", "summary"):
                    histograms.add(parts[2])
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(rf"({IDENT})(\{{(.*)\}})?\s", line)
        if not m:
            raise CheckError(f"cannot read the /metrics line {line!r}")
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
        names.setdefault(m.group(1), set()).update(labels)
    for h in histograms:
        for suffix in ("_bucket", "_sum", "_count"):
            names.setdefault(h + suffix, set())
    return names


def fetch(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode("utf-8")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics_of_dev_sidecar(binary):
    """/metrics of `binary --dev` once its partitions report lag, so that the
    per-partition families have samples (and labels) too."""
    http = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_SIDECAR_")}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [binary, "--dev", f"--server.http_listen={http}",
             f"--server.grpc_listen=127.0.0.1:{free_port()}"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 60
            text = ""
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    log.seek(0)
                    raise CheckError(f"{binary} --dev exited with {proc.returncode}: "
                                     f"{log.read().decode(errors='replace')[-2000:]}")
                try:
                    text = fetch(f"http://{http}/metrics")
                except (urllib.error.URLError, OSError):
                    text = ""
                if "\nkafka_sidecar_partition_lag{" in text:
                    return text
                time.sleep(0.2)  # poll interval
            if not text:
                raise CheckError(f"{binary} --dev served no /metrics on {http} within 60 s")
            return text  # no partition samples: the names are still there
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------
# PromQL: the metric names and label matchers of a query


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def metric_names(expr):
    e = strip_strings(expr)
    e = re.sub(r"\{[^}]*\}", " ", e)                  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                 # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\boffset\s+-?\w+", " ", e)
    e = re.sub(r"@\s*\S+", " ", e)
    names = set()
    for m in re.finditer(rf"(?<![\w.:$]){IDENT}", e):
        word = m.group(0)
        if word.lower() in PROMQL_KEYWORDS:
            continue
        if re.match(r"\s*\(", e[m.end():]):
            continue  # a function or an aggregation
        names.add(word)
    return names


def selectors(expr):
    """(metric name, set of label names matched) for each `name{...}`."""
    out = []
    for m in re.finditer(rf"(?<![\w.:$])({IDENT})\s*\{{((?:[^}}\"]|\"(?:[^\"\\]|\\.)*\")*)\}}", expr):
        labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"', m.group(2)))
        out.append((m.group(1), labels))
    return out


def check_names(where, expr, exposed):
    errors = []
    for name in sorted(metric_names(expr)):
        if name not in exposed and name not in PROMETHEUS_BUILTINS:
            errors.append(f"{where}: {name} is not a metric the sidecar exposes")
    for name, labels in selectors(expr):
        known = exposed.get(name)
        if not known:
            continue  # unknown (reported above), a builtin, or no samples to learn labels from
        for label in sorted(labels - known - TARGET_LABELS):
            errors.append(f"{where}: {name} has no label {label!r} "
                          f"(its labels: {', '.join(sorted(known)) or 'none'})")
    return errors


# ---------------------------------------------------------------------------
# The rules file


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _scalar(text, where):
    text = text.strip()
    if text.startswith('"'):
        if not text.endswith('"') or len(text) < 2:
            raise CheckError(f"{where}: multi-line quoted scalars are not supported; use | or >")
        return json.loads(text)
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise CheckError(f"{where}: multi-line quoted scalars are not supported; use | or >")
        return text[1:-1].replace("''", "'")
    return re.sub(r"\s+#.*$", "", text)


def _block(lines, i, key_indent):
    """Lines after a `key: |` more indented than the key, joined."""
    body = []
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > key_indent):
        body.append(lines[i].strip())
        i += 1
    return "\n".join(body).strip(), i


def read_rules(path):
    """[{kind, name, line, expr, for, labels, annotations}] of a rules file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    rules = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)- (alert|record):\s*(.+)$", lines[i])
        if not m:
            i += 1
            continue
        item_indent = len(m.group(1))
        rule = {"kind": m.group(2), "name": _scalar(m.group(3), f"{path}:{i + 1}"),
                "line": i + 1, "labels": {}, "annotations": {}}
        key_indent = item_indent + 2
        i += 1
        section = None
        while i < len(lines):
            line = lines[i]
            if not line.strip() or line.lstrip().startswith("#"):
                i += 1
                continue
            ind = _indent(line)
            if ind <= item_indent:
                break
            where = f"{path}:{i + 1}"
            km = re.match(r"^\s*([A-Za-z_][\w-]*):\s*(.*)$", line)
            if not km:
                raise CheckError(f"{where}: cannot read {line.strip()!r}")
            key, value = km.group(1), km.group(2)
            if value.startswith("{") or value.startswith("["):
                raise CheckError(f"{where}: flow mappings are not supported; use block style")
            if value in ("|", "|-", "|+", ">", ">-", ">+"):
                text, i = _block(lines, i + 1, ind)
                if value.startswith(">"):
                    text = " ".join(text.split())
            else:
                text, i = _scalar(value, where), i + 1
            if ind == key_indent:
                section = key if key in ("labels", "annotations") and value == "" else None
                if section is None:
                    rule[key] = text
            elif section is not None and ind > key_indent:
                rule[section][key] = text
            else:
                raise CheckError(f"{where}: unexpected indentation")
        rules.append(rule)
    return rules


def promtool_check_rules(promtool, path):
    result = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
    if result.returncode != 0:
        raise CheckError(f"promtool check rules {path} failed:\n{result.stdout}{result.stderr}")
    m = re.search(r"SUCCESS: (\d+) rules found", result.stdout)
    if not m:
        raise CheckError(f"promtool check rules: unexpected output {result.stdout!r}")
    return int(m.group(1))


def check_rules(path, promtool, exposed):
    count = promtool_check_rules(promtool, path)
    rules = read_rules(path)
    if len(rules) != count:
        raise CheckError(f"{path}: read {len(rules)} rules, promtool found {count}")
    errors = []
    for r in rules:
        where = f"{path}:{r['line']} ({r['name']})"
        if not r.get("expr"):
            errors.append(f"{where}: no expr")
            continue
        errors += check_names(where, r["expr"], exposed)
        if r["kind"] != "alert":
            continue
        if not r.get("for"):
            errors.append(f"{where}: no `for:`; a single evaluation would fire it")
        if r["labels"].get("severity") not in SEVERITIES:
            errors.append(f"{where}: severity label must be one of {sorted(SEVERITIES)}")
        for a in ("summary", "description"):
            if not r["annotations"].get(a):
                errors.append(f"{where}: no {a} annotation")
    return rules, errors


# ---------------------------------------------------------------------------
# The dashboard


def variables_used(text):
    return {a or b or c for a, b, c in re.findall(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", text)}


def fill_variables(expr):
    """A query as Prometheus would get it: intervals as durations, the other
    variables (always inside a label matcher's regex) as `.*`."""
    expr = re.sub(r"\$\{?(__rate_interval|__interval|__range)\}?", "5m", expr)
    return re.sub(r"\$\{\w+(?::\w+)?\}|\$\w+|\[\[\w+\]\]", ".*", expr)


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def dashboard_queries(dashboard):
    """[(where, expr)] of every panel target and query variable."""
    queries = []
    for p in all_panels(dashboard.get("panels", [])):
        for t in p.get("targets", []):
            queries.append((f"panel {p.get('title')!r} target {t.get('refId')}", t.get("expr", "")))
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", q, re.S)
        queries.append((f"variable {v.get('name')!r}", m.group(1) if m else q))
    return queries


def check_dashboard_structure(path, dashboard):
    errors = []
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 36:
        errors.append(f"{path}: schemaVersion {dashboard.get('schemaVersion')!r}, expected 36 or later")
    for key in ("title", "uid"):
        if not dashboard.get(key):
            errors.append(f"{path}: no {key}")
    variables = dashboard.get("templating", {}).get("list", [])
    defined = {v.get("name") for v in variables}
    ds = [v for v in variables if v.get("name") == "datasource"]
    if not ds or ds[0].get("type") != "datasource" or ds[0].get("query") != "prometheus":
        errors.append(f"{path}: no `datasource` variable of type datasource for prometheus")
    ids = set()
    panels = list(all_panels(dashboard.get("panels", [])))
    if not panels:
        errors.append(f"{path}: no panels")
    for p in panels:
        where = f"{path}: panel {p.get('title')!r}"
        if p.get("id") in ids:
            errors.append(f"{where}: duplicate id {p.get('id')}")
        ids.add(p.get("id"))
        grid = p.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in "xywh") or grid.get("x", 0) + grid.get("w", 0) > 24:
            errors.append(f"{where}: gridPos needs integer x, y, w, h within 24 columns")
        if p.get("type") == "row":
            continue
        if not p.get("targets"):
            errors.append(f"{where}: no targets")
        for t in p.get("targets", []):
            if not t.get("expr", "").strip():
                errors.append(f"{where}: target {t.get('refId')} has no expr")
            if t.get("datasource", p.get("datasource", {})).get("uid") != "${datasource}":
                errors.append(f"{where}: target {t.get('refId')} does not use ${{datasource}}")
    for where, expr in dashboard_queries(dashboard):
        for name in sorted(variables_used(expr) - defined - GRAFANA_BUILTIN_VARS):
            errors.append(f"{path}: {where}: variable ${name} is not defined")
    return errors


def promtool_check_queries(path, promtool, queries):
    """Feeds the queries to promtool as recording rules: it parses each."""
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (_, expr) in enumerate(queries):
            f.write(f"      - record: dashboard_query_{i}\n")
            f.write(f"        expr: {json.dumps(fill_variables(expr))}\n")
        name = f.name
    try:
        result = subprocess.run([promtool, "check", "rules", name], capture_output=True, text=True)
        if result.returncode == 0:
            return []
        # Name the query promtool rejects: check them one at a time.
        errors = []
        for where, expr in queries:
            with open(name, "w") as f:
                f.write("groups:\n  - name: dashboard\n    rules:\n      - record: q\n")
                f.write(f"        expr: {json.dumps(fill_variables(expr))}\n")
            r = subprocess.run([promtool, "check", "rules", name], capture_output=True, text=True)
            if r.returncode != 0:
                errors.append(f"{path}: {where}: Prometheus cannot parse {expr!r}: "
                              f"{(r.stdout + r.stderr).strip().splitlines()[-1]}")
        return errors or [f"promtool check rules on the dashboard queries: {result.stdout}{result.stderr}"]
    finally:
        os.unlink(name)


def check_dashboard(path, promtool, exposed):
    try:
        with open(path, encoding="utf-8") as f:
            dashboard = json.load(f)
    except ValueError as e:
        raise CheckError(f"{path}: not JSON: {e}")
    errors = check_dashboard_structure(path, dashboard)
    queries = [(w, e) for w, e in dashboard_queries(dashboard) if e.strip()]
    errors += promtool_check_queries(path, promtool, queries)
    for where, expr in queries:
        errors += check_names(f"{path}: {where}", expr, exposed)
    return queries, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--sidecar", metavar="BINARY")
    source.add_argument("--metrics-url", metavar="URL")
    parser.add_argument("--promtool", default="promtool")
    parser.add_argument("--save-metrics", metavar="FILE",
                        help="also write the /metrics text read to FILE")
    parser.add_argument("rules")
    parser.add_argument("dashboard")
    args = parser.parse_args()
    try:
        promtool = shutil.which(args.promtool)
        if not promtool:
            raise CheckError(f"{args.promtool} not found (Debian package prometheus; "
                             "scripts/install-deps.sh installs it)")
        text = metrics_of_dev_sidecar(args.sidecar) if args.sidecar else fetch(args.metrics_url)
        if args.save_metrics:
            with open(args.save_metrics, "w", encoding="utf-8") as f:
                f.write(text)
        exposed = parse_exposition(text)
        if not any(n.startswith("kafka_sidecar_") for n in exposed):
            raise CheckError("the /metrics read has no kafka_sidecar_ metrics")
        rules, errors = check_rules(args.rules, promtool, exposed)
        queries, dash_errors = check_dashboard(args.dashboard, promtool, exposed)
        errors += dash_errors
    except CheckError as e:
        errors = [str(e)]
    if errors:
        for e in errors:
            print(f"check_queries: {e}", file=sys.stderr)
        sys.exit(1)
    used = set()
    for r in rules:
        used |= metric_names(r["expr"])
    for _, e in queries:
        used |= metric_names(e)
    print(f"check_queries: {len(rules)} rules and {len(queries)} dashboard queries use "
          f"{len(used)} metric names, all served by the sidecar or made by Prometheus")


if __name__ == "__main__":
    main()
