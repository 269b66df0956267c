// Escalation policies: levels of users or schedules, each waited on for some minutes
// before the next, the whole repeated a number of times.
import { useState } from "preact/hooks";
import { must, oncall, type OncallTypes } from "../../api/client";
import {
  type Errors,
  Field,
  GroupError,
  SetupForm,
  useLoad,
  usePaged,
  useSave,
} from "./forms";
import { SetupSection } from "./Section";
import { everything } from "../../api/pages";

type Policy = OncallTypes["schemas"]["PolicyRead"];
type Target = OncallTypes["schemas"]["TargetIn"];
type Level = { delay_minutes: string; targets: Target[] };
type Choice = { type: Target["type"]; id: string; name: string };

export function Policies() {
  const policies = usePaged((page) => must(oncall.GET("/api/v1/escalation-policies", { params: { query: page } })));
  const choices = useLoad(async (): Promise<Choice[]> => {
    const [users, schedules] = await Promise.all([
      everything((page) => must(oncall.GET("/api/v1/users", { params: { query: page } }))),
      everything((page) => must(oncall.GET("/api/v1/schedules", { params: { query: page } }))),
    ]);
    return [
      ...schedules.items.map((s) => ({ type: "schedule" as const, id: s.id, name: s.name })),
      ...users.items.filter((u) => !u.disabled).map((u) => ({ type: "user" as const, id: u.id, name: u.name })),
    ];
  });
  return (
    <SetupSection
      title="Escalation policies"
      noun="escalation policies"
      list={policies}
      columns={[
        { head: "Name", cell: (policy) => policy.name },
        {
          head: "Levels",
          cell: (policy) => (
            <ol class="plain-numbered">
              {policy.levels.map((level) => (
                <li key={level.position}>
                  {level.targets.map((t) => `${t.name} (${t.type})`).join(", ")}
                  <span class="muted"> — then after {level.delay_minutes} min</span>
                </li>
              ))}
            </ol>
          ),
        },
        { head: "Repeats", cell: (policy) => policy.repeat_count },
      ]}
      remove={(policy) => ({
        question: `Delete escalation policy ${policy.name}?`,
        done: `Escalation policy ${policy.name} deleted.`,
        call: () =>
          must(
            oncall.DELETE("/api/v1/escalation-policies/{policy_id}", { params: { path: { policy_id: policy.id } } }),
          ),
      })}
      form={({ item, onDone, onCancel }) => (
        <PolicyForm policy={item} choices={choices.data ?? []} onDone={onDone} onCancel={onCancel} />
      )}
    />
  );
}

