// One incident: what it is, where it stands, MTTA/MTTR so far, its alerts (labels,
// details, links, images), timeline and notes; the responder's actions, only those
// allowed now. A change someone else made first (409) is said plainly and the view
// reloads.
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, incidents, ingestion, must, type IncidentTypes, type IngestionTypes } from "../api/client";
import { ErrorNote, Loading } from "../components/states";
import { duration, label, when } from "../format";
import { REFRESH_MS, useLiveReload } from "../live";
import { useSession } from "../session";
import { mayBeOnCall, nameOf, useUsers } from "../users";
import { activeWindows, type Window } from "../services";
import { ACTION_LABEL, change as changeIncident, failureNotice } from "./incident-actions";
import "./incidents.css";

type Detail = IncidentTypes["schemas"]["IncidentDetail"];
type Summary = IncidentTypes["schemas"]["IncidentRead"];
type Alert = IngestionTypes["schemas"]["AlertRead"];
type Link = { href: string; text?: string };
type Image = { src: string; href?: string; alt?: string };

function since(from: string, to: string | null | undefined): number {
  return ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000;
}

const web = (href: unknown): href is string => typeof href === "string" && /^https?:/.test(href);

/** custom_details, links and images of an alert, wherever its format keeps them:
 * PagerDuty events (payload.custom_details, links, images), Alertmanager and
 * Grafana alerts (annotations, generatorURL; Grafana's dashboard, panel, silence
 * links and snapshot image), the generic format (details). Only http(s) links are
 * shown, an image's own link too (a sender's `javascript:` href would run on a
 * click but for the CSP), images only over https (the page's CSP allows no other). */
function extras(alert: Alert): { details: unknown; links: Link[]; images: Image[] } {
  const payload = (alert.payload ?? {}) as Record<string, unknown>;
  const inner = (payload.payload ?? {}) as Record<string, unknown>;
  const annotations = payload.annotations as Record<string, string> | undefined;
  const hasAnnotations = annotations && Object.keys(annotations).length > 0;
  const details =
    inner.custom_details ?? payload.custom_details ?? payload.details ?? (hasAnnotations ? annotations : null);
  const links = (Array.isArray(payload.links) ? payload.links : []).filter((l): l is Link => web((l as Link)?.href));
  const named: [string, unknown][] = [
    ["Source", payload.generatorURL],
    ["Dashboard", payload.dashboardURL],
    ["Panel", payload.panelURL],
    ["Silence", payload.silenceURL],
  ];
  for (const [text, href] of named) if (web(href)) links.push({ href, text });
  const images = (Array.isArray(payload.images) ? payload.images : [])
    .filter((i): i is Image => web((i as Image)?.src) && (i as Image).src.startsWith("https:"))
    .map((i): Image => ({ ...i, href: web(i.href) ? i.href : undefined }));
  if (web(payload.imageURL) && payload.imageURL.startsWith("https:"))
    images.push({ src: payload.imageURL, alt: "Grafana panel snapshot" });
  return { details, links, images };
}

