// The incident list: refreshes itself every 5 s (not while the tab is hidden),
// counts by status, filters kept in the URL (a link shares the view), one-click
// acknowledge and resolve, server-side pages.
import { useCallback, useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { incidents, must, type IncidentTypes } from "../api/client";
import { Empty, ErrorNote, Loading } from "../components/states";
import { age, label, SEVERITIES, STATUSES } from "../format";
import { useLatest } from "../latest";
import { useSession } from "../session";
import { nameOf, useUsers } from "../users";
import { ACTION_LABEL, change, failureNotice, type Incident } from "./incident-actions";
import "./incidents.css";

const PAGE = 50;
const REFRESH_MS = 5000;
const RANGES: Record<string, number | null> = { "": null, "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };

type Page = IncidentTypes["schemas"]["IncidentPage"];

export function Incidents() {
  const { query, path, route } = useLocation();
  const { can } = useSession();
  const users = useUsers();
  const [page, setPage] = useState<Page | null>(null);
  const [counts, setCounts] = useState<Record<string, number> | null>(null);
  const begin = useLatest();
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const status = query.status ?? "active";
  const offset = Number(query.offset ?? 0) || 0;

  function setFilter(name: string, value: string) {
    const next = new URLSearchParams(query as Record<string, string>);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "offset") next.delete("offset");
    const search = next.toString();
    route(search ? `${path}?${search}` : path, true);
  }

  const load = useCallback(async () => {
    const range = RANGES[query.range ?? ""] ?? null;
    const statuses =
      status === "active" ? (["open", "acknowledged", "in_progress"] as const) : status === "any" ? [] : [status as Incident["status"]];
    const fresh = begin();
    // The rows do not wait for the counts: over many incidents the summary is the slower answer.
    const rows = must(
      incidents.GET("/api/v1/incidents", {
        params: {
          query: {
            status: statuses as IncidentTypes["schemas"]["IncidentStatus"][],
            severity: query.severity ? [query.severity as (typeof SEVERITIES)[number]] : [],
            service: query.service || undefined,
            assignee: query.assignee || undefined,
            since: range ? new Date(Date.now() - range * 1000).toISOString() : undefined,
            limit: PAGE,
            offset,
          },
        },
      }),
    ).then((listed) => fresh() && setPage(listed));
    const counts = must(
      incidents.GET("/api/v1/incidents/stats/summary", { params: { query: { service: query.service || undefined } } }),
    ).then((summary) => fresh() && setCounts(summary.by_status));
    try {
      await Promise.all([rows, counts]);
      if (fresh()) setError(null);
    } catch (failure) {
      if (fresh()) setError(failure);
    }
  }, [query.severity, query.service, query.assignee, query.range, status, offset, begin]);

  useEffect(() => {
    load();
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") load();
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  async function act(incident: Incident, next: IncidentTypes["schemas"]["IncidentStatus"]) {
    setBusy(incident.id);
    setNotice(null);
    try {
      await change(incident, { status: next });
    } catch (failure) {
      setNotice(failureNotice(failure, incident.title));
    } finally {
      setBusy(null);
      await load();
    }
  }

  return (
    <section aria-labelledby="incidents-title">
      <h1 id="incidents-title">Incidents</h1>
      <div class="counts" aria-label="Incidents by status, last 30 days">
        {STATUSES.map((s) => (
          <div class="card" key={s}>
            <strong aria-busy={counts === null}>{counts === null ? "–" : (counts[s] ?? 0)}</strong>
            <span class={`status status-${s}`}>{label(s)}</span>
          </div>
        ))}
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Status
          <select value={status} onChange={(e) => setFilter("status", e.currentTarget.value)}>
            <option value="active">Not resolved</option>
            <option value="any">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select value={query.severity ?? ""} onChange={(e) => setFilter("severity", e.currentTarget.value)}>
            <option value="">Any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Service
          <input
            type="search"
            value={query.service ?? ""}
            placeholder="any"
            onChange={(e) => setFilter("service", e.currentTarget.value.trim())}
          />
        </label>
        <label>
          Assignee
          <select value={query.assignee ?? ""} onChange={(e) => setFilter("assignee", e.currentTarget.value)}>
            <option value="">Anyone</option>
            <option value="none">Unassigned</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Opened
          <select value={query.range ?? ""} onChange={(e) => setFilter("range", e.currentTarget.value)}>
            <option value="">Any time</option>
            <option value="1h">Last hour</option>
            <option value="24h">Last 24 hours</option>
            <option value="7d">Last 7 days</option>
            <option value="30d">Last 30 days</option>
          </select>
        </label>
      </form>
      {notice && (
        <p class="notice warn" role="alert">
          {notice}
        </p>
      )}
      {error !== null && page === null ? (
        <ErrorNote error={error} retry={load} />
      ) : page === null ? (
        <Loading what="Loading incidents" />
      ) : page.items.length === 0 ? (
        <Empty>No incidents match. All quiet.</Empty>
      ) : (
        <>
          {error !== null && <ErrorNote error={error} retry={load} />}
          <div class="table-wrap">
            <table class="incident-table">
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Incident</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="hide-narrow">Service</th>
                  <th scope="col" class="hide-narrow">Assignee</th>
                  <th scope="col">Age</th>
                  {can("responder") && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {page.items.map((incident) => (
                  <tr key={incident.id} data-incident={incident.id}>
                    <td>
                      <span class={`sev sev-${incident.severity}`}>{incident.severity}</span>
                    </td>
                    <td>
                      <a href={`/incidents/${incident.id}`}>{incident.title}</a>
                      {incident.alert_count > 1 && <span class="muted"> · {incident.alert_count} alerts</span>}
                    </td>
                    <td>
                      <span class={`status status-${incident.status}`}>{label(incident.status)}</span>
                    </td>
                    <td class="hide-narrow">{incident.service}</td>
                    <td class="hide-narrow">{nameOf(users, incident.assigned_to)}</td>
                    <td>
                      <time dateTime={incident.created_at} title={incident.created_at}>
                        {age(incident.created_at)}
                      </time>
                    </td>
                    {can("responder") && (
                      <td class="actions">
                        {incident.next_statuses
                          .filter((s) => s !== "in_progress")
                          .map((s) => (
                            <button
                              key={s}
                              type="button"
                              disabled={busy === incident.id}
                              aria-label={`${ACTION_LABEL[s]} ${incident.title}`}
                              onClick={() => act(incident, s)}
                            >
                              {ACTION_LABEL[s]}
                            </button>
                          ))}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={offset === 0} onClick={() => setFilter("offset", String(Math.max(0, offset - PAGE)))}>
              Newer
            </button>
            <span>
              {offset + 1}–{Math.min(offset + PAGE, page.total)} of {page.total}
            </span>
            <button
              type="button"
              disabled={offset + PAGE >= page.total}
              onClick={() => setFilter("offset", String(offset + PAGE))}
            >
              Older
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
