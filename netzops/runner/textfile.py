"""A report's metrics in the Prometheus text format, for node_exporter's textfile collector
(`netzops report daily --prometheus /var/lib/node_exporter/textfile/netzops.prom`).

Side-car metric names are dotted (`containers.backend.memory_bytes`); here they become
Prometheus names with labels, in base units as the Prometheus naming conventions ask:

    containers.backend.memory_bytes      → netzops_containers_memory_bytes{service="backend"}
    containers.backend.cpu_percent       → netzops_containers_cpu_ratio{service="backend"} (÷100)
    http.api.p95_ms                      → netzops_http_p95_seconds{endpoint="api"} (÷1000)
    host.disk./var/lib/docker.percent    → netzops_host_disk_used_ratio{mount="/var/lib/docker"}
    logs.backend.5m.error_rate_percent   → netzops_logs_error_rate_ratio{service=…,window="5m"}
    tls.frontend.days_left               → netzops_tls_remaining_seconds{endpoint="frontend"}

Every sample also carries `target` and `report`. Two summary families say how the run went:
`netzops_report_findings{priority}` and `netzops_report_last_run_timestamp_seconds`.
The file is written atomically (temporary file, then rename) so the collector never reads
half of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from netzops.findings import Finding, Priority

PREFIX = "netzops"
#: metric families whose second dotted part is a label (family → label name)
LABELLED = {
    "containers": "service",
    "http": "endpoint",
    "logs": "service",
    "tls": "endpoint",
    "volumes": "volume",
    "network": "network",
    "sweep": "check",
}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float
    source: str  # the side-car's dotted name


def _unit(name: str, value: float) -> tuple[str, float]:
    """The last name part in base units: _percent → _ratio (÷100), _ms → _seconds (÷1000),
    _s → _seconds, days_left → remaining_seconds (×86400)."""
    if name == "percent" or name.endswith("_percent"):
        stem = name[: -len("percent")].rstrip("_")
        return (f"{stem}_ratio" if stem else "used_ratio"), value / 100
    if name.endswith("_ms"):
        return name[:-3] + "_seconds", value / 1000
    if name.endswith("_s"):
        return name[:-2] + "_seconds", value
    if name == "days_left":
        return "remaining_seconds", value * 86400
    return name, value


def _clean(text: str) -> str:
    text = re.sub(r"[^a-zA-Z0-9_]", "_", text).strip("_")
    return f"_{text}" if text[:1].isdigit() else text


def sample(dotted: str, value: float) -> Sample:
    """One side-car metric as a Prometheus sample (name, labels, value in base units)."""
    parts = dotted.split(".")
    labels: list[tuple[str, str]] = []
    if dotted.startswith("host.disk.") and len(parts) >= 4:
        mount, last = dotted[len("host.disk.") :].rsplit(".", 1)
        family, labels = ["host", "disk"], [("mount", mount)]
        parts = [*family, last]
    elif parts[0] in LABELLED and len(parts) >= 3:
        labels = [(LABELLED[parts[0]], parts[1])]
        if parts[0] == "logs":
            window = parts[2] if len(parts) >= 4 and re.fullmatch(r"\d+[smhd]", parts[2]) else "run"
            labels.append(("window", window))
            parts = [parts[0], *[p for p in parts[2:] if p != window]]
        else:
            parts = [parts[0], *parts[2:]]
    elif parts[0] == "docker" and len(parts) == 3:
        labels = [("kind", parts[1])]
        parts = [parts[0], parts[2]]
    last, converted = _unit(parts[-1], float(value))
    name = "_".join(_clean(p) for p in [PREFIX, *parts[:-1], last] if _clean(p))
    return Sample(name, tuple(labels), converted, dotted)


def samples(metrics: Mapping[str, float]) -> list[Sample]:
    """All metrics as samples; where two dotted names map to one series the first wins."""
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], Sample] = {}
    for dotted in sorted(metrics):
        s = sample(dotted, metrics[dotted])
        seen.setdefault((s.name, s.labels), s)
    return list(seen.values())


def write(
    path: Path,
    metrics: Mapping[str, float],
    findings: Sequence[Finding],
    target: str,
    report: str,
    finished: datetime,
) -> int:
    """Write the metrics, the findings per priority and the run's time to `path` in the
    Prometheus text format (atomically); returns the number of samples written."""
    from prometheus_client import CollectorRegistry, write_to_textfile
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.registry import Collector

    base = [("target", target), ("report", report)]
    found = samples(metrics)

    class _Report(Collector):
        def collect(self) -> Iterator[GaugeMetricFamily]:
            families: dict[str, tuple[list[str], GaugeMetricFamily]] = {}
            for s in found:
                names = [k for k, _ in base] + [k for k, _ in s.labels]
                if s.name not in families:
                    help_text = f"netzops side-car metric {s.source}"
                    families[s.name] = (names, GaugeMetricFamily(s.name, help_text, labels=names))
                if families[s.name][0] != names:
                    continue  # one label set per family
                values = [v for _, v in base] + [v for _, v in s.labels]
                families[s.name][1].add_metric(values, s.value)
            yield from (family for _, family in families.values())
            counts = GaugeMetricFamily(
                f"{PREFIX}_report_findings",
                "findings of the report's records by priority",
                labels=["target", "report", "priority"],
            )
            for p in Priority:
                counts.add_metric([target, report, p.name], sum(f.priority == p for f in findings))
            yield counts
            when = GaugeMetricFamily(
                f"{PREFIX}_report_last_run_timestamp_seconds",
                "when the report finished (Unix time)",
                labels=["target", "report"],
            )
            when.add_metric([target, report], finished.timestamp())
            yield when

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Report())
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)
    return len(found) + len(Priority) + 1