export function IncidentDetail({ id }: { id: string }) {
  const { can } = useSession();
  const users = useUsers();
  const [incident, setIncident] = useState<Detail | null>(null);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [assignee, setAssignee] = useState("");
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [others, setOthers] = useState<Summary[]>([]);
  const [toMerge, setToMerge] = useState("");
  const [splitInto, setSplitInto] = useState<Summary | null>(null);
  const [snoozeMinutes, setSnoozeMinutes] = useState(60);
  const [windows, setWindows] = useState<Window[]>([]);
  const [, tick] = useState(0);

  const load = useCallback(async () => {
    try {
      const [found, listed] = await Promise.all([
        must(incidents.GET("/api/v1/incidents/{incident_id}", { params: { path: { incident_id: id } } })),
        must(ingestion.GET("/api/v1/alerts", { params: { query: { incident_id: id, limit: 50 } } })),
      ]);
      setIncident(found);
      setAlerts(listed.items);
      activeWindows(found.service)
        .then(setWindows)
        .catch(() => setWindows([]));
      setError(null);
      if (found.status !== "resolved") {
        // What may be merged into this one: the other unresolved incidents.
        const open = await must(
          incidents.GET("/api/v1/incidents", {
            params: { query: { status: ["open", "acknowledged", "in_progress"], limit: 100 } },
          }),
        );
        setOthers(open.items.filter((i) => i.id !== id));
      }
    } catch (failure) {
      setError(failure);
    }
  }, [id]);

  useLiveReload(load);
  useEffect(() => {
    const timer = window.setInterval(() => tick((n) => n + 1), REFRESH_MS); // "so far" keeps counting
    return () => window.clearInterval(timer);
  }, []);

  async function change(body: Parameters<typeof changeIncident>[1]) {
    if (!incident) return;
    setBusy(true);
    setNotice(null);
    try {
      await changeIncident(incident, body);
      setAssignee("");
    } catch (failure) {
      setNotice(failureNotice(failure, incident.title));
    } finally {
      setBusy(false);
      await load();
    }
  }

  async function escalate() {
    if (!incident) return;
    setBusy(true);
    setNotice(null);
    try {
      await must(
        incidents.POST("/api/v1/incidents/{incident_id}/escalate", { params: { path: { incident_id: id } } }),
      );
      setNotice("The next level is being paged now.");
    } catch (failure) {
      setNotice(failure instanceof ApiError ? failure.message : "The escalation was not requested.");
    } finally {
      setBusy(false);
      await load();
    }
  }

  async function snooze() {
    if (!incident) return;
    setBusy(true);
    setNotice(null);
    try {
      await must(
        incidents.POST("/api/v1/incidents/{incident_id}/snooze", {
          params: { path: { incident_id: id } },
          body: { minutes: snoozeMinutes },
        }),
      );
    } catch (failure) {
      setNotice(failureNotice(failure, incident.title));
    } finally {
      setBusy(false);
      await load();
    }
  }

  async function addNote(event: Event) {
    event.preventDefault();
    if (!note.trim()) return;
    setBusy(true);
    setNotice(null);
    try {
      await must(
        incidents.POST("/api/v1/incidents/{incident_id}/notes", {
          params: { path: { incident_id: id } },
          body: { body: note.trim() },
        }),
      );
      setNote("");
    } catch (failure) {
      setNotice(failure instanceof ApiError ? failure.message : "The note was not saved.");
    } finally {
      setBusy(false);
      await load();
    }
  }

  async function merge(event: Event) {
    event.preventDefault();
    if (!toMerge) return;
    setBusy(true);
    setNotice(null);
    try {
      await must(
        incidents.POST("/api/v1/incidents/{incident_id}/merge", {
          params: { path: { incident_id: id } },
          body: { incident_ids: [toMerge] },
        }),
      );
      setToMerge("");
    } catch (failure) {
      setNotice(failure instanceof ApiError ? failure.message : "The incidents were not merged.");
    } finally {
      setBusy(false);
      await load();
    }
  }

  async function split() {
    if (chosen.size === 0) return;
    setBusy(true);
    setNotice(null);
    try {
      const made = await must(
        incidents.POST("/api/v1/incidents/{incident_id}/split", {
          params: { path: { incident_id: id } },
          body: { alert_ids: [...chosen] },
        }),
      );
      setChosen(new Set());
      setSplitInto(made);
    } catch (failure) {
      setNotice(failure instanceof ApiError ? failure.message : "The alerts were not split out.");
    } finally {
      setBusy(false);
      await load();
    }
  }

  function choose(alertId: string, on: boolean) {
    const next = new Set(chosen);
    if (on) next.add(alertId);
    else next.delete(alertId);
    setChosen(next);
  }

  if (incident === null) return error ? <ErrorNote error={error} retry={load} /> : <Loading what="Loading the incident" />;
  const responder = can("responder");
  const mtta = incident.mtta_seconds ?? (incident.status === "open" ? since(incident.created_at, null) : null);
  const mttr = incident.mttr_seconds ?? (incident.status !== "resolved" ? since(incident.created_at, null) : null);

  return (
    <article aria-labelledby="incident-title">
      <p>
        <a href="/incidents">← Incidents</a>
      </p>
      <div class="detail-head">
        <span class={`sev sev-${incident.severity}`}>{incident.severity}</span>
        <h1 id="incident-title">{incident.title}</h1>
        <span class={`status status-${incident.status}`}>{label(incident.status)}</span>
      </div>
      {notice && (
        <p class="notice warn" role="alert">
          {notice}
        </p>
      )}
      {error !== null && <ErrorNote error={error} retry={load} />}
      {incident.merged_into && (
        <p class="notice">
          Merged into <a href={`/incidents/${incident.merged_into}`}>another incident</a>: its alerts are there now.
        </p>
      )}
      {splitInto && (
        <p class="notice" role="status">
          Split out into <a href={`/incidents/${splitInto.id}`}>{splitInto.title}</a>, paged as a new incident.
        </p>
      )}
      <div class="grid">
        <section class="card" aria-label="Summary">
          <dl class="facts">
            <dt>Service</dt>
            <dd>{incident.service}</dd>
            <dt>Assignee</dt>
            <dd>{nameOf(users, incident.assigned_to)}</dd>
            <dt>Opened</dt>
            <dd>{when(incident.created_at)}</dd>
            <dt>{incident.mtta_seconds === null ? "Unacknowledged for" : "Time to acknowledge"}</dt>
            <dd>{duration(mtta)}</dd>
            <dt>{incident.mttr_seconds === null ? "Open for" : "Time to resolve"}</dt>
            <dd>{duration(mttr)}</dd>
            <dt>Alerts</dt>
            <dd>{incident.alert_count}</dd>
            {incident.snoozed_until && (
              <>
                <dt>Snoozed until</dt>
                <dd>{when(incident.snoozed_until)}</dd>
              </>
            )}
          </dl>
          {windows.length > 0 && (
            <p class="notice maintenance" role="status">
              {incident.service} is in a maintenance window until {when(windows[windows.length - 1].end)}: its new
              alerts open no incident and page no one.
            </p>
          )}
          {incident.description && <p>{incident.description}</p>}
        </section>
        {responder && incident.status !== "resolved" && (
          <section class="card" aria-label="Actions">
            <h2>Act</h2>
            <div class="actions">
              {incident.next_statuses.map((s) => (
                <button
                  key={s}
                  type="button"
                  class={s === "resolved" ? "primary" : undefined}
                  disabled={busy}
                  onClick={() => change({ status: s })}
                >
                  {ACTION_LABEL[s]}
                </button>
              ))}
              {incident.escalation_policy_id && ["open", "acknowledged"].includes(incident.status) && (
                <button type="button" disabled={busy} onClick={escalate}>
                  Escalate now
                </button>
              )}
            </div>
            {incident.status === "acknowledged" && (
              <form
                class="reassign"
                onSubmit={(e) => {
                  e.preventDefault();
                  snooze();
                }}
              >
                <label>
                  Snooze for
                  <select value={snoozeMinutes} disabled={busy} onChange={(e) => setSnoozeMinutes(Number(e.currentTarget.value))}>
                    {[15, 30, 60, 120, 240, 480, 1440].map((m) => (
                      <option key={m} value={m}>
                        {duration(m * 60)}
                      </option>
                    ))}
                  </select>
                </label>
                <button type="submit" disabled={busy}>
                  Snooze
                </button>
              </form>
            )}
            <form
              class="reassign"
              onSubmit={(e) => {
                e.preventDefault();
                if (assignee) change({ assigned_to: assignee });
              }}
            >
              <label>
                Reassign to
                <select value={assignee} disabled={busy} onChange={(e) => setAssignee(e.currentTarget.value)}>
                  <option value="">Choose a person</option>
                  {users
                    // Only someone who may act can be assigned (the service refuses anyone else).
                    .filter((u) => u.id !== incident.assigned_to && mayBeOnCall(u))
                    .map((u) => (
                      <option key={u.id} value={u.id}>
                        {u.name}
                      </option>
                    ))}
                </select>
              </label>
              <button type="submit" disabled={busy || !assignee}>
                Reassign
              </button>
            </form>
            <form class="merge" onSubmit={merge}>
              <label>
                Merge into this incident
                <select value={toMerge} disabled={busy} onChange={(e) => setToMerge(e.currentTarget.value)}>
                  <option value="">Choose an incident</option>
                  {others.map((o) => (
                    <option key={o.id} value={o.id}>
                      {o.title} ({o.service}, {o.severity}, {label(o.status)})
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" disabled={busy || !toMerge}>
                Merge
              </button>
            </form>
          </section>
        )}
      </div>

      <h2>Alerts</h2>
      {responder && incident.status !== "resolved" && alerts.length > 1 && (
        <div class="actions">
          <button
            type="button"
            disabled={busy || chosen.size === 0 || chosen.size >= alerts.length}
            title="The chosen alerts move into a new incident, which pages as a new one"
            onClick={split}
          >
            Split out{chosen.size > 0 ? ` ${chosen.size} alert${chosen.size === 1 ? "" : "s"}` : ""}
          </button>
        </div>
      )}
      {alerts.length === 0 ? (
        <p class="muted">No alerts are attached.</p>
      ) : (
        alerts.map((alert) => {
          const { details, links, images } = extras(alert);
          return (
            <div class="alert-item" key={alert.id}>
              {responder && incident.status !== "resolved" && alerts.length > 1 && (
                <input
                  type="checkbox"
                  checked={chosen.has(alert.id)}
                  aria-label={`Choose alert: ${alert.message}`}
                  onChange={(e) => choose(alert.id, e.currentTarget.checked)}
                />
              )}{" "}
              <strong>{alert.message}</strong>{" "}
              <span class="muted">
                {alert.status} · {alert.format} from {alert.source} · {when(alert.received_at)}
                {alert.trigger_count > 1 && ` · ${alert.trigger_count} times, last ${when(alert.last_seen_at)}`}
              </span>
              {alert.reason && (
                <p class="reason">
                  <span class="muted">Why here:</span> {alert.reason}
                </p>
              )}
              {Object.keys(alert.labels ?? {}).length > 0 && (
                <ul class="labels" aria-label="Labels">
                  {Object.entries(alert.labels).map(([k, v]) => (
                    <li key={k}>
                      {k}={String(v)}
                    </li>
                  ))}
                </ul>
              )}
              {details !== null && details !== undefined && <pre>{JSON.stringify(details, null, 2)}</pre>}
              {links.map((l) => (
                <p key={l.href}>
                  <a href={l.href} rel="noopener noreferrer" target="_blank">
                    {l.text || l.href}
                  </a>
                </p>
              ))}
              {images.map((i) => (
                <a key={i.src} href={i.href ?? i.src} rel="noopener noreferrer" target="_blank">
                  <img src={i.src} alt={i.alt ?? "alert image"} loading="lazy" />
                </a>
              ))}
            </div>
          );
        })
      )}

      <h2>Notes</h2>
      {incident.notes.length === 0 && <p class="muted">No notes yet.</p>}
      <ul class="timeline" aria-label="Notes">
        {incident.notes.map((n) => (
          <li key={n.id}>
            <strong>{n.author}</strong> <span class="muted">{when(n.created_at)}</span>
            <p>{n.body}</p>
          </li>
        ))}
      </ul>
      {responder && (
        <form class="note-form" onSubmit={addNote}>
          <label>
            Add a note
            <textarea rows={3} value={note} maxLength={20000} onInput={(e) => setNote(e.currentTarget.value)} />
          </label>
          <div>
            <button type="submit" disabled={busy || !note.trim()}>
              Add note
            </button>
          </div>
        </form>
      )}

      <h2>Timeline</h2>
      <ol class="timeline" aria-label="Timeline">
        {incident.timeline.map((entry) => (
          <li key={entry.id}>
            <span class="muted">{when(entry.created_at)}</span> <strong>{entry.actor}</strong> {entry.message}
          </li>
        ))}
      </ol>
    </article>
  );
}
