// The signed-in user's own profile: where they are paged (contact methods, each
// with a test page), how (notification rules per urgency: ordered steps of a
// delay and a contact method), their time zone, and their password. An admin
// opens anyone's (`/profile?user=<id>`, from Setup's users), password aside.
import { useCallback, useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { ApiError, must, oncall, type OncallTypes } from "../api/client";
import { Done, ErrorNote, Loading, Problem } from "../components/states";
import { useSession } from "../session";
import { localZone, TimezoneList } from "./setup/forms";
import "./profile.css";

type User = OncallTypes["schemas"]["UserRead"];
type Method = OncallTypes["schemas"]["ContactMethodRead"];
type Rules = OncallTypes["schemas"]["NotificationRulesRead"];
type Step = { delay_minutes: number; contact_method_id: string };
type Urgency = "high" | "low";

const TYPES = [
  { value: "webhook", text: "Webhook", placeholder: "https://example.com/hooks/pager" },
  { value: "slack", text: "Slack", placeholder: "https://hooks.slack.com/services/…" },
  { value: "email", text: "Email", placeholder: "you@example.com" },
] as const;

const URGENCIES: { key: Urgency; text: string }[] = [
  { key: "high", text: "High urgency" },
  { key: "low", text: "Low urgency" },
];

function message(failure: unknown, fallback: string): string {
  return failure instanceof ApiError ? failure.message : fallback;
}

export function Profile() {
  const { me, can } = useSession();
  const { query } = useLocation();
  // Whose profile: an admin may open anyone's; everyone else sees their own.
  const userId = (can("admin") && query.user) || me?.id;
  const own = userId === me?.id;
  const [user, setUser] = useState<User | null>(null);
  const [rules, setRules] = useState<Rules | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    if (!userId) return;
    try {
      const path = { params: { path: { user_id: userId } } };
      const [loaded, loadedRules] = await Promise.all([
        must(oncall.GET("/api/v1/users/{user_id}", path)),
        must(oncall.GET("/api/v1/users/{user_id}/notification-rules", path)),
      ]);
      setUser(loaded);
      setRules(loadedRules);
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  }, [userId]);
  useEffect(() => {
    load();
  }, [load]);

  return (
    <section aria-labelledby="profile-title" class="profile">
      <h1 id="profile-title">{own || user === null ? "Profile" : `Profile of ${user.name}`}</h1>
      {error !== null ? (
        <ErrorNote error={error} retry={load} />
      ) : user === null || rules === null ? (
        <Loading />
      ) : (
        <>
          <ContactMethods user={user} reload={load} />
          <NotificationRules user={user} rules={rules} reload={load} />
          <TimeZone user={user} own={own} />
          {own && <Password />}
        </>
      )}
    </section>
  );
}

