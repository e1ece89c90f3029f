"""The alert rules and the Grafana dashboard shipped in docs/monitoring/ are valid and honest.

* `promtool check rules` parses every rule and annotation template;
* `promtool test rules` runs alert_cases.yml: each alert fires on the series it is about,
  after its `for:`, and not before, and nothing fires on a healthy instance;
* every PromQL expression of the dashboard parses (promtool, as recording rules), and the
  dashboard has the structure Grafana needs (unique panel ids, targets, a grid that fits);
* every `segmap_*` metric the rules and the dashboard name is one the service exports.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "monitoring" / "segmap-alerts.yml"
DASHBOARD = ROOT / "docs" / "monitoring" / "segmap-dashboard.json"
CASES = Path(__file__).with_name("alert_cases.yml")
_METRIC = re.compile(r"\b(segmap_[a-z_]+)")


@pytest.fixture(scope="module")
def promtool() -> str:
    require_tool("promtool")
    import shutil

    return shutil.which("promtool")


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120)


def test_promtool_checks_the_alert_rules(promtool):
    res = run(promtool, "check", "rules", str(RULES))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS: 10 rules found" in res.stdout


def _rules_without_annotations(tmp_path: Path) -> Path:
    doc = yaml.safe_load(RULES.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    out = tmp_path / "rules.yml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


def _unit_test(promtool: str, tmp_path: Path, rules: Path) -> subprocess.CompletedProcess:
    cases = yaml.safe_load(CASES.read_text())
    cases["rule_files"] = [str(rules)]
    path = tmp_path / "cases.yml"
    path.write_text(yaml.safe_dump(cases, sort_keys=False))
    return run(promtool, "test", "rules", str(path))


def test_each_alert_fires_when_it_should_and_not_before(promtool, tmp_path):
    res = _unit_test(promtool, tmp_path, _rules_without_annotations(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    tested = {c["alertname"] for t in yaml.safe_load(CASES.read_text())["tests"] for c in t["alert_rule_test"]}
    shipped = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert tested == shipped  # every shipped alert has a case


def test_the_cases_can_fail(promtool, tmp_path):
    """A lag threshold moved from 15 minutes to a day makes the unit tests fail."""
    rules = _rules_without_annotations(tmp_path)
    rules.write_text(rules.read_text().replace("segmap_outbox_oldest_undelivered_age_seconds) > 900",
                                               "segmap_outbox_oldest_undelivered_age_seconds) > 86400"))
    res = _unit_test(promtool, tmp_path, rules)
    assert res.returncode != 0 and "SegmapDeliveryLagging" in res.stdout + res.stderr


def _dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p["targets"]]


def test_the_dashboard_is_well_formed(promtool, tmp_path):
    dash = json.loads(DASHBOARD.read_text())
    assert dash["title"] and dash["uid"] and isinstance(dash["schemaVersion"], int)
    names = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "instance"} <= names
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    cells: set[tuple[int, int]] = set()
    for p in dash["panels"]:
        assert p["type"] in ("stat", "timeseries") and p["title"]
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"panel {p['title']!r} overlaps another"
        cells |= mine
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(refs) == len(set(refs)) and all(t["expr"].strip() for t in p["targets"])
    # every expression parses: promtool checks them as recording rules, with Grafana's variables filled in
    exprs = [e.replace("$__rate_interval", "5m").replace("$instance", ".*") for e in _dashboard_exprs()]
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:expr{i}", "expr": e}
                                                         for i, e in enumerate(exprs)]}]}
    path = tmp_path / "dashboard-exprs.yml"
    path.write_text(yaml.safe_dump(rules))
    res = run(promtool, "check", "rules", str(path))
    assert res.returncode == 0, res.stdout + res.stderr


def _exported_metric_names() -> set[str]:
    from segmap.delivery.worker import DeliveryStats
    from segmap.service.metrics import ServiceMetrics

    metrics = ServiceMetrics()
    metrics.add_delivery_counters(lambda: DeliveryStats())
    text = metrics.render().decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def test_rules_and_dashboard_name_only_metrics_the_service_exports():
    exported = _exported_metric_names()
    named = set(_METRIC.findall(RULES.read_text())) | {m for e in _dashboard_exprs() for m in _METRIC.findall(e)}
    base = {re.sub(r"_(bucket|sum|count)$", "", n) if re.sub(r"_(bucket|sum|count)$", "", n) in exported else n
            for n in named}
    assert named and base <= exported, sorted(base - exported)
