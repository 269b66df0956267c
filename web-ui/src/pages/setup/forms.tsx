// What every setup section shares: loading a list, saving a form with the
// API's validation messages beside the fields, and deleting after a question.
import { cloneElement, isValidElement, type ComponentChildren, type VNode } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "../../api/client";
import { PAGE } from "../../api/pages";

export type Errors = Record<string, string>;

/** pydantic's own prefix on a validator's message, which says nothing to a person. */
const plain = (message: string | undefined) => message?.replace(/^Value error, /, "");

/** The most a setup list shows at once (the APIs' largest page). */

/** Something loaded from the API, with its error and a way to load it again. */
export type Loaded<T> = { data: T | undefined; error: unknown; reload: () => void };

/** `load` runs again on reload() and whenever one of `deps` changes. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    load()
      .then((out) => {
        if (!current) return;
        setData(out);
        setError(null);
      })
      .catch((failure) => current && setError(failure));
    return () => {
      current = false;
    };
  }, [round, ...deps]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, error, reload };
}

/** A list the API serves in pages of PAGE, with the offset shown. */
export type Paged<T> = Loaded<{ items: T[]; total: number }> & { offset: number; setOffset: (offset: number) => void };

export function usePaged<T>(
  load: (page: { limit: number; offset: number }) => Promise<{ items: T[]; total: number }>,
  deps: unknown[] = [],
): Paged<T> {
  const [offset, setOffset] = useState(0);
  // A changed filter (deps) starts again from the first page.
  useEffect(() => setOffset(0), deps);
  const loaded = useLoad(() => load({ limit: PAGE, offset }), [offset, ...deps]);
  return { ...loaded, offset, setOffset };
}

/** A form's save: busy while it runs, then the API's words on failure. */
export function useSave() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const fields: Errors = error instanceof ApiError ? error.fields : {};
  return { busy, error, fields, run, clear: () => setError(null) };
}

/** The message of a failure, in the service's words when it gave some. */
export function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : "Something went wrong.";
}

/** A labelled input with the API's message for it (by field name, e.g.
 * "levels.0.delay_minutes"), tied to the input by aria-describedby so the
 * label stays the input's name. `children` is the one input or select. */
export function Field({
  label,
  name,
  errors,
  hint,
  children,
}: {
  label: string;
  name: string;
  errors: Errors;
  hint?: string;
  children: ComponentChildren;
}) {
  const id = useId();
  const message = plain(errors[name]);
  const described = message ? `${id}-error` : hint ? `${id}-hint` : undefined;
  const control = isValidElement(children)
    ? cloneElement(children as VNode, {
        id,
        "aria-invalid": message ? "true" : undefined,
        "aria-describedby": described,
      })
    : children;
  return (
    <div class={message ? "field invalid" : "field"}>
      <label class="field-label" for={id}>
        {label}
      </label>
      {control}
      {hint && !message && (
        <span class="field-hint muted" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {message && (
        <span class="field-error" id={`${id}-error`}>
          {message}
        </span>
      )}
    </div>
  );
}

/** Messages for a part of a form the fields do not show one by one (e.g. "layers.0"). */
export function GroupError({ errors, name }: { errors: Errors; name: string }) {
  const message = plain(errors[name]);
  return message ? <p class="field-error">{message}</p> : null;
}

/** The summary under a form: what the service said when it refused. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="form-error" role="alert">
      Not saved: {messageOf(error)}
    </p>
  );
}

/** A setup form: a card titled for a new item or the one edited (which it scrolls
 * to and focuses), the fields, the API's refusal under them, then Create or Save,
 * and Cancel while editing. */
export function SetupForm({
  title,
  noun,
  editing,
  save,
  onSubmit,
  onCancel,
  children,
}: {
  title: string;
  /** What the button names: "Create team", "Save team". */
  noun: string;
  editing: boolean;
  save: { busy: boolean; error: unknown };
  onSubmit: (event: Event) => void;
  onCancel?: () => void;
  children: ComponentChildren;
}) {
  const formRef = useEditFocus(editing);
  const id = useId();
  return (
    <form ref={formRef} class="card setup-form" onSubmit={onSubmit} aria-labelledby={id} noValidate>
      <h3 id={id}>{title}</h3>
      {children}
      <FormError error={save.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? "Saving…" : `${editing ? "Save" : "Create"} ${noun}`}
        </button>
        {editing && onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

/** A delete (or revoke) button that asks first. */
export function ConfirmButton({
  label,
  question,
  confirm = "Yes, delete",
  onConfirm,
}: {
  label: string;
  question: string;
  confirm?: string;
  onConfirm: () => Promise<unknown> | void;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirm}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** Time zones the browser knows, UTC first, for a datalist. */
export const TIMEZONES: string[] = (() => {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  return ["UTC", ...zones.filter((z) => z !== "UTC")];
})();

export function TimezoneList({ id }: { id: string }) {
  return (
    <datalist id={id}>
      {TIMEZONES.map((zone) => (
        <option key={zone} value={zone} />
      ))}
    </datalist>
  );
}

/** The browser's own time zone, the default for new users and schedules. */
export function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The section's heading, the list's failure note and a notice of what just happened. */
export function Notice({ text }: { text: string | null }) {
  return (
    <p class="notice ok setup-notice" role="status" aria-live="polite" hidden={!text}>
      {text}
    </p>
  );
}

/** A form's ref that, when the form opens to edit something, scrolls it into view and focuses its first input. */
function useEditFocus(editing: boolean) {
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!editing || !ref.current) return;
    ref.current.scrollIntoView({ block: "start" });
    ref.current.querySelector<HTMLElement>("input, select")?.focus();
  }, []);
  return ref;
}

/** A required pick of one of the services that exist (a key's, a heartbeat's); what a
 * `Field` gives its control (id, aria-*) is passed on to the select. */
export function ServicePicker({
  services,
  value,
  onChange,
  ...control
}: {
  services: string[];
  value: string;
  onChange: (service: string) => void;
  id?: string;
  "aria-invalid"?: "true";
  "aria-describedby"?: string;
}) {
  return (
    <select {...control} required value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      <option value="">Pick a service…</option>
      {services.map((s) => (
        <option key={s} value={s}>
          {s}
        </option>
      ))}
    </select>
  );
}