function PolicyForm({
  policy,
  choices,
  onDone,
  onCancel,
}: {
  policy: Policy | null;
  choices: Choice[];
  onDone: (what: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(policy?.name ?? "");
  const [repeat, setRepeat] = useState(String(policy?.repeat_count ?? 0));
  const [levels, setLevels] = useState<Level[]>(
    policy
      ? policy.levels.map((l) => ({
          delay_minutes: String(l.delay_minutes),
          targets: l.targets.map((t) => ({ type: t.type, id: t.id })),
        }))
      : [{ delay_minutes: "15", targets: [] }],
  );
  const save = useSave();
  const errors = save.fields;

  async function submit(event: Event) {
    event.preventDefault();
    const body = {
      name,
      repeat_count: Number(repeat),
      levels: levels.map((l) => ({ delay_minutes: Number(l.delay_minutes), targets: l.targets })),
    };
    const ok = await save.run(() =>
      policy
        ? must(
            oncall.PATCH("/api/v1/escalation-policies/{policy_id}", {
              params: { path: { policy_id: policy.id } },
              body,
            }),
          )
        : must(oncall.POST("/api/v1/escalation-policies", { body: { ...body, description: "" } })),
    );
    if (ok) onDone(policy ? `Escalation policy ${name} saved.` : `Escalation policy ${name} created.`);
  }

  return (
    <SetupForm
      title={policy ? `Edit escalation policy ${policy.name}` : "New escalation policy"}
      noun="policy"
      editing={policy !== null}
      save={save}
      onSubmit={submit}
      onCancel={onCancel}
    >
      <div class="form-grid">
        <Field label="Policy name" name="name" errors={errors}>
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field
          label="Repeat count"
          name="repeat_count"
          errors={errors}
          hint="How many more times the levels run when nobody acknowledges (0–9)."
        >
          <input type="number" min={0} max={9} value={repeat} onInput={(e) => setRepeat(e.currentTarget.value)} />
        </Field>
      </div>
      <GroupError errors={errors} name="levels" />
      {levels.map((level, index) => (
        <LevelEditor
          key={index}
          index={index}
          level={level}
          choices={choices}
          errors={errors}
          onChange={(next) => setLevels(levels.map((l, i) => (i === index ? { ...l, ...next } : l)))}
          onRemove={() => setLevels(levels.filter((_, i) => i !== index))}
        />
      ))}
      <div class="actions">
        <button type="button" onClick={() => setLevels([...levels, { delay_minutes: "15", targets: [] }])}>
          Add level
        </button>
      </div>
    </SetupForm>
  );
}

function LevelEditor({
  index,
  level,
  choices,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  level: Level;
  choices: Choice[];
  errors: Errors;
  onChange: (next: Partial<Level>) => void;
  onRemove: () => void;
}) {
  const [adding, setAdding] = useState("");
  const at = `levels.${index}`;
  const n = index + 1;
  const nameOf = (t: Target) => choices.find((c) => c.type === t.type && c.id === t.id)?.name ?? t.id;
  const chosen = (c: Choice) => level.targets.some((t) => t.type === c.type && t.id === c.id);
  const open = choices.filter((c) => !chosen(c));
  return (
    <fieldset class="sub-list level">
      <legend>Level {n}</legend>
      <GroupError errors={errors} name={at} />
      <Field
        label={`Level ${n} delay (minutes)`}
        name={`${at}.delay_minutes`}
        errors={errors}
        hint="How long this level has to acknowledge before the next is paged."
      >
        <input
          type="number"
          min={1}
          max={1440}
          value={level.delay_minutes}
          onInput={(e) => onChange({ delay_minutes: e.currentTarget.value })}
        />
      </Field>
      <GroupError errors={errors} name={`${at}.targets`} />
      <ul class="plain">
        {level.targets.map((target) => (
          <li key={`${target.type}:${target.id}`} class="row">
            <span class="row-name">
              {nameOf(target)} <span class="muted">({target.type})</span>
            </span>
            <button
              type="button"
              class="danger"
              aria-label={`Remove ${nameOf(target)} from level ${n}`}
              onClick={() => onChange({ targets: level.targets.filter((t) => t !== target) })}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      {level.targets.length === 0 && <p class="muted">No targets yet: a level pages at least one user or schedule.</p>}
      <div class="row">
        <Field label={`Add a target to level ${n}`} name={`${at}.adding`} errors={{}}>
          <select value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
            <option value="">Pick a schedule or user…</option>
            <optgroup label="Schedules">
              {open
                .filter((c) => c.type === "schedule")
                .map((c) => (
                  <option key={c.id} value={`schedule:${c.id}`}>
                    {c.name}
                  </option>
                ))}
            </optgroup>
            <optgroup label="Users">
              {open
                .filter((c) => c.type === "user")
                .map((c) => (
                  <option key={c.id} value={`user:${c.id}`}>
                    {c.name}
                  </option>
                ))}
            </optgroup>
          </select>
        </Field>
        <button
          type="button"
          disabled={!adding}
          onClick={() => {
            const [type, id] = adding.split(":") as [Target["type"], string];
            onChange({ targets: [...level.targets, { type, id }] });
            setAdding("");
          }}
        >
          Add target
        </button>
        <button type="button" class="danger" onClick={onRemove}>
          Remove level {n}
        </button>
      </div>
    </fieldset>
  );
}
