// Who is on call now for each service and team, with the escalation chain; a
// schedule's final shifts for the next two weeks as a timeline (overrides
// marked); its overrides, listed with who made them, to change or delete; an
// override made by picking a person and a time range, or by picking a shift on
// the timeline to cover. Every change reloads every view of who is on call.
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, must, oncall, type OncallTypes } from "../api/client";
import { Empty, ErrorNote, Loading } from "../components/states";
import { gapText } from "../coverage";
import { when, zoned } from "../format";
import { useLatest } from "../latest";
import { useSession } from "../session";
import { mayBeOnCall, useUsers } from "../users";
import "./oncall.css";
import { everything } from "../api/pages";

type ServiceOnCall = OncallTypes["schemas"]["ServiceOnCall"];
type PagedUser = OncallTypes["schemas"]["PagedUser"];
type Schedule = OncallTypes["schemas"]["ScheduleRead"];
type Shifts = OncallTypes["schemas"]["ShiftsRead"];
type Shift = Shifts["shifts"][number];
type Override = OncallTypes["schemas"]["OverrideRead"];

const DAYS = 14;
const DAY_MS = 86_400_000;

type ScheduleNow = OncallTypes["schemas"]["OnCallList"]["items"][number];

/** When a level is paged if nobody acknowledges: the first at once, each next one
 * after the delays of the levels before it (a level with nobody on call is passed
 * over at once, so it adds no wait). */
function pagedWhen(chain: ServiceOnCall["escalation_chain"], index: number): string {
  if (index === 0) return "at once";
  const minutes = chain.slice(0, index).reduce((sum, l) => sum + (l.user_ids.length ? l.delay_minutes : 0), 0);
  return minutes === 0 ? "at once" : `after ${minutes} min`;
}

