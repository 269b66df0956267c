// The incident list: reloads when incidents change (live updates, else polling every 5 s;
// not while the tab is hidden),
// counts by status, text search and filters kept in the URL (a link shares the
// view), one-click acknowledge and resolve, bulk actions on the rows ticked,
// active maintenance windows, server-side pages.
import { useCallback, useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { ApiError, incidents, must, type IncidentTypes } from "../api/client";
import { Empty, ErrorNote, Loading } from "../components/states";
import { age, label, SEVERITIES, STATUSES } from "../format";
import { useLatest } from "../latest";
import { useLiveReload } from "../live";
import { useSession } from "../session";
import { activeWindows, useServiceNames, type Window } from "../services";
import { nameOf, useUsers } from "../users";
import { ACTION_LABEL, change, failureNotice, type Incident } from "./incident-actions";
import "./incidents.css";

const PAGE = 50;
const RANGES: Record<string, number | null> = { "": null, "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };

type Page = IncidentTypes["schemas"]["IncidentPage"];
type BulkAction = IncidentTypes["schemas"]["BulkRequest"]["action"];
const BULK_DONE: Record<BulkAction, string> = { acknowledge: "acknowledged", resolve: "resolved", reassign: "reassigned" };
// The filters besides status: any of them set, an empty list means they matched nothing.
const NARROWING = ["q", "severity", "service", "assignee", "range"] as const;

/** What a bulk action did, in a sentence: how many, and each refusal with its reason. */
function bulkNotice(result: IncidentTypes["schemas"]["BulkResult"], titles: Map<string, string>): string {
  const done = `${result.succeeded} ${BULK_DONE[result.action]}`;
  const refused = result.results
    .filter((r) => r.status !== 200)
    .map((r) => `“${titles.get(r.id) ?? r.id}”: ${r.detail ?? r.status}`);
  return refused.length ? `${done}; ${refused.length} not: ${refused.join("; ")}` : `${done}.`;
}

export function Incidents() {
  const { query, path, route } = useLocation();
  const { can } = useSession();
  const users = useUsers();
  const services = useServiceNames();
  const [windows, setWindows] = useState<Window[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reassignTo, setReassignTo] = useState("");
  // What is typed; it becomes the `q` filter on Enter or when the box is left.
  const [search, setSearch] = useState(query.q ?? "");
  useEffect(() => setSearch(query.q ?? ""), [query.q]);
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
            q: query.q || undefined,
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
    activeWindows()
      .then((active) => fresh() && setWindows(active))
      .catch(() => fresh() && setWindows([]));
    try {
      await Promise.all([rows, counts]);
      if (fresh()) setError(null);
    } catch (failure) {
      if (fresh()) setError(failure);
    }
  }, [query.q, query.severity, query.service, query.assignee, query.range, status, offset, begin]);

  // A ticked row that left the page (resolved elsewhere, paged away) is no longer acted on.
  useEffect(() => {
    if (!page) return;
    const shown = new Set(page.items.map((i) => i.id));
    setSelected((ticked) => new Set([...ticked].filter((id) => shown.has(id))));
  }, [page]);

  useLiveReload(load);

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

  async function bulk(action: BulkAction) {
    if (!page || selected.size === 0) return;
    setBusy("bulk");
    setNotice(null);
    const titles = new Map(page.items.map((i) => [i.id, i.title]));
    try {
      const body: IncidentTypes["schemas"]["BulkRequest"] = { ids: [...selected], action };
      if (action === "reassign") body.assigned_to = reassignTo || null;
      const result = await must(incidents.POST("/api/v1/incidents/bulk", { body }));
      setNotice(bulkNotice(result, titles));
      setSelected(new Set());
    } catch (failure) {
      setNotice(failure instanceof ApiError ? failure.message : "The bulk change failed.");
    } finally {
      setBusy(null);
      await load();
    }
  }

  function tick(id: string, on: boolean) {
    setSelected((ticked) => {
      const next = new Set(ticked);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  const narrowed = NARROWING.some((name) => query[name]) || status !== "active";
  const allTicked = page !== null && page.items.length > 0 && page.items.every((i) => selected.has(i.id));

  return (
    <section aria-labelledby="incidents-title">
      <h1 id="incidents-title">Incidents</h1>
      {windows.length > 0 && (
        <p class="notice maintenance" role="status">
          Maintenance window active for{" "}
          {windows.map((w, n) => (
            <span key={w.id}>
              {n > 0 && "; "}
              <strong>{w.services.join(", ")}</strong> until {new Date(w.end).toLocaleTimeString(undefined, { timeStyle: "short" })}
            </span>
          ))}
          : their alerts are stored but open no incident and page no one. <a href="/maintenance">Maintenance</a>
        </p>
      )}
      <div class="counts" aria-label="Incidents by status, last 30 days">
        {STATUSES.map((s) => (
          <div class="card" key={s}>
            <strong aria-busy={counts === null}>{counts === null ? "–" : (counts[s] ?? 0)}</strong>
            <span class={`status status-${s}`}>{label(s)}</span>
          </div>
        ))}
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter("q", search.trim());
        }}
        aria-label="Filters"
      >
        <label class="search">
          Search
          <input
            type="search"
            name="q"
            value={search}
            placeholder="title, service, source, label"
            onInput={(e) => setSearch(e.currentTarget.value)}
            onChange={(e) => setFilter("q", e.currentTarget.value.trim())}
          />
        </label>
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
          <select value={query.service ?? ""} onChange={(e) => setFilter("service", e.currentTarget.value)}>
            <option value="">Any</option>
            {/* A service in the URL that no longer exists still shows as chosen. */}
            {query.service && !services.includes(query.service) && <option value={query.service}>{query.service}</option>}
            {services.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Assignee
          <select value={query.assignee ?? ""} onChange={(e) => setFilter("assignee", e.currentTarget.value)}>
            <option value="">Anyone</option>
            <option value="me">Assigned to me</option>
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
        narrowed ? (
          <Empty>
            No incident matches these filters.{" "}
            <button type="button" class="link" onClick={() => route(path, true)}>
              Clear the filters
            </button>
          </Empty>
        ) : (
          <Empty>No incidents need attention. All quiet.</Empty>
        )
      ) : (
        <>
          {error !== null && <ErrorNote error={error} retry={load} />}
          {can("responder") && (
            <div class="bulk" role="group" aria-label="Act on the ticked incidents">
              <span>{selected.size} selected</span>
              <button type="button" disabled={selected.size === 0 || busy === "bulk"} onClick={() => bulk("acknowledge")}>
                Acknowledge selected
              </button>
              <button type="button" disabled={selected.size === 0 || busy === "bulk"} onClick={() => bulk("resolve")}>
                Resolve selected
              </button>
              <label>
                Reassign to
                <select value={reassignTo} onChange={(e) => setReassignTo(e.currentTarget.value)}>
                  <option value="">nobody (unassign)</option>
                  {users.map((u) => (
                    <option key={u.id} value={u.id}>
                      {u.name}
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" disabled={selected.size === 0 || busy === "bulk"} onClick={() => bulk("reassign")}>
                Reassign selected
              </button>
            </div>
          )}
          <div class="table-wrap">
            <table class="incident-table">
              <thead>
                <tr>
                  {can("responder") && (
                    <th scope="col">
                      <input
                        type="checkbox"
                        aria-label="Select every incident on this page"
                        checked={allTicked}
                        onChange={(e) =>
                          setSelected(e.currentTarget.checked ? new Set(page.items.map((i) => i.id)) : new Set())
                        }
                      />
                    </th>
                  )}
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
                    {can("responder") && (
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Select ${incident.title}`}
                          checked={selected.has(incident.id)}
                          onChange={(e) => tick(incident.id, e.currentTarget.checked)}
                        />
                      </td>
                    )}
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
              {/* a count stops at a cap (total_capped: a search at 1,000, the list at 10,000): "of 10,000+", and the list goes on */}
              {page.total_capped
                ? `${offset + 1}–${offset + page.items.length} of ${page.total.toLocaleString("en")}+`
                : `${offset + 1}–${Math.min(offset + PAGE, page.total)} of ${page.total}`}
            </span>
            <button
              type="button"
              disabled={page.total_capped ? page.items.length < PAGE : offset + PAGE >= page.total}
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
