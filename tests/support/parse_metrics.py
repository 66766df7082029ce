#!/usr/bin/env python3
"""Parses Prometheus text exposition with prometheus_client's own parser.

Reads the text from FILE (or stdin) and prints one line per sample:

    name<TAB>k=v,k=v<TAB>value

labels sorted by name; in label values a backslash, comma, equals sign, tab
and newline are escaped with a backslash (\\, \\,, \\=, \\t, \\n). Exits 1
with the parser's message if the text does not parse.
"""
import sys


def escape(value):
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
            .replace("\t", "\\t").replace("\n", "\\n"))


def main():
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError as e:
        print(f"parse_metrics: prometheus_client not importable ({e}); "
              "run scripts/install-deps.sh", file=sys.stderr)
        return 2
    if len(sys.argv) > 2:
        print("usage: parse_metrics.py [FILE]", file=sys.stderr)
        return 2
    if len(sys.argv) == 2:
        with open(sys.argv[1], encoding="utf-8") as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    lines = []
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={escape(v)}" for k, v in sorted(sample.labels.items()))
                lines.append(f"{sample.name}\t{labels}\t{float(sample.value)!r}")
    except Exception as e:  # the parser raises ValueError and others
        print(f"parse_metrics: not valid Prometheus text: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 1
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
