// The page a one-click link in a Slack or email page lands on. The token in the
// address is the credential (no login): the page shows what the link would do,
// and only the Confirm button acts, so a link preview that fetches the address
// changes nothing.
import { useEffect, useState } from "preact/hooks";
import { ApiError, incidents, must, type IncidentTypes } from "../api/client";
import { Loading } from "../components/states";
import { label, when } from "../format";
import "./incidents.css";

type Preview = IncidentTypes["schemas"]["LinkPreview"];
type Incident = IncidentTypes["schemas"]["IncidentRead"];

const VERB: Record<string, string> = { acknowledge: "Acknowledge", resolve: "Resolve" };

export function Act({ token }: { token: string }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [done, setDone] = useState<Incident | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    must(incidents.GET("/api/v1/incidents/links/{token}", { params: { path: { token } } }))
      .then(setPreview)
      .catch((failure) => setRefusal(failure instanceof ApiError ? failure.message : "This link cannot be read."));
  }, [token]);

  async function confirm() {
    setBusy(true);
    try {
      setDone(await must(incidents.POST("/api/v1/incidents/links/{token}", { params: { path: { token } } })));
    } catch (failure) {
      setRefusal(failure instanceof ApiError ? failure.message : "The link did not act.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="act">
      <h1>Incident link</h1>
      {done ? (
        <div class="notice ok" role="status">
          <p>
            Done: <strong>{done.title}</strong> is now <strong>{label(done.status)}</strong>.
          </p>
          <p>
            <a href={`/incidents/${done.id}`}>Open the incident</a>
          </p>
        </div>
      ) : refusal ? (
        <div class="notice warn" role="alert">
          <p>{refusal}</p>
          <p>
            <a href="/incidents">Open the incidents</a> to see where things stand.
          </p>
        </div>
      ) : preview === null ? (
        <Loading what="Reading the link" />
      ) : preview.incident ? (
        // The service shows the incident only while the link can act on it.
        <div class="card">
          <p>
            <span class={`sev sev-${preview.incident.severity}`}>{preview.incident.severity}</span>{" "}
            <strong>{preview.incident.title}</strong>
          </p>
          <p>
            Service {preview.incident.service}, now{" "}
            <span class={`status status-${preview.incident.status}`}>{label(preview.incident.status)}</span>, opened{" "}
            {when(preview.incident.created_at)}.
          </p>
          <p>
            {VERB[preview.action] ?? preview.action} this incident as <strong>{preview.user.name}</strong>? The link
            works once and expires {when(preview.expires_at)}.
          </p>
          <button type="button" class="primary" disabled={busy} onClick={confirm}>
            {VERB[preview.action] ?? "Confirm"}
          </button>
        </div>
      ) : (
        <div class="notice warn" role="alert">
          <p>{preview.reason ?? "This link can no longer act."}</p>
          {preview.used ? (
            <p>
              It acted as <strong>{preview.used.by.name}</strong> on {when(preview.used.at)}.
            </p>
          ) : null}
          <p>
            <a href={`/incidents/${preview.incident_id}`}>Open the incident</a> to see where things stand.
          </p>
        </div>
      )}
    </main>
  );
}