function ContactMethods({ user, reload }: { user: User; reload: () => Promise<void> }) {
  const [type, setType] = useState<(typeof TYPES)[number]["value"]>("webhook");
  const [address, setAddress] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const path = { user_id: user.id };

  async function add(event: Event) {
    event.preventDefault();
    setProblem(null);
    try {
      await must(oncall.POST("/api/v1/users/{user_id}/contact-methods", { params: { path }, body: { type, address } }));
      setAddress("");
      setNotice(`Added the ${type} contact method.`);
      await reload();
    } catch (failure) {
      setProblem(message(failure, "The contact method was not added."));
    }
  }

  async function test(method: Method) {
    setProblem(null);
    try {
      await must(
        oncall.POST("/api/v1/users/{user_id}/contact-methods/{method_id}/test", {
          params: { path: { ...path, method_id: method.id } },
        }),
      );
      setNotice(`Test page sent to ${method.address}.`);
    } catch (failure) {
      setProblem(message(failure, "The test page was not sent."));
    }
  }

  async function remove(method: Method) {
    if (!window.confirm(`Remove ${method.address}? Notification rule steps using it go too.`)) return;
    try {
      await must(
        oncall.DELETE("/api/v1/users/{user_id}/contact-methods/{method_id}", {
          params: { path: { ...path, method_id: method.id } },
        }),
      );
      setNotice(`Removed ${method.address}.`);
      await reload();
    } catch (failure) {
      setProblem(message(failure, "The contact method was not removed."));
    }
  }

  const placeholder = TYPES.find((t) => t.value === type)?.placeholder;
  return (
    <section aria-labelledby="methods-title">
      <h2 id="methods-title">Contact methods</h2>
      <Done text={notice} />
      {user.contact_methods.length === 0 ? (
        <p class="muted">No contact methods yet: nobody can page you.</p>
      ) : (
        <ul class="methods">
          {user.contact_methods.map((method) => (
            <li key={method.id}>
              <span class="method-type">{method.type}</span> <span class="method-address">{method.address}</span>
              <button type="button" onClick={() => test(method)} aria-label={`Send a test page to ${method.address}`}>
                Send test
              </button>
              <button type="button" class="danger" onClick={() => remove(method)} aria-label={`Remove ${method.address}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="filters" onSubmit={add} aria-label="New contact method">
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.currentTarget.value as typeof type)}>
            {TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.text}
              </option>
            ))}
          </select>
        </label>
        <label>
          Address
          <input
            required
            maxLength={2048}
            value={address}
            placeholder={placeholder}
            onInput={(e) => setAddress(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          Add
        </button>
      </form>
      <Problem text={problem} />
    </section>
  );
}

function NotificationRules({ user, rules, reload }: { user: User; rules: Rules; reload: () => Promise<void> }) {
  const steps = (urgency: Urgency): Step[] =>
    rules[urgency].map((s) => ({ delay_minutes: s.delay_minutes, contact_method_id: s.contact_method_id }));
  const [draft, setDraft] = useState<Record<Urgency, Step[]>>({ high: steps("high"), low: steps("low") });
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => setDraft({ high: steps("high"), low: steps("low") }), [rules]);
  const methods = user.contact_methods;

  function change(urgency: Urgency, index: number, step: Partial<Step>) {
    setDraft({ ...draft, [urgency]: draft[urgency].map((s, i) => (i === index ? { ...s, ...step } : s)) });
  }
  function addStep(urgency: Urgency) {
    const last = draft[urgency][draft[urgency].length - 1];
    const next = { delay_minutes: last ? last.delay_minutes + 5 : 0, contact_method_id: methods[0].id };
    setDraft({ ...draft, [urgency]: [...draft[urgency], next] });
  }
  function removeStep(urgency: Urgency, index: number) {
    setDraft({ ...draft, [urgency]: draft[urgency].filter((_, i) => i !== index) });
  }

  async function save(event: Event) {
    event.preventDefault();
    setProblem(null);
    try {
      await must(
        oncall.PUT("/api/v1/users/{user_id}/notification-rules", {
          params: { path: { user_id: user.id } },
          body: draft,
        }),
      );
      setNotice("Notification rules saved.");
      await reload();
    } catch (failure) {
      setProblem(message(failure, "The notification rules were not saved."));
    }
  }

  return (
    <section aria-labelledby="rules-title">
      <h2 id="rules-title">Notification rules</h2>
      <p class="muted">
        When you are paged, each step reaches one contact method after its delay, until you acknowledge. Without
        steps, every contact method is paged at once. A service decides which severities are high urgency.
      </p>
      <Done text={notice} />
      {methods.length === 0 ? (
        <p class="muted">Add a contact method first.</p>
      ) : (
        <form onSubmit={save} aria-label="Notification rules">
          {URGENCIES.map(({ key, text }) => (
            <fieldset key={key} class="rule-list">
              <legend>{text}</legend>
              {draft[key].length === 0 && <p class="muted">Every contact method at once.</p>}
              <ol>
                {draft[key].map((step, index) => (
                  <li key={index}>
                    <label>
                      After (minutes)
                      <input
                        type="number"
                        min={0}
                        max={1440}
                        required
                        value={step.delay_minutes}
                        aria-label={`${text} step ${index + 1}: after minutes`}
                        onInput={(e) => change(key, index, { delay_minutes: Number(e.currentTarget.value) })}
                      />
                    </label>
                    <label>
                      Contact method
                      <select
                        value={step.contact_method_id}
                        aria-label={`${text} step ${index + 1}: contact method`}
                        onChange={(e) => change(key, index, { contact_method_id: e.currentTarget.value })}
                      >
                        {methods.map((m) => (
                          <option key={m.id} value={m.id}>
                            {m.type}: {m.address}
                          </option>
                        ))}
                      </select>
                    </label>
                    <button
                      type="button"
                      class="danger"
                      onClick={() => removeStep(key, index)}
                      aria-label={`Remove ${text.toLowerCase()} step ${index + 1}`}
                    >
                      Remove
                    </button>
                  </li>
                ))}
              </ol>
              <button type="button" onClick={() => addStep(key)}>
                Add a {key}-urgency step
              </button>
            </fieldset>
          ))}
          <button type="submit" class="primary">
            Save rules
          </button>
        </form>
      )}
      <Problem text={problem} />
    </section>
  );
}

function TimeZone({ user, own }: { user: User; own: boolean }) {
  const { refresh } = useSession();
  const [zone, setZone] = useState(user.timezone);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function save(event: Event) {
    event.preventDefault();
    setProblem(null);
    try {
      await must(
        oncall.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: user.id } }, body: { timezone: zone } }),
      );
      if (own) await refresh(); // the times this UI shows follow the user's own zone
      setNotice(own ? `Times now show in ${zone}.` : `${user.name}'s time zone is now ${zone}.`);
    } catch (failure) {
      setProblem(message(failure, "The time zone was not saved."));
    }
  }

  return (
    <section aria-labelledby="zone-title">
      <h2 id="zone-title">Time zone</h2>
      <Done text={notice} />
      <form class="filters" onSubmit={save} aria-label="Time zone">
        <label>
          Time zone
          <input required list="profile-zones" value={zone} onInput={(e) => setZone(e.currentTarget.value)} />
        </label>
        <TimezoneList id="profile-zones" />
        <button type="button" onClick={() => setZone(localZone())}>
          Use this browser's ({localZone()})
        </button>
        <button type="submit" class="primary">
          Save time zone
        </button>
      </form>
      <Problem text={problem} />
    </section>
  );
}

function Password() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function save(event: Event) {
    event.preventDefault();
    setProblem(null);
    if (next !== again) {
      setProblem("The new passwords differ.");
      return;
    }
    try {
      await must(oncall.PUT("/api/v1/auth/password", { body: { current_password: current, new_password: next } }));
      setCurrent("");
      setNext("");
      setAgain("");
      setNotice("Password changed; your other sessions were ended.");
    } catch (failure) {
      setProblem(message(failure, "The password was not changed."));
    }
  }

  return (
    <section aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <Done text={notice} />
      <form class="filters" onSubmit={save} aria-label="Change password">
        <label>
          Current password
          <input
            type="password"
            required
            autocomplete="current-password"
            value={current}
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </label>
        <label>
          New password
          <input
            type="password"
            required
            minLength={12}
            autocomplete="new-password"
            value={next}
            onInput={(e) => setNext(e.currentTarget.value)}
          />
        </label>
        <label>
          New password again
          <input
            type="password"
            required
            minLength={12}
            autocomplete="new-password"
            value={again}
            onInput={(e) => setAgain(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          Change password
        </button>
      </form>
      <Problem text={problem} />
    </section>
  );
}
