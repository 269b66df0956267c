// Schedules: a time zone and rotation layers, each taking its members in turn.
// Before saving, the form shows the final schedule it would make for the next two
// weeks and warns about every gap in it.
import { useEffect, useState } from "preact/hooks";
import { gapText } from "../../coverage";
import { must, oncall, type OncallTypes } from "../../api/client";
import {
  type Errors,
  Field,
  GroupError,
  localZone,
  SetupForm,
  TimezoneList,
  useLoad,
  usePaged,
  useSave,
} from "./forms";
import { OrderedListEditor } from "./OrderedListEditor";
import { SetupSection, None } from "./Section";
import { everything } from "../../api/pages";
import { mayBeOnCall } from "../../users";

type Schedule = OncallTypes["schemas"]["ScheduleRead"];
type User = OncallTypes["schemas"]["UserRead"];
type RotationType = OncallTypes["schemas"]["RotationType"];
type Layer = {
  name: string;
  rotation_type: RotationType;
  shift_length: string;
  handoff_time: string;
  start_date: string;
  end_at: string | null;
  members: string[];
};

const ROTATIONS: RotationType[] = ["hourly", "daily", "weekly"];
const UNIT: Record<RotationType, string> = { hourly: "hours", daily: "days", weekly: "weeks" };

type Preview = OncallTypes["schemas"]["SchedulePreview"];

/** A new layer starts empty: it covers from the moment it is saved (the service
 * anchors it at the last handoff), unless a later start date is chosen. */
function newLayer(): Layer {
  return {
    name: "",
    rotation_type: "weekly",
    shift_length: "1",
    handoff_time: "09:00",
    start_date: "",
    end_at: null,
    members: [],
  };
}

function layersBody(layers: Layer[]) {
  return layers.map((l) => ({
    name: l.name.trim() || null,
    rotation_type: l.rotation_type,
    shift_length: Number(l.shift_length),
    handoff_time: l.handoff_time,
    start_date: l.start_date || null,
    end_at: l.end_at,
    members: l.members,
  }));
}

