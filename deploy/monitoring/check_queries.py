#!/usr/bin/env python3
"""Checks the queries of alerts.yaml and dashboard.json. Run by check.sh; exits non-zero with one line per problem.

  check_queries.py dashboard PROMQL_OUT   the dashboard's model (valid JSON, data source input and variables,
                                          every panel on the data source variable and filtered by $job and
                                          $instance); writes its queries as a rules file for `promtool check rules`
  check_queries.py coverage               every alert has a severity, a summary and a description, a test in
                                          alerts.test.yaml that fires it and one that does not, and a README row
  check_queries.py exported SCRAPE...     every metric, label and literal label value the rules and the dashboard
                                          select is in the given /metrics scrapes (or made by a recording rule, or
                                          Prometheus's own `up`)

Selectors are found by a small tokenizer, so the check needs nothing but PyYAML (which .ci/run installs anyway):
strings, ranges and label sets are lexed, and an identifier is a metric unless it is a keyword, an aggregation or
followed by "(". promtool has parsed every query before this runs (check.sh), so the input is valid PromQL.
"""
import json
import pathlib
import re
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
# Labels Prometheus adds at scrape time, and the series it makes itself.
TARGET_LABELS = {"job", "instance"}
PROMETHEUS_SERIES = {"up": {}}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring",
            "group_left", "group_right", "atan2"}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile", "limitk", "limit_ratio"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<labels>\{(?:[^}"']|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')*\})
  | (?P<duration>(?<![\w.])\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*(?![\w.]))
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE)
MATCHER = re.compile(r"""\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*,?""")
REGEX_META = set(".*+?()[]^$\\")
problems = []


def tokens(expr):
    return [(m.lastgroup, m.group()) for m in TOKEN.finditer(expr) if m.lastgroup != "space"]


def matchers(block):
    """`{a="x", b=~"y|z"}` -> [("a", "=", "x"), ("b", "=~", "y|z")]."""
    inner, found, pos = block[1:-1], [], 0
    while inner[pos:].strip():
        m = MATCHER.match(inner, pos)
        if not m:
            raise ValueError(f"cannot read label matchers {block}")
        found.append((m.group(1), m.group(2), m.group(3)[1:-1]))
        pos = m.end()
    return found


def selectors(expr):
    """The vector selectors of `expr` as (metric, matchers), and the labels its grouping clauses name."""
    toks, found, grouping, i = tokens(expr), [], [], 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else (None, None)
        if kind == "ident" and text in GROUPING and nxt[1] == "(":
            i += 2
            while i < len(toks) and toks[i][1] != ")":
                if toks[i][0] == "ident":
                    grouping.append(toks[i][1])
                i += 1
        elif kind == "ident" and text not in KEYWORDS | AGGREGATIONS and nxt[1] != "(":
            found.append((text, matchers(nxt[1]) if nxt[0] == "labels" else []))
        elif kind == "labels" and (i == 0 or toks[i - 1][0] != "ident"):
            named = [v for label, op, v in matchers(text) if label == "__name__" and op == "="]
            found.append((named[0] if named else "", matchers(text)))
        i += 1
    return found, grouping


def rule_queries(path):
    """(where, expr) of every rule in a rules file, and the names its recording rules define."""
    doc = yaml.safe_load(path.read_text())
    queries, recorded = [], {}
    for group in doc["groups"]:
        for rule in group["rules"]:
            name = rule.get("record") or rule.get("alert")
            queries.append((f"{path.name}: {name}", rule["expr"]))
            if "record" in rule:
                recorded[rule["record"]] = rule["expr"]
    return queries, recorded


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(dashboard):
    """(where, expr) of every panel target and variable query; label_values(sel, label) counts as `sel`."""
    queries = []
    for panel in panels_of(dashboard):
        for target in panel.get("targets", []):
            queries.append((f"dashboard.json: panel {panel.get('id')} {panel.get('title')!r} {target.get('refId')}",
                            target.get("expr", "")))
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        m = re.fullmatch(r"\s*label_values\((.*),\s*([a-zA-Z_]\w*)\s*\)\s*", query)
        if not m:
            problems.append(f"dashboard.json: variable {var.get('name')}: expected label_values(selector, label)")
            continue
        queries.append((f"dashboard.json: variable {var['name']}", f"group by ({m.group(2)}) ({m.group(1)})"))
    return queries


