// Integration keys: what monitoring sends alerts with. A key is shown once, when
// made, with settings ready to paste; the list shows only its first characters.
import { useState } from "preact/hooks";
import { ingestion, must, oncall, type IngestionTypes } from "../../api/client";
import { when } from "../../format";
import { Field, ServicePicker, SetupForm, useLoad, usePaged, useSave } from "./forms";
import { SetupSection } from "./Section";
import { everything } from "../../api/pages";
import { senderSettings } from "../../senders";

type Created = IngestionTypes["schemas"]["IntegrationCreated"];
type Format = IngestionTypes["schemas"]["IntegrationCreate"]["type"];

const FORMATS: { value: Format; text: string }[] = [
  { value: "pagerduty", text: "PagerDuty Events API v2" },
  { value: "alertmanager", text: "Prometheus Alertmanager" },
  { value: "grafana", text: "Grafana" },
  { value: "generic", text: "Generic (this platform's own format)" },
];

export function Integrations() {
  const [showRevoked, setShowRevoked] = useState(false);
  const integrations = usePaged(
    (page) => must(ingestion.GET("/api/v1/integrations", { params: { query: { ...page, include_revoked: showRevoked } } })),
    [showRevoked],
  );
  const services = useLoad(() => everything((page) => must(oncall.GET("/api/v1/services", { params: { query: page } }))));
  const [created, setCreated] = useState<Created | null>(null);
  return (
    <SetupSection
      title="Integration keys"
      noun="integration keys"
      list={integrations}
      above={
        <>
          {created && <NewKey created={created} onDismiss={() => setCreated(null)} />}
          <label class="inline">
            <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.currentTarget.checked)} />
            Show revoked keys
          </label>
        </>
      }
      columns={[
        { head: "Name", cell: (integration) => integration.name },
        { head: "Service", cell: (integration) => integration.service },
        { head: "Format", cell: (integration) => integration.type },
        { head: "Key", cell: (integration) => <code>{integration.key_prefix}…</code> },
        { head: "Created", narrow: true, cell: (integration) => when(integration.created_at) },
      ]}
      // A key is revoked, never edited: a changed key would be a new secret.
      editable={false}
      actions={(integration) =>
        integration.revoked_at && <span class="muted">revoked {when(integration.revoked_at)}</span>
      }
      remove={(integration) =>
        integration.revoked_at
          ? null
          : {
              label: "Revoke",
              confirm: "Yes, revoke",
              question: `Revoke ${integration.name}? Alerts sent with it are refused from then on.`,
              done: `${integration.name} revoked.`,
              call: async () => {
                await must(
                  ingestion.DELETE("/api/v1/integrations/{integration_id}", {
                    params: { path: { integration_id: integration.id } },
                  }),
                );
                if (created?.id === integration.id) setCreated(null);
              },
            }
      }
      form={({ onDone }) => (
        <IntegrationForm
          services={(services.data?.items ?? []).map((s) => s.name)}
          onCreated={(made) => {
            setCreated(made);
            onDone(null);
          }}
        />
      )}
    />
  );
}

function IntegrationForm({ services, onCreated }: { services: string[]; onCreated: (made: Created) => void }) {
  const [name, setName] = useState("");
  const [service, setService] = useState("");
  const [type, setType] = useState<Format>("pagerduty");
  const save = useSave();
  const errors = save.fields;

  async function submit(event: Event) {
    event.preventDefault();
    let made: Created | null = null;
    const ok = await save.run(async () => {
      made = await must(ingestion.POST("/api/v1/integrations", { body: { name, service, type } }));
    });
    if (ok && made) {
      setName("");
      onCreated(made);
    }
  }

  return (
    <SetupForm title="New integration key" noun="key" editing={false} save={save} onSubmit={submit}>
      <div class="form-grid">
        <Field label="Key name" name="name" errors={errors} hint="Where it is used, e.g. “prod Alertmanager”.">
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Service" name="service" errors={errors} hint="Alerts sent with the key belong to it.">
          <ServicePicker services={services} value={service} onChange={setService} />
        </Field>
        <Field label="Sender" name="type" errors={errors}>
          <select value={type} onChange={(e) => setType(e.currentTarget.value as Format)}>
            {FORMATS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.text}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {services.length === 0 && <p class="muted">No services yet: create one under Services first.</p>}
    </SetupForm>
  );
}

function Snippet({ title, text }: { title: string; text: string }) {
  const [copied, setCopied] = useState<string | null>(null);
  return (
    <div class="snippet">
      <div class="snippet-head">
        <h4>{title}</h4>
        <button
          type="button"
          aria-label={`Copy: ${title}`}
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(text);
              setCopied("Copied.");
            } catch {
              setCopied("Copying is not allowed here: select the text instead.");
            }
          }}
        >
          Copy
        </button>
        <span class="muted" role="status">
          {copied}
        </span>
      </div>
      <pre tabIndex={0}>
        <code>{text}</code>
      </pre>
    </div>
  );
}

function NewKey({ created, onDismiss }: { created: Created; onDismiss: () => void }) {
  const settings = senderSettings(created.key, window.location.origin, created.name);
  return (
    <section class="card new-key" aria-labelledby="new-key-title">
      <h3 id="new-key-title">Key for {created.name} (service {created.service})</h3>
      <p class="notice warn">
        This is the only time the key is shown: copy it now. If it is lost, revoke it and create another.
      </p>
      <p class="key-line">
        <span>Integration key:</span>{" "}
        <code id="new-key" class="secret-key">
          {created.key}
        </code>
      </p>
      <Snippet title="Alertmanager (PagerDuty receiver)" text={settings.alertmanagerPagerduty} />
      <Snippet title="Alertmanager (webhook receiver)" text={settings.alertmanagerWebhook} />
      <p class="snippet-intro">
        Grafana: add a contact point of type <strong>Webhook</strong> with this URL and an Authorization header
        (scheme Bearer, credentials the key).
      </p>
      <Snippet
        title="Grafana (webhook contact point)"
        text={`URL: ${settings.grafanaUrl}\nHTTP method: POST\n${settings.grafanaHeader}\n# ${settings.grafanaSeverity}`}
      />
      <Snippet title="PagerDuty Events API v2" text={settings.pagerduty} />
      <Snippet title="This platform's alert API" text={settings.generic} />
      <div class="actions">
        <button type="button" onClick={onDismiss}>
          I have copied the key
        </button>
      </div>
    </section>
  );
}
