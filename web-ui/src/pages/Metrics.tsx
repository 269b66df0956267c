// MTTA and MTTR over time, by service and severity, and incidents per day, as
// charts (uPlot, bundled). One call of incident-management's daily series per
// severity plus one for all (each a single grouped query), days counted in the
// browser's time zone. The service, severity and range are kept in the URL.
import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { incidents, must, oncall, type IncidentTypes } from "../api/client";
import { ErrorNote, Loading } from "../components/states";
import { duration, SEVERITIES } from "../format";
import "./metrics.css";
import { everything } from "../api/pages";

type Daily = IncidentTypes["schemas"]["DailyStats"];
type Severity = (typeof SEVERITIES)[number];
const RANGES = { "14": "Last 2 weeks", "30": "Last 30 days", "90": "Last 90 days" } as const;
const DAY_MS = 86_400_000;
// Line colours from the stylesheet's variables, so they follow the theme and
// severities look as they do in the incident list.
const COLOUR_OF: Record<string, string> = { MTTA: "--accent", MTTR: "--sev-high" };
function colour(series: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(COLOUR_OF[series] ?? `--sev-${series}`);
  return value.trim() || "currentColor";
}

type Axis = { label: string; format: (value: number) => string; incrs: number[] };
// Times in seconds, ticked at steps people say ("30 s", "5 min", "2 h") and written
// so; counts ticked at whole numbers.
const TIME: Axis = {
  label: "time",
  format: (v) => duration(v),
  incrs: [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 4 * 3600, 12 * 3600, 86400, 7 * 86400],
};
const COUNT: Axis = {
  label: "incidents",
  format: (v) => String(v),
  incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000],
};

function Chart({ title, data, series, axis }: { title: string; data: uPlot.AlignedData; series: string[]; axis: Axis }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const text = colour("info");
    const plot = new uPlot(
      {
        width: Math.max(280, box.current.clientWidth - 16),
        height: 220,
        series: [
          {},
          ...series.map((name) => ({
            label: name,
            stroke: colour(name),
            width: 2,
            spanGaps: true,
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : axis.format(v)),
          })),
        ],
        axes: [
          { stroke: text },
          {
            stroke: text,
            label: axis.label,
            size: 70,
            incrs: axis.incrs,
            values: (_u: uPlot, ticks: number[]) => ticks.map(axis.format),
          },
        ],
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max, axis.incrs[0])] } },
      },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [data, series, axis]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${series.join(", ")} per day`} />
    </figure>
  );
}

function daily(query: { since: string; until: string; timezone: string; service?: string; severity?: Severity }) {
  return must(incidents.GET("/api/v1/incidents/stats/daily", { params: { query } }));
}

export function Metrics() {
  const { query, path, route } = useLocation();
  const service = query.service ?? "";
  const severity = (SEVERITIES as readonly string[]).includes(query.severity ?? "") ? (query.severity as Severity) : "";
  const range = query.range && query.range in RANGES ? query.range : "14";
  const [services, setServices] = useState<string[]>([]);
  const [all, setAll] = useState<Daily | null>(null);
  const [bySeverity, setBySeverity] = useState<Partial<Record<Severity, Daily>>>({});
  const [error, setError] = useState<unknown>(null);

  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(query as Record<string, string>);
    if (value) next.set(name, value);
    else next.delete(name);
    const search = next.toString();
    route(search ? `${path}?${search}` : path, true);
  }

  useEffect(() => {
    everything((page) => must(oncall.GET("/api/v1/services", { params: { query: page } })))
      .then((page) => setServices(page.items.map((s) => s.name)))
      .catch(() => setServices([]));
  }, []);

  useEffect(() => {
    // A filter changed while the last answers were on their way: they must not land over the new ones.
    let current = true;
    setAll(null);
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    const window = {
      since: new Date(today.getTime() - (Number(range) - 1) * DAY_MS).toISOString(),
      until: new Date(today.getTime() + DAY_MS).toISOString(),
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
      service: service || undefined,
    };
    const split: Severity[] = severity ? [] : [...SEVERITIES];
    Promise.all([daily({ ...window, severity: severity || undefined }), ...split.map((s) => daily({ ...window, severity: s }))])
      .then(([overall, ...each]) => {
        if (!current) return;
        setAll(overall);
        setBySeverity(Object.fromEntries(split.map((s, i) => [s, each[i]])));
        setError(null);
      })
      .catch((failure) => current && setError(failure));
    return () => {
      current = false;
    };
  }, [service, severity, range]);

  const x = all ? all.days.map((d) => Date.parse(`${d.day}T12:00:00`) / 1000) : [];
  const split = SEVERITIES.filter((s) => bySeverity[s]);
  const perSeverity = (pick: (d: Daily["days"][number]) => number | null) =>
    [x, ...split.map((s) => bySeverity[s]!.days.map(pick))] as uPlot.AlignedData;
  const scope = [service || "all services", severity || "all severities"].join(", ");
  return (
    <section aria-labelledby="metrics-title">
      <h1 id="metrics-title">Metrics</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Service
          <select value={service} onChange={(e) => setFilter("service", e.currentTarget.value)}>
            <option value="">All services</option>
            {(service && !services.includes(service) ? [service, ...services] : services).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select value={severity} onChange={(e) => setFilter("severity", e.currentTarget.value)}>
            <option value="">All severities</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Range
          <select value={range} onChange={(e) => setFilter("range", e.currentTarget.value === "14" ? "" : e.currentTarget.value)}>
            {Object.entries(RANGES).map(([days, text]) => (
              <option key={days} value={days}>
                {text}
              </option>
            ))}
          </select>
        </label>
      </form>
      {error ? (
        <ErrorNote error={error} />
      ) : all === null ? (
        <Loading what="Loading the charts" />
      ) : (
        <div class="charts">
          <Chart
            title={`Median time to acknowledge and to resolve, ${scope}`}
            axis={TIME}
            series={["MTTA", "MTTR"]}
            data={[x, all.days.map((d) => d.mtta_seconds.p50 ?? null), all.days.map((d) => d.mttr_seconds.p50 ?? null)] as uPlot.AlignedData}
          />
          <Chart
            title={`Incidents per day by severity, ${service || "all services"}`}
            axis={COUNT}
            series={severity ? [severity] : [...SEVERITIES]}
            data={[x, ...(severity ? [severity] : SEVERITIES).map((s) => all.days.map((d) => d.by_severity[s] ?? 0))] as uPlot.AlignedData}
          />
          {split.length > 0 && (
            <>
              <Chart
                title={`Median time to acknowledge by severity, ${service || "all services"}`}
                axis={TIME}
                series={split}
                data={perSeverity((d) => d.mtta_seconds.p50 ?? null)}
              />
              <Chart
                title={`Median time to resolve by severity, ${service || "all services"}`}
                axis={TIME}
                series={split}
                data={perSeverity((d) => d.mttr_seconds.p50 ?? null)}
              />
            </>
          )}
        </div>
      )}
    </section>
  );
}
