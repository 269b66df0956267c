// MTTA and MTTR over the last two weeks, per day, and incidents per day, as
// charts (uPlot, bundled), for all services or one. Each day is one call of
// incident-management's summary (counts by severity, MTTA/MTTR p50) over that day.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { incidents, must, oncall, type IncidentTypes } from "../api/client";
import { ErrorNote, Loading } from "../components/states";
import { SEVERITIES } from "../format";
import "./metrics.css";

type Summary = IncidentTypes["schemas"]["StatsSummary"];
const DAYS = 14;
const DAY_MS = 86_400_000;

function Chart({ title, data, series, unit }: { title: string; data: uPlot.AlignedData; series: string[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
    const text = dark ? "#9da7b3" : "#57606a";
    const colours = ["#0a58ca", "#c4320a", "#1a7f37", "#9a6700", "#8250df", "#57606a"];
    const plot = new uPlot(
      {
        width: Math.max(280, box.current.clientWidth - 16),
        height: 220,
        series: [
          {},
          ...series.map((name, i) => ({ label: name, stroke: colours[i % colours.length], width: 2, spanGaps: true })),
        ],
        axes: [
          { stroke: text },
          { stroke: text, label: unit, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => String(Math.round(t * 10) / 10)) },
        ],
        scales: { x: { time: true } },
      },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [data, series, unit]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}

export function Metrics() {
  const [service, setService] = useState("");
  const [services, setServices] = useState<string[]>([]);
  const [days, setDays] = useState<Summary[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    must(oncall.GET("/api/v1/services", { params: { query: { limit: 200 } } }))
      .then((page) => setServices(page.items.map((s) => s.name)))
      .catch(() => setServices([]));
  }, []);

  useEffect(() => {
    setDays(null);
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    const starts = Array.from({ length: DAYS }, (_, i) => today.getTime() - (DAYS - 1 - i) * DAY_MS);
    Promise.all(
      starts.map((start) =>
        must(
          incidents.GET("/api/v1/incidents/stats/summary", {
            params: {
              query: {
                since: new Date(start).toISOString(),
                until: new Date(start + DAY_MS).toISOString(),
                service: service || undefined,
              },
            },
          }),
        ),
      ),
    )
      .then((found) => {
        setDays(found);
        setError(null);
      })
      .catch(setError);
  }, [service]);

  const x = days ? days.map((d) => Date.parse(d.since) / 1000) : [];
  const minutes = (v: number | null | undefined) => (v === null || v === undefined ? null : v / 60);
  return (
    <section aria-labelledby="metrics-title">
      <h1 id="metrics-title">Metrics</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Service
          <select value={service} onChange={(e) => setService(e.currentTarget.value)}>
            <option value="">All services</option>
            {services.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </form>
      {error ? (
        <ErrorNote error={error} />
      ) : days === null ? (
        <Loading what="Loading the last two weeks" />
      ) : (
        <div class="charts">
          <Chart
            title="Time to acknowledge and to resolve (median per day)"
            unit="minutes"
            series={["MTTA", "MTTR"]}
            data={[x, days.map((d) => minutes(d.mtta_seconds.p50)), days.map((d) => minutes(d.mttr_seconds.p50))] as uPlot.AlignedData}
          />
          <Chart
            title="Incidents per day, by severity"
            unit="incidents"
            series={[...SEVERITIES]}
            data={[x, ...SEVERITIES.map((sev) => days.map((d) => d.by_severity[sev] ?? 0))] as uPlot.AlignedData}
          />
        </div>
      )}
    </section>
  );
}
