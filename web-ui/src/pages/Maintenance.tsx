// Maintenance windows: while one is active, its services' alerts are stored but
// open no incident and page no one. Responders start one now or schedule one,
// and remove it (its services page again at once).
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, ingestion, must, type IngestionTypes } from "../api/client";
import { Empty, ErrorNote, Loading } from "../components/states";
import { when } from "../format";
import { useSession } from "../session";
import { useServiceNames, type Window } from "../services";
import "./incidents.css";

type Create = IngestionTypes["schemas"]["MaintenanceWindowCreate"];
type Alert = IngestionTypes["schemas"]["AlertRead"];
const LENGTHS = [30, 60, 120, 240, 480, 1440];

/** A datetime-local field's value (local time, no zone) as an ISO time. */
function fromLocal(value: string): string {
  return new Date(value).toISOString();
}

export function Maintenance() {
  const { can } = useSession();
  const services = useServiceNames();
  const [windows, setWindows] = useState<Window[] | null>(null);
  const [held, setHeld] = useState<Alert[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [start, setStart] = useState("");
  const [minutes, setMinutes] = useState(60);
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const [page, suppressed] = await Promise.all([
        must(ingestion.GET("/api/v1/maintenance-windows", { params: { query: { limit: 200 } } })),
        must(ingestion.GET("/api/v1/alerts", { params: { query: { action: "suppressed", limit: 20 } } })),
      ]);
      setWindows(page.items.filter((w) => Date.parse(w.end) > Date.now()));
      setHeld(suppressed.items);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, []);

  useEffect(() => {
    load();
  }, [load]);

  async function create(event: Event) {
    event.preventDefault();
    if (chosen.length === 0) {
      setNotice("Choose at least one service.");
      return;
    }
    const begins = start ? Date.parse(start) : Date.now();
    const body: Create = {
      services: chosen,
      start: start ? fromLocal(start) : null,
      end: new Date(begins + minutes * 60_000).toISOString(),
      description: description.trim(),
    };
    setBusy(true);
    setNotice(null);
    try {
      await must(ingestion.POST("/api/v1/maintenance-windows", { body }));
      setChosen([]);
      setStart("");
      setDescription("");
    } catch (failure) {
      setNotice(failure instanceof ApiError ? failure.message : "The window was not saved.");
    } finally {
      setBusy(false);
      await load();
    }
  }

  async function remove(window: Window) {
    setBusy(true);
    setNotice(null);
    try {
      await must(
        ingestion.DELETE("/api/v1/maintenance-windows/{window_id}", { params: { path: { window_id: window.id } } }),
      );
    } catch (failure) {
      setNotice(failure instanceof ApiError ? failure.message : "The window was not removed.");
    } finally {
      setBusy(false);
      await load();
    }
  }

  return (
    <section aria-labelledby="maintenance-title">
      <h1 id="maintenance-title">Maintenance windows</h1>
      <p class="muted">Alerts of a service in an active window are stored and shown, but open no incident and page no one.</p>
      {notice && (
        <p class="notice warn" role="alert">
          {notice}
        </p>
      )}
      {can("responder") && (
        <form class="card maintenance-form" aria-label="New maintenance window" onSubmit={create}>
          <label>
            Services
            <select
              multiple
              size={Math.min(6, Math.max(2, services.length))}
              onChange={(e) => setChosen([...e.currentTarget.selectedOptions].map((o) => o.value))}
            >
              {services.map((name) => (
                <option key={name} value={name} selected={chosen.includes(name)}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Starts
            <input type="datetime-local" value={start} onChange={(e) => setStart(e.currentTarget.value)} />
            <span class="muted">empty: now</span>
          </label>
          <label>
            Lasts
            <select value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
              {LENGTHS.map((m) => (
                <option key={m} value={m}>
                  {m < 60 ? `${m} min` : `${m / 60} h`}
                </option>
              ))}
            </select>
          </label>
          <label>
            Why
            <input type="text" value={description} maxLength={2000} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            Start window
          </button>
        </form>
      )}
      {error !== null && windows === null ? (
        <ErrorNote error={error} retry={load} />
      ) : windows === null ? (
        <Loading what="Loading maintenance windows" />
      ) : windows.length === 0 ? (
        <Empty>No maintenance window is active or scheduled.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="incident-table">
            <thead>
              <tr>
                <th scope="col">Services</th>
                <th scope="col">State</th>
                <th scope="col">From</th>
                <th scope="col">Until</th>
                <th scope="col">Why</th>
                <th scope="col">By</th>
                {can("responder") && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {windows.map((w) => (
                <tr key={w.id} data-window={w.id}>
                  <td>{w.services.join(", ")}</td>
                  <td>{w.active ? "active" : "scheduled"}</td>
                  <td>{when(w.start)}</td>
                  <td>{when(w.end)}</td>
                  <td>{w.description}</td>
                  <td>{w.created_by}</td>
                  {can("responder") && (
                    <td>
                      <button type="button" disabled={busy} aria-label={`Remove the window for ${w.services.join(", ")}`} onClick={() => remove(w)}>
                        Remove
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Alerts held back</h2>
      {held.length === 0 ? (
        <Empty>No alert arrived during a maintenance window.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="incident-table" aria-label="Alerts held back by maintenance windows, newest first">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Service</th>
                <th scope="col">Severity</th>
                <th scope="col">Alert</th>
                <th scope="col">Why held back</th>
              </tr>
            </thead>
            <tbody>
              {held.map((a) => (
                <tr key={a.id} data-alert={a.id}>
                  <td>{when(a.received_at)}</td>
                  <td>{a.service}</td>
                  <td>
                    <span class={`sev sev-${a.severity}`}>{a.severity}</span>
                  </td>
                  <td>{a.message}</td>
                  <td class="muted">{a.reason ?? "a maintenance window"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
