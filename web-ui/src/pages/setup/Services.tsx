// Services: what alerts are about; each names the escalation policy that pages for it and its team.
import { useState } from "preact/hooks";
import { must, oncall, type OncallTypes } from "../../api/client";
import {
  Field,
  SetupForm,
  useLoad,
  usePaged,
  useSave,
} from "./forms";
import { SetupSection, None } from "./Section";
import { everything } from "../../api/pages";
import { when } from "../../format";
import { activeWindows } from "../../services";

type Service = OncallTypes["schemas"]["ServiceRead"];
type Named = { id: string; name: string };

export function Services() {
  const services = usePaged((page) => must(oncall.GET("/api/v1/services", { params: { query: page } })));
  const policies = useLoad(() =>
    everything((page) => must(oncall.GET("/api/v1/escalation-policies", { params: { query: page } }))),
  );
  const teams = useLoad(() => everything((page) => must(oncall.GET("/api/v1/teams", { params: { query: page } }))));
  // The maintenance windows active now (alert-ingestion's): a service in one pages no one.
  const windows = useLoad(() => activeWindows());
  const quietUntil = (name: string) => {
    const ends = (windows.data ?? []).filter((w) => w.services.includes(name)).map((w) => w.end);
    return ends.length ? `in maintenance until ${when(ends.sort()[ends.length - 1])}` : <None />;
  };
  const policyList: Named[] = policies.data?.items ?? [];
  const teamList: Named[] = teams.data?.items ?? [];
  const nameIn = (list: Named[], id: string | null) =>
    id === null ? <None /> : (list.find((x) => x.id === id)?.name ?? id);
  return (
    <SetupSection
      title="Services"
      noun="services"
      list={services}
      columns={[
        { head: "Name", cell: (service) => service.name },
        { head: "Escalation policy", cell: (service) => nameIn(policyList, service.escalation_policy_id) },
        { head: "Team", cell: (service) => nameIn(teamList, service.team_id) },
        {
          head: "Grouping",
          cell: (service) =>
            [
              service.correlation_window_minutes === null
                ? "default window"
                : service.correlation_window_minutes === 0
                  ? "no window"
                  : `${service.correlation_window_minutes} min`,
              ...(service.grouping_fields.length ? [`same ${service.grouping_fields.join(", ")}`] : []),
              ...(service.join_acknowledged ? [] : ["not into acknowledged"]),
            ].join(" · "),
        },
        { head: "Maintenance", cell: (service) => quietUntil(service.name) },
      ]}
      remove={(service) => ({
        question: `Delete service ${service.name}?`,
        done: `Service ${service.name} deleted.`,
        call: () =>
          must(oncall.DELETE("/api/v1/services/{service_id}", { params: { path: { service_id: service.id } } })),
      })}
      form={({ item, onDone, onCancel }) => (
        <ServiceForm service={item} policies={policyList} teams={teamList} onDone={onDone} onCancel={onCancel} />
      )}
    />
  );
}

function ServiceForm({
  service,
  policies,
  teams,
  onDone,
  onCancel,
}: {
  service: Service | null;
  policies: Named[];
  teams: Named[];
  onDone: (what: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(service?.name ?? "");
  const [description, setDescription] = useState(service?.description ?? "");
  const [policy, setPolicy] = useState(service?.escalation_policy_id ?? "");
  const [team, setTeam] = useState(service?.team_id ?? "");
  const [window_, setWindow] = useState(service?.correlation_window_minutes?.toString() ?? "");
  const [fields, setFields] = useState((service?.grouping_fields ?? []).join(", "));
  const [joinAcknowledged, setJoinAcknowledged] = useState(service?.join_acknowledged ?? true);
  const save = useSave();
  const errors = save.fields;

  async function submit(event: Event) {
    event.preventDefault();
    const body = {
      name,
      description,
      escalation_policy_id: policy || null,
      team_id: team || null,
      // Empty: the platform's default window.
      correlation_window_minutes: window_.trim() === "" ? null : Number(window_),
      grouping_fields: fields
        .split(",")
        .map((f) => f.trim())
        .filter((f) => f !== ""),
      join_acknowledged: joinAcknowledged,
    };
    const ok = await save.run(() =>
      service
        ? must(
            oncall.PATCH("/api/v1/services/{service_id}", { params: { path: { service_id: service.id } }, body }),
          )
        : must(oncall.POST("/api/v1/services", { body })),
    );
    if (ok) onDone(service ? `Service ${name} saved.` : `Service ${name} created.`);
  }

  return (
    <SetupForm
      title={service ? `Edit service ${service.name}` : "New service"}
      noun="service"
      editing={service !== null}
      save={save}
      onSubmit={submit}
      onCancel={onCancel}
    >
      <div class="form-grid">
        <Field
          label="Service name"
          name="name"
          errors={errors}
          hint="Alerts name it; integration keys are issued for it."
        >
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Escalation policy" name="escalation_policy_id" errors={errors}>
          <select value={policy} onChange={(e) => setPolicy(e.currentTarget.value)}>
            <option value="">None (the team's policy)</option>
            {policies.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Team" name="team_id" errors={errors}>
          <select value={team} onChange={(e) => setTeam(e.currentTarget.value)}>
            <option value="">None</option>
            {teams.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Description" name="description" errors={errors} hint="Optional">
          <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <Field
          label="Correlation window (minutes)"
          name="correlation_window_minutes"
          errors={errors}
          hint="How long a new incident takes further alerts of its severity; 0: never group by time; empty: the platform's default."
        >
          <input
            type="number"
            min={0}
            max={10080}
            value={window_}
            onInput={(e) => setWindow(e.currentTarget.value)}
          />
        </Field>
        <Field
          label="Grouping fields"
          name="grouping_fields"
          errors={errors}
          hint="Comma-separated, e.g. labels.alertname, labels.instance: alerts group only when these are equal too."
        >
          <input value={fields} onInput={(e) => setFields(e.currentTarget.value)} />
        </Field>
        <Field
          label="Alerts may join an acknowledged incident"
          name="join_acknowledged"
          errors={errors}
          hint="The assignee is told when one does; off: such an alert opens an incident of its own."
        >
          <input
            type="checkbox"
            checked={joinAcknowledged}
            onChange={(e) => setJoinAcknowledged(e.currentTarget.checked)}
          />
        </Field>
      </div>
    </SetupForm>
  );
}
