// Services: what alerts are about; each names the escalation policy that pages for it and its team.
import { useState } from "preact/hooks";
import { must, oncall, type OncallTypes } from "../../api/client";
import { ErrorNote, Empty, Loading } from "../../components/states";
import { ConfirmButton, Field, FormError, messageOf, Notice, PAGE, useEditFocus, useLoad, useSave } from "./forms";

type Service = OncallTypes["schemas"]["ServiceRead"];
type Named = { id: string; name: string };

export function Services() {
  const services = useLoad(() => must(oncall.GET("/api/v1/services", { params: { query: { limit: PAGE } } })));
  const policies = useLoad(() =>
    must(oncall.GET("/api/v1/escalation-policies", { params: { query: { limit: PAGE } } })),
  );
  const teams = useLoad(() => must(oncall.GET("/api/v1/teams", { params: { query: { limit: PAGE } } })));
  const [round, setRound] = useState(0);
  const [editing, setEditing] = useState<Service | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const policyList: Named[] = policies.data?.items ?? [];
  const teamList: Named[] = teams.data?.items ?? [];
  const nameIn = (list: Named[], id: string | null) =>
    id === null ? <span class="muted">none</span> : (list.find((x) => x.id === id)?.name ?? id);

  return (
    <div class="setup-section">
      <h2>Services</h2>
      <Notice text={notice} />
      {listError ? (
        <p class="form-error" role="alert">
          {messageOf(listError)}
        </p>
      ) : null}
      {services.error ? (
        <ErrorNote error={services.error} retry={services.reload} />
      ) : !services.data ? (
        <Loading what="Loading services" />
      ) : services.data.items.length === 0 ? (
        <Empty>No services yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Escalation policy</th>
                <th scope="col">Team</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {services.data.items.map((service) => (
                <tr key={service.id}>
                  <td>{service.name}</td>
                  <td>{nameIn(policyList, service.escalation_policy_id)}</td>
                  <td>{nameIn(teamList, service.team_id)}</td>
                  <td>
                    <div class="actions">
                      <button type="button" aria-label={`Edit ${service.name}`} onClick={() => setEditing(service)}>
                        Edit
                      </button>
                      <ConfirmButton
                        label="Delete"
                        question={`Delete service ${service.name}?`}
                        onConfirm={async () => {
                          setListError(null);
                          try {
                            await must(
                              oncall.DELETE("/api/v1/services/{service_id}", {
                                params: { path: { service_id: service.id } },
                              }),
                            );
                            setNotice(`Service ${service.name} deleted.`);
                            services.reload();
                          } catch (failure) {
                            setListError(failure);
                          }
                        }}
                      />
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ServiceForm
        key={`${editing?.id ?? "new"}-${round}`}
        service={editing}
        policies={policyList}
        teams={teamList}
        onDone={(what) => {
          setEditing(null);
          setRound((n) => n + 1);
          setNotice(what);
          services.reload();
        }}
        onCancel={() => setEditing(null)}
      />
    </div>
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
  const save = useSave();
  const errors = save.fields;
  const formRef = useEditFocus(service !== null);
  const id = service ? `service-${service.id}` : "service-new";

  async function submit(event: Event) {
    event.preventDefault();
    const body = { name, description, escalation_policy_id: policy || null, team_id: team || null };
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
    <form ref={formRef} class="card setup-form" onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
      <h3 id={`${id}-title`}>{service ? `Edit service ${service.name}` : "New service"}</h3>
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
      </div>
      <FormError error={save.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? "Saving…" : service ? "Save service" : "Create service"}
        </button>
        {service && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