def for_promtool(expr):
    """Grafana's placeholders replaced by what they expand to, so promtool can parse the query."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def check_dashboard(path, promql_out):
    try:
        dashboard = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        problems.append(f"dashboard.json: not JSON: {e}")
        return
    inputs = {i.get("name") for i in dashboard.get("__inputs", [])}
    if "DS_PROMETHEUS" not in inputs:
        problems.append("dashboard.json: no DS_PROMETHEUS input")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    for name in ("datasource", "job", "instance"):
        if name not in variables:
            problems.append(f"dashboard.json: no ${name} variable")
    if variables.get("datasource", {}).get("type") != "datasource":
        problems.append("dashboard.json: $datasource is not a data source variable")
    ids = [p.get("id") for p in panels_of(dashboard)]
    if len(ids) != len(set(ids)):
        problems.append("dashboard.json: panel ids repeat")
    for panel in panels_of(dashboard):
        where = f"dashboard.json: panel {panel.get('id')} {panel.get('title')!r}"
        if "gridPos" not in panel:
            problems.append(f"{where}: no gridPos")
        if panel.get("type") == "row":
            continue
        if not panel.get("targets"):
            problems.append(f"{where}: no query")
        sources = [panel.get("datasource")] + [t.get("datasource") for t in panel.get("targets", [])]
        if any((s or {}).get("uid") != "${datasource}" for s in sources):
            problems.append(f"{where}: data source is not ${{datasource}}")
        for target in panel.get("targets", []):
            found, _ = selectors(target.get("expr", ""))
            for metric, ms in found:
                filters = {(label, op, value) for label, op, value in ms}
                if not {("job", "=~", "$job"), ("instance", "=~", "$instance")} <= filters:
                    problems.append(f"{where}: {metric} is not filtered by job=~\"$job\", instance=~\"$instance\"")
    rules = [{"record": f"dashboard:query_{i}", "expr": for_promtool(expr)}
             for i, (_, expr) in enumerate(dashboard_queries(dashboard)) if expr]
    pathlib.Path(promql_out).write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))


def check_coverage():
    alerts = [r for g in yaml.safe_load((HERE / "alerts.yaml").read_text())["groups"] for r in g["rules"]
              if "alert" in r]
    fired, quiet = set(), set()
    for test in yaml.safe_load((HERE / "alerts.test.yaml").read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
    readme = (HERE.parent.parent / "README.md").read_text()
    for rule in alerts:
        name = rule["alert"]
        if rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            problems.append(f"alerts.yaml: {name}: severity is not critical, warning or info")
        for annotation in ("summary", "description"):
            if not rule.get("annotations", {}).get(annotation):
                problems.append(f"alerts.yaml: {name}: no {annotation}")
        if name not in fired or name not in quiet:
            problems.append(f"alerts.test.yaml: {name} lacks a test where it fires and one where it does not")
        if f"| `{name}` |" not in readme:
            problems.append(f"README.md: no row for {name} in the Monitoring table")


def read_scrape(path):
    """metric name -> {label: {values}} from the Prometheus text format; histograms also by their suffixes."""
    series = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s", line)
        if not m:
            problems.append(f"{path}: unreadable line {line!r}")
            continue
        labels = series.setdefault(m.group(1), {})
        for label, value in re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""):
            labels.setdefault(label, set()).add(value)
    return series


def literal_values(op, value):
    """The values a matcher names outright: `a` of `=a`, `a`, `b` of `=~a|b`; none for a pattern or a variable."""
    if "$" in value or value == "":
        return []
    if op in ("=", "!="):
        return [value]
    alternatives = value.split("|")
    return [] if any(REGEX_META & set(a) for a in alternatives) else alternatives


def check_query(where, expr, exported, recorded):
    found, grouping = selectors(expr)
    known_labels = set(TARGET_LABELS)
    for metric, ms in found:
        if metric in recorded:
            inner, _ = selectors(recorded[metric])
            known_labels |= {label for name, _ in inner for label in exported.get(name, {})}
            continue
        if metric not in exported:
            problems.append(f"{where}: metric {metric or '(unnamed)'} is not exported by the services")
            continue
        labels = exported[metric]
        known_labels |= set(labels)
        for label, op, value in ms:
            if label in TARGET_LABELS or label == "__name__":
                continue
            if label not in labels:
                problems.append(f"{where}: {metric} has no label {label}")
                continue
            for v in literal_values(op, value):
                if v not in labels[label]:
                    problems.append(f"{where}: {metric} never has {label}=\"{v}\" (seen: {sorted(labels[label])})")
    for label in grouping:
        if label not in known_labels:
            problems.append(f"{where}: groups by {label}, which none of its metrics has")


def check_exported(scrapes):
    exported = dict(PROMETHEUS_SERIES)
    for path in scrapes:
        for name, labels in read_scrape(path).items():
            merged = exported.setdefault(name, {})
            for label, values in labels.items():
                merged.setdefault(label, set()).update(values)
    queries, recorded = rule_queries(HERE / "alerts.yaml")
    queries += dashboard_queries(json.loads((HERE / "dashboard.json").read_text()))
    for where, expr in queries:
        check_query(where, expr, exported, recorded)
    # The check must be able to fail: a made-up metric, label and value are each reported.
    before = len(problems)
    check_query("self-test", 'sum by (nope) (rate(qrlogin_made_up_total[5m])) + qrlogin_sessions_total{event="made_up"}'
                ' + qrlogin_sessions_total{made_up="x"}', exported, recorded)
    caught = len(problems) - before
    del problems[before:]
    if caught != 4:
        problems.append(f"self-test: expected 4 problems in a made-up query, found {caught}")
    if not problems:
        names = ", ".join(sorted(n for n in exported if n.startswith("qrlogin_")))
        print(f"{len(queries)} queries select only exported metrics, labels and label values ({names})")


def main(argv):
    if len(argv) == 3 and argv[1] == "dashboard":
        check_dashboard(HERE / "dashboard.json", argv[2])
    elif len(argv) == 2 and argv[1] == "coverage":
        check_coverage()
    elif len(argv) >= 3 and argv[1] == "exported":
        check_exported(argv[2:])
    else:
        sys.exit(__doc__)
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main(sys.argv)
