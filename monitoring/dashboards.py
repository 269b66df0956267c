"""The Grafana dashboards as code (grafana-foundation-sdk), written to
monitoring/grafana/dashboards/*.json, which Grafana's file provider loads.

    python monitoring/dashboards.py           # regenerate the JSON
    python monitoring/dashboards.py --check   # exit 1 if the committed JSON differs

Gauges read from the database (incidents, the engine's ages and depths) report
the same value on every replica, so they are combined with max, never summed;
counters and histograms are summed over replicas."""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import barchart, common, dashboard, heatmap, piechart, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

OUT = Path(__file__).resolve().parent / "grafana" / "dashboards"
# The uid the provisioned datasource has (grafana/provisioning/datasources/prometheus.yml).
DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="prometheus")
# Every incident, resolved included, by status and severity, once whatever the number of replicas.
INCIDENTS = "max by (status, severity) (incidents)"


def query(
    expr: str, legend: str = "", *, ref: str = "A", instant: bool = False, table: bool = False
) -> prometheus.Dataquery:
    """A Prometheus query of the provisioned datasource; `instant` asks for the end
    of the range only, `table` for rows of labels and a value (what bar charts read)."""
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    if instant:
        q = q.instant()
    if table:
        q = q.format(PromQueryFormat.TABLE)
    return q


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds, the first step (value None) being the base colour."""
    return (
        dashboard.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value=value, color=color) for value, color in steps])
    )


def fixed(color: str) -> dashboard.FieldColor:
    """One colour for the whole panel."""
    return dashboard.FieldColor().mode(models.FieldColorModeId.FIXED).fixed_color(color)


def total(title: str, expr: str, *, color: str | None = None, unit: str = "short") -> stat.Panel:
    """A single number over the dashboard's time range."""
    panel = stat.Panel().title(title).with_target(query(expr)).unit(unit).height(4).span(6)
    panel = panel.reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]))
    if color:
        panel = panel.color_scheme(fixed(color)).color_mode(common_models.BigValueColorMode.BACKGROUND)
    return panel.graph_mode(common_models.BigValueGraphMode.AREA)


def trend(title: str, *queries: prometheus.Dataquery, unit: str = "short", span: int = 12) -> timeseries.Panel:
    """Series over time."""
    panel = timeseries.Panel().title(title).unit(unit).height(8).span(span).fill_opacity(10)
    for q in queries:
        panel = panel.with_target(q)
    return panel


def bars(title: str, expr: str, x_field: str) -> barchart.Panel:
    """One bar per label value, counted over the dashboard's time range (an instant table)."""
    return (
        barchart.Panel()
        .title(title)
        .with_target(query(expr, instant=True, table=True))
        .x_field(x_field)
        .show_value(common_models.VisibilityMode.AUTO)
        .height(8)
        .span(12)
    )


def distribution(title: str, metric: str) -> heatmap.Panel:
    """A histogram's buckets over time, as Prometheus gives them (no re-bucketing)."""
    q = (
        query(f"sum by (le) (increase({metric}_bucket[$__rate_interval]))", "{{le}}")
        .format(PromQueryFormat.HEATMAP)
        .interval("1m")
    )
    return (
        heatmap.Panel()
        .title(title)
        .with_target(q)
        .calculate(False)
        .y_axis(heatmap.YAxisConfig().unit("s"))
        .height(8)
        .span(12)
    )


def quantile(q: float, metric: str, by: str = "") -> str:
    """The q-quantile of a histogram over the last rate interval."""
    group = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[$__rate_interval])))"


def base(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["incident-platform"])
        .time("now-6h", "now")
        .refresh("30s")
        .timezone("browser")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .editable()
    )


