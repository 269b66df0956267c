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
import { OrderedListEditor } from "./OrderedListEditor";
import { SetupSection } from "./Section";
import { everything } from "../../api/pages";
import { mayBeOnCall } from "../../users";

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
      // Only people who may act on a page: a viewer paged could not acknowledge it.
      ...users.items
        .filter(mayBeOnCall)
        .map((u) => ({ type: "user" as const, id: u.id, name: u.name })),
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
  const at = `levels.${index}`;
  const n = index + 1;
  const keyOf = (t: Target) => `${t.type}:${t.id}`;
  const targetOf = (key: string): Target => {
    const [type, id] = key.split(":") as [Target["type"], string];
    return { type, id };
  };
  const nameOf = (key: string) => choices.find((c) => keyOf(c) === key)?.name ?? targetOf(key).id;
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
      <OrderedListEditor
        field={`${at}.targets`}
        owner={`level ${n}`}
        picked={level.targets.map(keyOf)}
        options={choices.map((c) => ({
          key: keyOf(c),
          label: c.name,
          group: c.type === "schedule" ? "Schedules" : "Users",
        }))}
        nameOf={nameOf}
        noteOf={(key) => targetOf(key).type}
        errors={errors}
        onChange={(keys) => onChange({ targets: keys.map(targetOf) })}
        empty="No targets yet: a level pages at least one user or schedule."
        addLabel={`Add a target to level ${n}`}
        placeholder="Pick a schedule or user…"
        addButton="Add target"
      >
        <button type="button" class="danger" onClick={onRemove}>
          Remove level {n}
        </button>
      </OrderedListEditor>
    </fieldset>
  );
}
