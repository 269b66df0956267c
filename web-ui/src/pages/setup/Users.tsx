// Users: who can log in and be paged, their role, time zone and contact methods.
import { useState } from "preact/hooks";
import { must, oncall, type OncallTypes } from "../../api/client";
import { useSession } from "../../session";
import {
  Field,
  GroupError,
  localZone,
  SetupForm,
  TimezoneList,
  usePaged,
  useSave,
} from "./forms";
import { SetupSection, None } from "./Section";

type User = OncallTypes["schemas"]["UserRead"];
type Role = OncallTypes["schemas"]["Role"];
type ContactType = OncallTypes["schemas"]["ContactMethodIn"]["type"];
type Contact = { type: ContactType; address: string };

const ROLES: Role[] = ["viewer", "responder", "admin"];
const CONTACT_TYPES: { value: ContactType; text: string; placeholder: string }[] = [
  { value: "email", text: "Email", placeholder: "name@example.com" },
  { value: "slack", text: "Slack webhook", placeholder: "https://hooks.slack.com/services/…" },
  { value: "webhook", text: "Webhook", placeholder: "https://example.com/pages" },
  { value: "sms", text: "SMS", placeholder: "+14155550100" },
];

export function Users() {
  const { me } = useSession();
  const users = usePaged((page) => must(oncall.GET("/api/v1/users", { params: { query: page } })));
  return (
    <SetupSection
      title="Users"
      noun="users"
      list={users}
      rowClass={(user) => (user.disabled ? "disabled-row" : undefined)}
      columns={[
        {
          head: "Name",
          cell: (user) => (
            <>
              {user.name}
              {user.disabled && <span class="tag">disabled</span>}
            </>
          ),
        },
        { head: "Email", cell: (user) => user.email },
        { head: "Role", cell: (user) => <span class={`role role-${user.role}`}>{user.role}</span> },
        { head: "Time zone", narrow: true, cell: (user) => user.timezone },
        {
          head: "Contact methods",
          narrow: true,
          cell: (user) => (
            <>
              {user.contact_methods.length === 0 ? (
                <None />
              ) : (
                <ul class="plain">
                  {user.contact_methods.map((c) => (
                    <li key={c.id}>
                      <span class="muted">{c.type}:</span> <span class="address">{c.address}</span>
                    </li>
                  ))}
                </ul>
              )}
              <a href={`/profile?user=${user.id}`} aria-label={`Paging profile of ${user.name}`}>
                Paging profile
              </a>
            </>
          ),
        },
      ]}
      // Nobody disables or deletes themselves: the last admin would lock everyone out.
      actions={(user, act) =>
        user.id !== me?.id && (
          <button
            type="button"
            aria-label={`${user.disabled ? "Enable" : "Disable"} ${user.name}`}
            onClick={() =>
              act(`${user.name} ${user.disabled ? "enabled" : "disabled"}.`, () =>
                must(
                  oncall.PATCH("/api/v1/users/{user_id}", {
                    params: { path: { user_id: user.id } },
                    body: { disabled: !user.disabled },
                  }),
                ),
              )
            }
          >
            {user.disabled ? "Enable" : "Disable"}
          </button>
        )
      }
      remove={(user) =>
        user.id === me?.id
          ? null
          : {
              question: `Delete ${user.name}?`,
              done: `${user.name} deleted.`,
              call: () => must(oncall.DELETE("/api/v1/users/{user_id}", { params: { path: { user_id: user.id } } })),
            }
      }
      form={({ item, onDone, onCancel }) => <UserForm user={item} onDone={onDone} onCancel={onCancel} />}
    />
  );
}

function UserForm({
  user,
  onDone,
  onCancel,
}: {
  user: User | null;
  onDone: (what: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(user?.name ?? "");
  const [email, setEmail] = useState(user?.email ?? "");
  const [role, setRole] = useState<Role>(user?.role ?? "responder");
  const [timezone, setTimezone] = useState(user?.timezone ?? localZone());
  const [password, setPassword] = useState("");
  const [contacts, setContacts] = useState<Contact[]>(
    (user?.contact_methods ?? []).map((c) => ({ type: c.type as ContactType, address: c.address })),
  );
  const save = useSave();
  const errors = save.fields;
  const id = user ? `user-${user.id}` : "user-new";

  async function submit(event: Event) {
    event.preventDefault();
    const contact_methods = contacts.map((c) => ({ type: c.type, address: c.address.trim() }));
    const ok = await save.run(async () => {
      if (user) {
        await must(
          oncall.PATCH("/api/v1/users/{user_id}", {
            params: { path: { user_id: user.id } },
            body: { name, email, role, timezone, contact_methods },
          }),
        );
        if (password) {
          await must(
            oncall.POST("/api/v1/users/{user_id}/password", {
              params: { path: { user_id: user.id } },
              body: { password },
            }),
          );
        }
      } else {
        await must(
          oncall.POST("/api/v1/users", {
            body: { name, email, role, timezone, contact_methods, password: password || null },
          }),
        );
      }
    });
    if (ok) onDone(user ? `${name} saved.` : `${name} created.`);
  }

  function setContact(index: number, change: Partial<Contact>) {
    setContacts(contacts.map((c, i) => (i === index ? { ...c, ...change } : c)));
  }

  return (
    <SetupForm
      title={user ? `Edit ${user.name}` : "New user"}
      noun="user"
      editing={user !== null}
      save={save}
      onSubmit={submit}
      onCancel={onCancel}
    >
      <div class="form-grid">
        <Field label="Name" name="name" errors={errors}>
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="off" />
        </Field>
        <Field label="Email" name="email" errors={errors}>
          <input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="off" />
        </Field>
        <Field label="Role" name="role" errors={errors}>
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Time zone" name="timezone" errors={errors}>
          <input list={`${id}-zones`} value={timezone} onInput={(e) => setTimezone(e.currentTarget.value)} />
        </Field>
        <Field
          label={user ? "New password" : "Password"}
          name="password"
          errors={errors}
          hint={user ? "Leave empty to keep the current one." : "Optional: without one the user cannot log in."}
        >
          <input
            type="password"
            value={password}
            autocomplete="new-password"
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
      </div>
      <TimezoneList id={`${id}-zones`} />
      <fieldset class="sub-list">
        <legend>Contact methods</legend>
        <GroupError errors={errors} name="contact_methods" />
        {contacts.length === 0 && <p class="muted">No contact methods: this user is not paged anywhere.</p>}
        {contacts.map((contact, index) => (
          <div class="row" key={index}>
            <Field label={`Contact ${index + 1} type`} name={`contact_methods.${index}.type`} errors={errors}>
              <select
                value={contact.type}
                onChange={(e) => setContact(index, { type: e.currentTarget.value as ContactType })}
              >
                {CONTACT_TYPES.map((t) => (
                  <option key={t.value} value={t.value}>
                    {t.text}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={`Contact ${index + 1} address`} name={`contact_methods.${index}.address`} errors={errors}>
              <input
                class="wide"
                value={contact.address}
                placeholder={CONTACT_TYPES.find((t) => t.value === contact.type)?.placeholder}
                onInput={(e) => setContact(index, { address: e.currentTarget.value })}
              />
            </Field>
            <GroupError errors={errors} name={`contact_methods.${index}`} />
            <button
              type="button"
              class="danger"
              aria-label={`Remove contact ${index + 1}`}
              onClick={() => setContacts(contacts.filter((_, i) => i !== index))}
            >
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setContacts([...contacts, { type: "email", address: "" }])}>
          Add contact method
        </button>
      </fieldset>
    </SetupForm>
  );
}