def incident_overview() -> dashboard.Dashboard:
    """Alerts in, incidents out."""
    return (
        base("incident-overview", "Incident overview", "Alerts received, incidents they became, how fast ingestion is.")
        .with_panel(total("Total Alerts Received", "sum(increase(alerts_received_total[$__range]))"))
        .with_panel(total("Total Incidents Created", "sum(increase(incidents_created_total[$__range]))"))
        .with_panel(total("Open Incidents", "sum(max by (status) (incidents_open))", color="red"))
        .with_panel(total("Resolved Incidents", 'sum(max by (severity) (incidents{status="resolved"}))', color="green"))
        .with_panel(
            trend(
                "Alerts by Severity",
                query("sum by (severity) (rate(alerts_received_total[$__rate_interval]))", "{{severity}}"),
                unit="reqps",
            )
        )
        .with_panel(trend("Incidents by Status", query(f"sum by (status) ({INCIDENTS})", "{{status}}")))
        .with_panel(
            bars(
                "Alert Correlation Outcomes",
                "sum by (result) (increase(alerts_correlated_total[$__range]))",
                "result",
            )
        )
        .with_panel(
            trend(
                "Alert Processing Latency",
                query(quantile(0.5, "alert_processing_seconds"), "p50", ref="A"),
                query(quantile(0.95, "alert_processing_seconds"), "p95", ref="B"),
                query(quantile(0.99, "alert_processing_seconds"), "p99", ref="C"),
                unit="s",
            )
        )
        .with_row(dashboard.Row("Noise"))
        .with_panel(
            bars(
                "Suppressed alerts by service",
                "sum by (service) (increase(alerts_suppressed_total[$__range]))",
                "service",
            )
        )
        # Gauges read from the database at scrape time: every replica says the same, so `max`.
        .with_panel(total("Active maintenance windows", "max(maintenance_windows_active)").span(6).height(8))
        .with_panel(
            total("Heartbeats late", "max(heartbeats_late)")
            .color_scheme(dashboard.FieldColor().mode(models.FieldColorModeId.THRESHOLDS))
            .thresholds(thresholds((None, "green"), (1, "red")))
            .span(6)
            .height(8)
        )
        .with_panel(
            bars(
                "Snoozed, merged, split and bulk-changed incidents",
                "sum by (action) (increase(incident_responder_actions_total[$__range]))",
                "action",
            )
        )
    )


def sre_performance() -> dashboard.Dashboard:
    """How fast people acknowledge and resolve."""

    def p50(metric: str) -> str:
        return f"histogram_quantile(0.5, sum by (le) (increase({metric}_bucket[$__range])))"

    return (
        base("sre-performance", "SRE performance", "MTTA and MTTR, and the incidents behind them.")
        .with_panel(
            total("MTTA p50", p50("incident_mtta_seconds"), unit="s")
            .color_scheme(dashboard.FieldColor().mode(models.FieldColorModeId.THRESHOLDS))
            .thresholds(thresholds((None, "green"), (300, "yellow"), (900, "dark-yellow")))
            .span(8)
        )
        .with_panel(
            total("MTTR p50", p50("incident_mttr_seconds"), unit="s")
            .color_scheme(dashboard.FieldColor().mode(models.FieldColorModeId.THRESHOLDS))
            .thresholds(thresholds((None, "green"), (3600, "orange"), (14400, "dark-orange")))
            .span(8)
        )
        .with_panel(
            piechart.Panel()
            .title("Incidents by Severity")
            .with_target(query(f"sum by (severity) ({INCIDENTS})", "{{severity}}", instant=True))
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .height(8)
            .span(8)
        )
        .with_panel(distribution("MTTA distribution", "incident_mtta_seconds"))
        .with_panel(distribution("MTTR distribution", "incident_mttr_seconds"))
        .with_panel(bars("Incident Status Breakdown", f"sum by (status) ({INCIDENTS})", "status"))
        .with_panel(
            trend(
                "Incident Creation Rate by Severity",
                query("sum by (severity) (rate(incidents_created_total[$__rate_interval]))", "{{severity}}"),
                unit="ops",
            )
        )
    )


