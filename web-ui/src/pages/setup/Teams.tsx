// Teams: a name and its members, each a member or a manager.
import { useState } from "preact/hooks";
import { must, oncall, type OncallTypes } from "../../api/client";
import { ErrorNote, Empty, Loading } from "../../components/states";
import { ConfirmButton, Field, FormError, GroupError, messageOf, Notice, PAGE, useEditFocus, useLoad, useSave } from "./forms";

type Team = OncallTypes["schemas"]["TeamRead"];
type User = OncallTypes["schemas"]["UserRead"];
type TeamRole = OncallTypes["schemas"]["TeamMemberIn"]["role"];
type Member = { user_id: string; role: TeamRole };

export function Teams() {
  const teams = useLoad(() => must(oncall.GET("/api/v1/teams", { params: { query: { limit: PAGE } } })));
  const users = useLoad(() => must(oncall.GET("/api/v1/users", { params: { query: { limit: PAGE } } })));
  const [round, setRound] = useState(0);
  const [editing, setEditing] = useState<Team | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [listError, setListError] = useState<unknown>(null);

  return (
    <div class="setup-section">
      <h2>Teams</h2>
      <Notice text={notice} />
      {listError ? (
        <p class="form-error" role="alert">
          {messageOf(listError)}
        </p>
      ) : null}
      {teams.error ? (
        <ErrorNote error={teams.error} retry={teams.reload} />
      ) : !teams.data ? (
        <Loading what="Loading teams" />
      ) : teams.data.items.length === 0 ? (
        <Empty>No teams yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Members</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {teams.data.items.map((team) => (
                <tr key={team.id}>
                  <td>{team.name}</td>
                  <td>
                    {team.members.length === 0 ? (
                      <span class="muted">none</span>
                    ) : (
                      team.members.map((m) => `${m.user.name}${m.role === "manager" ? " (manager)" : ""}`).join(", ")
                    )}
                  </td>
                  <td>
                    <div class="actions">
                      <button type="button" aria-label={`Edit ${team.name}`} onClick={() => setEditing(team)}>
                        Edit
                      </button>
                      <ConfirmButton
                        label="Delete"
                        question={`Delete team ${team.name}?`}
                        onConfirm={async () => {
                          setListError(null);
                          try {
                            await must(oncall.DELETE("/api/v1/teams/{team_id}", { params: { path: { team_id: team.id } } }));
                            setNotice(`Team ${team.name} deleted.`);
                            teams.reload();
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
      <TeamForm
        key={`${editing?.id ?? "new"}-${round}`}
        team={editing}
        users={users.data?.items ?? []}
        onDone={(what) => {
          setEditing(null);
          setRound((n) => n + 1);
          setNotice(what);
          teams.reload();
        }}
        onCancel={() => setEditing(null)}
      />
    </div>
  );
}

function TeamForm({
  team,
  users,
  onDone,
  onCancel,
}: {
  team: Team | null;
  users: User[];
  onDone: (what: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(team?.name ?? "");
  const [members, setMembers] = useState<Member[]>(
    team?.members.map((m) => ({ user_id: m.user.id, role: m.role as TeamRole })) ?? [],
  );
  const [adding, setAdding] = useState("");
  const save = useSave();
  const errors = save.fields;
  const formRef = useEditFocus(team !== null);
  const id = team ? `team-${team.id}` : "team-new";
  const nameOf = (userId: string) => users.find((u) => u.id === userId)?.name ?? userId;
  const choices = users.filter((u) => !members.some((m) => m.user_id === u.id));

  async function submit(event: Event) {
    event.preventDefault();
    const ok = await save.run(() =>
      team
        ? must(
            oncall.PATCH("/api/v1/teams/{team_id}", { params: { path: { team_id: team.id } }, body: { name, members } }),
          )
        : must(oncall.POST("/api/v1/teams", { body: { name, description: "", members } })),
    );
    if (ok) onDone(team ? `Team ${name} saved.` : `Team ${name} created.`);
  }

  return (
    <form ref={formRef} class="card setup-form" onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
      <h3 id={`${id}-title`}>{team ? `Edit team ${team.name}` : "New team"}</h3>
      <Field label="Team name" name="name" errors={errors}>
        <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <fieldset class="sub-list">
        <legend>Members</legend>
        <GroupError errors={errors} name="members" />
        {members.length === 0 && <p class="muted">No members yet.</p>}
        {members.map((member, index) => (
          <div class="row" key={member.user_id}>
            <span class="row-name">{nameOf(member.user_id)}</span>
            <Field label={`Role of ${nameOf(member.user_id)}`} name={`members.${index}.role`} errors={errors}>
              <select
                value={member.role}
                onChange={(e) =>
                  setMembers(
                    members.map((m, i) => (i === index ? { ...m, role: e.currentTarget.value as TeamRole } : m)),
                  )
                }
              >
                <option value="member">member</option>
                <option value="manager">manager</option>
              </select>
            </Field>
            <button
              type="button"
              class="danger"
              aria-label={`Remove ${nameOf(member.user_id)}`}
              onClick={() => setMembers(members.filter((_, i) => i !== index))}
            >
              Remove
            </button>
          </div>
        ))}
        <div class="row">
          <Field label="Add a member" name="adding" errors={{}}>
            <select value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
              <option value="">Pick a user…</option>
              {choices.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name} ({u.email})
                </option>
              ))}
            </select>
          </Field>
          <button
            type="button"
            disabled={!adding}
            onClick={() => {
              setMembers([...members, { user_id: adding, role: "member" }]);
              setAdding("");
            }}
          >
            Add member
          </button>
        </div>
      </fieldset>
      <FormError error={save.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? "Saving…" : team ? "Save team" : "Create team"}
        </button>
        {team && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