/** An ISO time as a datetime-local input takes it, in the browser's zone. */
function localInput(iso: string | number): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function Now({ version }: { version: number }) {
  const [services, setServices] = useState<ServiceOnCall[] | null>(null);
  // Everyone the chains page, once, by id: the items name them by id.
  const [people, setPeople] = useState<Record<string, PagedUser>>({});
  const [schedules, setSchedules] = useState<ScheduleNow[]>([]);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      // Every service's chain in one answer (oncall-service reads them together), not
      // one request per service; each page of it brings the people its chains page.
      const found: Record<string, PagedUser> = {};
      const [listed, bySchedule] = await Promise.all([
        everything(async (page) => {
          const answer = await must(oncall.GET("/api/v1/oncall/services", { params: { query: page } }));
          Object.assign(found, answer.users);
          return answer;
        }),
        everything((page) => must(oncall.GET("/api/v1/oncall", { params: { query: page } }))),
      ]);
      // A service pages through its own policy or its team's; the others have no chain to show.
      const answers = listed.items.filter((item: ServiceOnCall) => item.escalation_policy);
      setPeople(found);
      setServices(answers);
      setSchedules(bySchedule.items);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, []);
  useEffect(() => {
    load();
  }, [load, version]);
  if (error) return <ErrorNote error={error} retry={load} />;
  if (services === null) return <Loading what="Asking who is on call" />;
  return (
    <>
      {services.length === 0 ? (
        <Empty>No service has an escalation policy yet.</Empty>
      ) : (
        <div class="grid">
          {services.map((item) => (
            <div class="card oncall-card" key={item.service?.id}>
              <h3>Service {item.service?.name}</h3>
              <p>
                On call now: <strong data-testid="primary">{(item.primary_id && people[item.primary_id]?.name) || "nobody"}</strong>
              </p>
              {item.escalation_policy && <p class="muted">Policy {item.escalation_policy.name}</p>}
              <ol class="chain" aria-label={`Escalation chain of ${item.service?.name}`}>
                {item.escalation_chain.map((level, index) => (
                  <li key={level.level}>
                    {pagedWhen(item.escalation_chain, index)}:{" "}
                    {level.user_ids.map((id) => people[id]?.name ?? "someone").join(", ") || "nobody"}
                  </li>
                ))}
              </ol>
            </div>
          ))}
        </div>
      )}
      {schedules.length > 0 && (
        <ul class="timeline" aria-label="On call by schedule">
          {schedules.map((item) => (
            <li key={item.schedule.id}>
              {item.schedule.name}: <strong>{item.user?.name ?? "nobody"}</strong>
              {item.until && <span class="muted"> until {when(item.until)}</span>}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Timeline({ shifts, from, cover }: { shifts: Shifts; from: number; cover?: (shift: Shift) => void }) {
  const span = DAYS * DAY_MS;
  const people = [...new Set(shifts.shifts.map((s) => s.user.name))];
  return (
    // A group, not an image: its shifts may be buttons (cover this shift).
    <div class="schedule-timeline" role="group" aria-label={`Shifts for the next ${DAYS} days`}>
      <div class="days">
        {Array.from({ length: DAYS }, (_, i) => (
          <span key={i}>{new Date(from + i * DAY_MS).toLocaleDateString(undefined, zoned({ weekday: "short", day: "numeric" }))}</span>
        ))}
      </div>
      {people.map((person) => (
        <div class="track" key={person}>
          <span class="who">{person}</span>
          <div class="bar">
            {shifts.shifts
              .filter((s) => s.user.name === person)
              .map((s) => {
                const start = Math.max(Date.parse(s.start), from);
                const end = Math.min(Date.parse(s.end), from + span);
                const what = `${person}: ${when(s.start)} – ${when(s.end)}${s.source.type === "override" ? " (override)" : ""}`;
                const style = { left: `${((start - from) / span) * 100}%`, width: `${((end - start) / span) * 100}%` };
                const key = `${s.start}-${s.source.id}`;
                // A shift still to come or running is a button for whoever may cover it: it
                // opens the override form, filled in. One that is over cannot be covered.
                return cover && Date.parse(s.end) > Date.now() ? (
                  <button
                    type="button"
                    key={key}
                    class={`shift shift-${s.source.type}`}
                    title={`${what}. Cover this shift`}
                    aria-label={`Cover ${what}`}
                    style={style}
                    onClick={() => cover(s)}
                  />
                ) : (
                  <span key={key} class={`shift shift-${s.source.type}`} title={what} style={style} />
                );
              })}
          </div>
        </div>
      ))}
      <p class="muted legend">
        <span class="shift shift-layer swatch" /> rotation <span class="shift shift-override swatch" /> override
      </p>
    </div>
  );
}

/** Every stretch of the next two weeks nobody covers (the service's gap rule, the
 * one oncall_schedules_with_gap counts). */
function Gaps({ shifts }: { shifts: Shifts }) {
  const upcoming = shifts.gaps.filter((g) => Date.parse(g.end) > Date.now());
  if (upcoming.length === 0) return <p class="notice ok">Someone is on call at every moment of these two weeks.</p>;
  return (
    <div class="notice warn">
      <p>Coverage gaps: an incident then skips this schedule's level.</p>
      <ul aria-label="Coverage gaps">
        {upcoming.map((g) => (
          <li key={g.start}>{gapText(g)}</li>
        ))}
      </ul>
    </div>
  );
}

function Overrides({
  items,
  users,
  editable,
  edit,
  remove,
}: {
  items: Override[];
  users: { id: string; name: string }[];
  editable: (o: Override) => boolean;
  edit: (o: Override) => void;
  remove: (o: Override) => void;
}) {
  if (items.length === 0) return <p class="muted">No overrides from now on.</p>;
  return (
    <table class="overrides" aria-label="Overrides">
      <thead>
        <tr>
          <th scope="col">Who covers</th>
          <th scope="col">From</th>
          <th scope="col">Until</th>
          <th scope="col">Made by</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((o) => (
          <tr key={o.id}>
            <td>{o.user.name}</td>
            <td>{when(o.start)}</td>
            <td>{when(o.end)}</td>
            <td>
              {o.created_by ? (users.find((u) => u.id === o.created_by!.id)?.name ?? o.created_by.name) : "the platform"}
              <span class="muted"> · {when(o.created_at)}</span>
            </td>
            <td class="row-actions">
              {editable(o) && (
                <>
                  <button type="button" onClick={() => edit(o)} aria-label={`Change the override of ${o.user.name}`}>
                    Change
                  </button>
                  <button type="button" onClick={() => remove(o)} aria-label={`Delete the override of ${o.user.name}`}>
                    Delete
                  </button>
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ScheduleView({ changed }: { changed: () => void }) {
  const { me, can } = useSession();
  const users = useUsers();
  const [schedules, setSchedules] = useState<Schedule[] | null>(null);
  const [chosen, setChosen] = useState("");
  const [shifts, setShifts] = useState<Shifts | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [who, setWho] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [editing, setEditing] = useState<Override | null>(null);
  const [overrides, setOverrides] = useState<Override[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [from] = useState(() => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    return d.getTime();
  });

  useEffect(() => {
    everything((page) => must(oncall.GET("/api/v1/schedules", { params: { query: page } })))
      .then((page) => {
        setSchedules(page.items);
        if (page.items[0]) setChosen(page.items[0].id);
      })
      .catch(setError);
  }, []);

  const begin = useLatest();
  const load = useCallback(() => {
    if (!chosen) return;
    const fresh = begin();
    Promise.all([
      must(
        oncall.GET("/api/v1/schedules/{schedule_id}/shifts", {
          params: {
            path: { schedule_id: chosen },
            query: { from: new Date(from).toISOString(), to: new Date(from + DAYS * DAY_MS).toISOString() },
          },
        }),
      ),
      everything((page) =>
        must(
          oncall.GET("/api/v1/schedules/{schedule_id}/overrides", {
            params: { path: { schedule_id: chosen }, query: { ...page, from: new Date().toISOString() } },
          }),
        ),
      ),
    ])
      .then(([found, listed]) => {
        if (!fresh()) return;
        setShifts(found);
        setOverrides(listed.items);
        setError(null);
      })
      .catch((failure) => fresh() && setError(failure));
  }, [chosen, from, begin]);
  useEffect(load, [load]);

  function after(text: string) {
    setMessage({ ok: true, text });
    setEditing(null);
    load();
    changed(); // every other view of who is on call
  }

  async function override(event: Event) {
    event.preventDefault();
    setMessage(null);
    const body = { user_id: who || me!.id, start: new Date(start).toISOString(), end: new Date(end).toISOString() };
    try {
      if (editing) {
        await must(
          oncall.PATCH("/api/v1/schedules/{schedule_id}/overrides/{override_id}", {
            params: { path: { schedule_id: chosen, override_id: editing.id } },
            body,
          }),
        );
        after("Override changed.");
      } else {
        await must(
          oncall.POST("/api/v1/schedules/{schedule_id}/overrides", { params: { path: { schedule_id: chosen } }, body }),
        );
        after("Override saved.");
      }
    } catch (failure) {
      setMessage({ ok: false, text: failure instanceof ApiError ? failure.message : "The override was not saved." });
    }
  }

  async function remove(o: Override) {
    setMessage(null);
    try {
      await must(
        oncall.DELETE("/api/v1/schedules/{schedule_id}/overrides/{override_id}", {
          params: { path: { schedule_id: chosen, override_id: o.id } },
        }),
      );
      after(`Override of ${o.user.name} deleted.`);
    } catch (failure) {
      setMessage({ ok: false, text: failure instanceof ApiError ? failure.message : "The override was not deleted." });
    }
  }

  function edit(o: Override) {
    setEditing(o);
    setWho(o.user.id);
    setStart(localInput(o.start));
    setEnd(localInput(o.end));
    setMessage(null);
  }

  /** "Cover this shift" / "take over": the form filled with the shift's range (from
   * now if it is running), for the viewer themselves. */
  function cover(shift: Shift) {
    setEditing(null);
    setWho(me!.id);
    setStart(localInput(Math.max(Date.parse(shift.start), Date.now())));
    setEnd(localInput(shift.end));
    setMessage(null);
    document.getElementById("override-form")?.scrollIntoView({ block: "nearest" });
  }

  if (error) return <ErrorNote error={error} retry={load} />;
  if (schedules === null) return <Loading />;
  if (schedules.length === 0) return <Empty>No schedules yet.</Empty>;
  // Only people who may act can be put on call (a viewer could not acknowledge the page).
  const people = can("admin")
    ? users.filter(mayBeOnCall)
    : users.filter((u) => u.id === me?.id);
  const editable = (o: Override) => can("admin") || o.user.id === me?.id;
  return (
    <>
      <label>
        Schedule
        <select value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
          {schedules.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      {shifts === null ? (
        <Loading what="Loading shifts" />
      ) : (
        <Timeline shifts={shifts} from={from} cover={can("responder") ? cover : undefined} />
      )}
      {shifts && <Gaps shifts={shifts} />}
      <h3>Overrides</h3>
      <Overrides items={overrides} users={users} editable={editable} edit={edit} remove={remove} />
      {can("responder") && (
        <form
          id="override-form"
          class="filters"
          onSubmit={override}
          aria-label={editing ? "Change override" : "New override"}
        >
          <label>
            Who
            <select value={who || me?.id} onChange={(e) => setWho(e.currentTarget.value)}>
              {people.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            From
            <input type="datetime-local" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />
          </label>
          <label>
            Until
            <input type="datetime-local" required value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary">
            {editing ? "Save changes" : "Add override"}
          </button>
          {editing && (
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          )}
        </form>
      )}
      {message && (
        <p class={message.ok ? "notice ok" : "form-error"} role={message.ok ? "status" : "alert"}>
          {message.text}
        </p>
      )}
    </>
  );
}

export function OnCall() {
  // Bumped by every override change: the "Now" panel asks again at once.
  const [version, setVersion] = useState(0);
  const changed = useCallback(() => setVersion((v) => v + 1), []);
  return (
    <section aria-labelledby="oncall-title">
      <h1 id="oncall-title">On call</h1>
      <h2>Now</h2>
      <Now version={version} />
      <h2>Next two weeks</h2>
      <ScheduleView changed={changed} />
    </section>
  );
}