def platform_health() -> dashboard.Dashboard:
    """Whether the pager itself is healthy."""
    requests = "sum by (job) (rate(http_requests_total[$__rate_interval]))"
    return (
        base("platform-health", "Platform health", "The services, the engine, the outbox, notifications, database.")
        .with_row(dashboard.Row("Services"))
        .with_panel(trend("Request rate per service", query(requests, "{{job}}"), unit="reqps", span=8))
        .with_panel(
            trend(
                "5xx per service",
                # `or ... * 0`: a service without a single 5xx shows 0, not nothing.
                query(
                    f'sum by (job) (rate(http_requests_total{{status=~"5.."}}[$__rate_interval])) or {requests} * 0',
                    "{{job}}",
                ),
                unit="reqps",
                span=8,
            )
        )
        .with_panel(
            trend(
                "Latency p99 per service",
                query(quantile(0.99, "http_request_duration_seconds", by="job"), "{{job}}"),
                unit="s",
                span=8,
            )
        )
        .with_row(dashboard.Row("Engine and outbox"))
        .with_panel(
            trend(
                "Escalation loop",
                query("max(incident_escalation_lag_seconds)", "most overdue escalation", ref="A"),
                query("time() - max(incident_worker_last_cycle_timestamp_seconds)", "since the last cycle", ref="B"),
                unit="s",
                span=8,
            )
        )
        .with_panel(
            trend(
                "Waiting work",
                query("max(incident_oldest_undelivered_page_age_seconds)", "oldest undelivered page", ref="A"),
                query("max(incident_oldest_unassigned_open_age_seconds)", "oldest unassigned open incident", ref="B"),
                unit="s",
                span=8,
            )
        )
        .with_panel(trend("Outbox depth", query("max(incident_outbox_depth)", "pages waiting"), span=4))
        .with_panel(
            total("Schedules with an on-call gap (24 h)", "max(oncall_schedules_with_gap)")
            .color_scheme(dashboard.FieldColor().mode(models.FieldColorModeId.THRESHOLDS))
            .thresholds(thresholds((None, "green"), (1, "red")))
            .span(4)
            .height(8)
        )
        .with_row(dashboard.Row("Notifications and database"))
        .with_panel(
            trend(
                "Notification success by channel",
                query(
                    'sum by (channel) (rate(notifications_sent_total{result="delivered"}[$__rate_interval])) / sum by'
                    ' (channel) (rate(notifications_sent_total{result=~"delivered|failed"}[$__rate_interval]))',
                    "{{channel}}",
                ),
                unit="percentunit",
            )
        )
        .with_panel(
            stat.Panel()
            .title("Database readiness")
            .with_target(query('min by (job) (service_dependency_up{dependency="database"})', "{{job}}"))
            .mappings(
                [
                    models.ValueMap(
                        options={
                            "0": models.ValueMappingResult(text="not ready", color="red"),
                            "1": models.ValueMappingResult(text="ready", color="green"),
                        }
                    )
                ]
            )
            .color_mode(common_models.BigValueColorMode.BACKGROUND)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]))
            .height(8)
            .span(12)
        )
        # The timeline's retention: entries kept level off once old months go (monthly partitions).
        .with_row(dashboard.Row("Retention"))
        .with_panel(trend("Timeline entries kept", query("max(incident_timeline_rows)", "entries"), span=8))
        .with_panel(
            total(
                "Timeline months dropped",
                "sum(increase(incident_timeline_partitions_dropped_total[$__range]))",
            )
            .span(4)
            .height(8)
        )
    )


DASHBOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "incident-overview.json": incident_overview,
    "sre-performance.json": sre_performance,
    "platform-health.json": platform_health,
}


def render(build: Callable[[], dashboard.Dashboard]) -> str:
    """The dashboard as Grafana's JSON, stable from run to run."""
    return json.dumps(build().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed JSON is not what the code makes")
    args = parser.parse_args()
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in DASHBOARDS.items():
        path, text = OUT / name, render(build)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        sys.exit(f"out of date (run: python monitoring/dashboards.py): {', '.join(stale)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
