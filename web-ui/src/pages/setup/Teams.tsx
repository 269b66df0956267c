// Teams: a name and its members, each a member or a manager.
import { useState } from "preact/hooks";
import { must, oncall, type OncallTypes } from "../../api/client";
import {
  Field,
  GroupError,
  SetupForm,
  useLoad,
  usePaged,
  useSave,
} from "./forms";
import { AddPicker } from "./OrderedListEditor";
import { SetupSection, None } from "./Section";
import { everything } from "../../api/pages";

type Team = OncallTypes["schemas"]["TeamRead"];
type User = OncallTypes["schemas"]["UserRead"];
type TeamRole = OncallTypes["schemas"]["TeamMemberIn"]["role"];
type Member = { user_id: string; role: TeamRole };

export function Teams() {
  const teams = usePaged((page) => must(oncall.GET("/api/v1/teams", { params: { query: page } })));
  const users = useLoad(() => everything((page) => must(oncall.GET("/api/v1/users", { params: { query: page } }))));
  return (
    <SetupSection
      title="Teams"
      noun="teams"
      list={teams}
      columns={[
        { head: "Name", cell: (team) => team.name },
        {
          head: "Members",
          cell: (team) =>
            team.members.length === 0 ? (
              <None />
            ) : (
              team.members.map((m) => `${m.user.name}${m.role === "manager" ? " (manager)" : ""}`).join(", ")
            ),
        },
      ]}
      remove={(team) => ({
        question: `Delete team ${team.name}?`,
        done: `Team ${team.name} deleted.`,
        call: () => must(oncall.DELETE("/api/v1/teams/{team_id}", { params: { path: { team_id: team.id } } })),
      })}
      form={({ item, onDone, onCancel }) => (
        <TeamForm team={item} users={users.data?.items ?? []} onDone={onDone} onCancel={onCancel} />
      )}
    />
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
  const save = useSave();
  const errors = save.fields;
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
    <SetupForm
      title={team ? `Edit team ${team.name}` : "New team"}
      noun="team"
      editing={team !== null}
      save={save}
      onSubmit={submit}
      onCancel={onCancel}
    >
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
        <AddPicker
          label="Add a member"
          placeholder="Pick a user…"
          options={choices.map((u) => ({ key: u.id, label: `${u.name} (${u.email})` }))}
          button="Add member"
          onAdd={(userId) => setMembers([...members, { user_id: userId, role: "member" }])}
        />
      </fieldset>
    </SetupForm>
  );
}