/** Who the form would put on call now, and every gap of the next two weeks. */
function CoveragePreview({ timezone, layers, scheduleId }: { timezone: string; layers: Layer[]; scheduleId?: string }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const key = JSON.stringify([timezone, layersBody(layers), scheduleId]);
  useEffect(() => {
    let current = true;
    const timer = window.setTimeout(() => {
      must(
        oncall.POST("/api/v1/schedules/preview", {
          body: { timezone, layers: layersBody(layers), schedule_id: scheduleId ?? null },
        }),
      )
        .then((answer) => current && (setPreview(answer), setFailed(null)))
        .catch(() => current && (setPreview(null), setFailed("The coverage cannot be worked out until the form is valid.")));
    }, 300);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [key]);
  if (failed) return <p class="muted">{failed}</p>;
  if (!preview) return null;
  const now = preview.shifts[0] && preview.shifts[0].start === preview.from ? preview.shifts[0].user.name : null;
  return (
    <section class="coverage" aria-label="Coverage preview">
      <p>
        On call as soon as this is saved: <strong data-testid="preview-now">{now ?? "nobody"}</strong>
      </p>
      {preview.gaps.length === 0 ? (
        <p class="notice ok">Someone is on call at every moment of the next two weeks.</p>
      ) : (
        <div class="notice warn" role="alert">
          <p>
            {preview.gaps.length === 1 ? "One gap" : `${preview.gaps.length} gaps`} in the next two weeks: incidents
            then page the next level, or nobody.
          </p>
          <ul>
            {preview.gaps.map((gap) => (
              <li key={gap.start}>{gapText(gap)}</li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

export function Schedules() {
  const schedules = usePaged((page) => must(oncall.GET("/api/v1/schedules", { params: { query: page } })));
  const users = useLoad(() => everything((page) => must(oncall.GET("/api/v1/users", { params: { query: page } }))));
  return (
    <SetupSection
      title="Schedules"
      noun="schedules"
      list={schedules}
      columns={[
        { head: "Name", cell: (schedule) => schedule.name },
        { head: "Time zone", cell: (schedule) => schedule.timezone },
        {
          head: "Layers",
          cell: (schedule) =>
            schedule.layers.length === 0 ? (
              <None />
            ) : (
              <ul class="plain">
                {schedule.layers.map((layer) => (
                  <li key={layer.id}>
                    <strong>{layer.name}</strong>: {layer.rotation_type}
                    {layer.shift_length > 1 ? ` ×${layer.shift_length}` : ""} from {layer.start_date}{" "}
                    {layer.handoff_time} — {layer.members.map((m) => m.name).join(" → ")}
                  </li>
                ))}
              </ul>
            ),
        },
      ]}
      remove={(schedule) => ({
        question: `Delete schedule ${schedule.name}?`,
        done: `Schedule ${schedule.name} deleted.`,
        call: () =>
          must(oncall.DELETE("/api/v1/schedules/{schedule_id}", { params: { path: { schedule_id: schedule.id } } })),
      })}
      form={({ item, onDone, onCancel }) => (
        <ScheduleForm schedule={item} users={users.data?.items ?? []} onDone={onDone} onCancel={onCancel} />
      )}
    />
  );
}

function ScheduleForm({
  schedule,
  users,
  onDone,
  onCancel,
}: {
  schedule: Schedule | null;
  users: User[];
  onDone: (what: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(schedule?.name ?? "");
  const [timezone, setTimezone] = useState(schedule?.timezone ?? localZone());
  const [layers, setLayers] = useState<Layer[]>(
    schedule
      ? schedule.layers.map((l) => ({
          name: l.name,
          rotation_type: l.rotation_type as RotationType,
          shift_length: String(l.shift_length),
          handoff_time: l.handoff_time,
          start_date: l.start_date,
          end_at: l.end_at,
          members: l.members.map((m) => m.id),
        }))
      : [newLayer()],
  );
  const save = useSave();
  const errors = save.fields;
  const id = schedule ? `schedule-${schedule.id}` : "schedule-new";

  async function submit(event: Event) {
    event.preventDefault();
    const body = { name, timezone, layers: layersBody(layers) };
    const ok = await save.run(() =>
      schedule
        ? must(
            oncall.PATCH("/api/v1/schedules/{schedule_id}", {
              params: { path: { schedule_id: schedule.id } },
              body,
            }),
          )
        : must(oncall.POST("/api/v1/schedules", { body: { ...body, description: "" } })),
    );
    if (ok) onDone(schedule ? `Schedule ${name} saved.` : `Schedule ${name} created.`);
  }

  function change(index: number, next: Partial<Layer>) {
    setLayers(layers.map((l, i) => (i === index ? { ...l, ...next } : l)));
  }

  return (
    <SetupForm
      title={schedule ? `Edit schedule ${schedule.name}` : "New schedule"}
      noun="schedule"
      editing={schedule !== null}
      save={save}
      onSubmit={submit}
      onCancel={onCancel}
    >
      <div class="form-grid">
        <Field label="Schedule name" name="name" errors={errors}>
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Time zone" name="timezone" errors={errors}>
          <input list={`${id}-zones`} value={timezone} onInput={(e) => setTimezone(e.currentTarget.value)} />
        </Field>
      </div>
      <TimezoneList id={`${id}-zones`} />
      <GroupError errors={errors} name="layers" />
      {layers.map((layer, index) => (
        <LayerEditor
          key={index}
          index={index}
          layer={layer}
          users={users}
          errors={errors}
          onChange={(next) => change(index, next)}
          onRemove={() => setLayers(layers.filter((_, i) => i !== index))}
        />
      ))}
      <div class="actions">
        <button type="button" onClick={() => setLayers([...layers, newLayer()])}>
          Add layer
        </button>
      </div>
      <CoveragePreview timezone={timezone} layers={layers} scheduleId={schedule?.id} />
    </SetupForm>
  );
}

function LayerEditor({
  index,
  layer,
  users,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  layer: Layer;
  users: User[];
  errors: Errors;
  onChange: (next: Partial<Layer>) => void;
  onRemove: () => void;
}) {
  const at = `layers.${index}`;
  const n = index + 1;
  const nameOf = (userId: string) => users.find((u) => u.id === userId)?.name ?? userId;
  return (
    <fieldset class="sub-list layer">
      <legend>Layer {n}</legend>
      <GroupError errors={errors} name={at} />
      <div class="form-grid">
        <Field label={`Layer ${n} name`} name={`${at}.name`} errors={errors} hint="Optional">
          <input value={layer.name} onInput={(e) => onChange({ name: e.currentTarget.value })} />
        </Field>
        <Field label={`Layer ${n} rotation`} name={`${at}.rotation_type`} errors={errors}>
          <select
            value={layer.rotation_type}
            onChange={(e) => onChange({ rotation_type: e.currentTarget.value as RotationType })}
          >
            {ROTATIONS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label={`Layer ${n} shift length (${UNIT[layer.rotation_type]})`}
          name={`${at}.shift_length`}
          errors={errors}
        >
          <input
            type="number"
            min={1}
            max={1000}
            value={layer.shift_length}
            onInput={(e) => onChange({ shift_length: e.currentTarget.value })}
          />
        </Field>
        <Field
          label={`Layer ${n} start date`}
          name={`${at}.start_date`}
          errors={errors}
          hint="Empty: covers from the moment it is saved"
        >
          <input type="date" value={layer.start_date} onInput={(e) => onChange({ start_date: e.currentTarget.value })} />
        </Field>
        <Field label={`Layer ${n} handoff time`} name={`${at}.handoff_time`} errors={errors}>
          <input
            type="time"
            value={layer.handoff_time}
            onInput={(e) => onChange({ handoff_time: e.currentTarget.value })}
          />
        </Field>
      </div>
      <OrderedListEditor
        field={`${at}.members`}
        owner={`layer ${n}`}
        picked={layer.members}
        // Only people who may act on a page: a viewer on call could not acknowledge it.
        options={users
          .filter(mayBeOnCall)
          .map((u) => ({ key: u.id, label: `${u.name} (${u.email})` }))}
        nameOf={nameOf}
        errors={errors}
        onChange={(members) => onChange({ members })}
        movable
        empty="No members yet: a rotation needs at least one."
        addLabel={`Add to layer ${n}`}
        placeholder="Pick a user…"
        addButton="Add to rotation"
      >
        <button type="button" class="danger" onClick={onRemove}>
          Remove layer {n}
        </button>
      </OrderedListEditor>
    </fieldset>
  );
}
