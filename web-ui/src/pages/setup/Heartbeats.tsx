// Heartbeat monitors (a dead-man's switch): a monitoring system pings the URL at
// least every interval with an integration key of the heartbeat's service; when
// it goes quiet, an incident opens, and the next ping resolves it.
import { useState } from "preact/hooks";
import { ingestion, must, oncall } from "../../api/client";
import { everything } from "../../api/pages";
import { duration, when } from "../../format";
import { Field, ServicePicker, SetupForm, useLoad, usePaged, useSave } from "./forms";
import { SetupSection } from "./Section";

export function Heartbeats() {
  const heartbeats = usePaged((page) => must(ingestion.GET("/api/v1/heartbeats", { params: { query: page } })));
  const services = useLoad(() => everything((page) => must(oncall.GET("/api/v1/services", { params: { query: page } }))));
  return (
    <SetupSection
      title="Heartbeats"
      noun="heartbeats"
      list={heartbeats}
      columns={[
        { head: "Name", cell: (h) => h.name },
        { head: "Service", cell: (h) => h.service },
        { head: "Every", cell: (h) => duration(h.interval_seconds) },
        {
          head: "State",
          cell: (h) =>
            h.missed_since ? (
              <span class="status status-open">missed since {when(h.missed_since)}</span>
            ) : h.last_ping_at ? (
              `pinged ${when(h.last_ping_at)}`
            ) : (
              "waiting for its first ping"
            ),
        },
        { head: "Ping URL (POST, Bearer key of the service)", cell: (h) => <code>{window.location.origin + h.ping_url}</code> },
      ]}
      editable={false}
      remove={(h) => ({
        question: `Delete heartbeat ${h.name}?`,
        done: `Heartbeat ${h.name} deleted.`,
        call: () =>
          must(ingestion.DELETE("/api/v1/heartbeats/{heartbeat_id}", { params: { path: { heartbeat_id: h.id } } })),
      })}
      form={({ onDone }) => (
        <HeartbeatForm services={(services.data?.items ?? []).map((s) => s.name)} onDone={onDone} />
      )}
    />
  );
}

function HeartbeatForm({ services, onDone }: { services: string[]; onDone: (what: string) => void }) {
  const [name, setName] = useState("prometheus-watchdog");
  const [service, setService] = useState("");
  const [minutes, setMinutes] = useState(5);
  const save = useSave();
  const errors = save.fields;

  async function submit(event: Event) {
    event.preventDefault();
    const body = { name, service, interval_seconds: Math.round(minutes * 60) };
    const ok = await save.run(() => must(ingestion.POST("/api/v1/heartbeats", { body })));
    if (ok) onDone(`Heartbeat ${name} created: point its monitor at the ping URL below.`);
  }

  return (
    <SetupForm title="New heartbeat" noun="heartbeat" editing={false} save={save} onSubmit={submit}>
      <div class="form-grid">
        <Field label="Heartbeat name" name="name" errors={errors} hint="What pings it, e.g. the Watchdog of prod Prometheus.">
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Service" name="service" errors={errors} hint="Its incident belongs to it; ping with one of its keys.">
          <ServicePicker services={services} value={service} onChange={setService} />
        </Field>
        <Field label="Late after (minutes)" name="interval_seconds" errors={errors}>
          <input
            type="number"
            min={1}
            max={10080}
            step="any"
            required
            value={minutes}
            onInput={(e) => setMinutes(Number(e.currentTarget.value))}
          />
        </Field>
      </div>
    </SetupForm>
  );
}
