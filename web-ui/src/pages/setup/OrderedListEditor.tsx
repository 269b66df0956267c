// Picking from a list of options: the editor of an ordered list of picks (a
// rotation's members, an escalation level's targets), each removable and, where
// the order is set by hand, movable up and down; and the select with an add
// button under it (also a team's, whose members are no ordered list).
import { type ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { type Errors, Field, GroupError } from "./forms";

/** Something the list may hold: its key (what the list holds), the option's words, and its group of options. */
export type Option = { key: string; label: string; group?: string };

/** A list's item moved one place up (-1) or down (+1). */
function moved<T>(items: T[], index: number, by: -1 | 1): T[] {
  const to = index + by;
  if (to < 0 || to >= items.length) return items;
  const copy = [...items];
  [copy[index], copy[to]] = [copy[to], copy[index]];
  return copy;
}

export function OrderedListEditor({
  field,
  owner,
  picked,
  options,
  nameOf,
  noteOf,
  errors,
  onChange,
  movable = false,
  empty,
  addLabel,
  placeholder,
  addButton,
  children,
}: {
  /** The API's name for the list ("layers.0.members"): its message shows above it. */
  field: string;
  /** What holds the list, as the buttons' labels name it: "layer 1". */
  owner: string;
  picked: string[];
  options: Option[];
  nameOf: (key: string) => string;
  /** Muted words after a pick's name, e.g. its kind. */
  noteOf?: (key: string) => string;
  errors: Errors;
  onChange: (picked: string[]) => void;
  /** Picks move up and down (a rotation's turns); otherwise they stay in the order added. */
  movable?: boolean;
  empty: string;
  addLabel: string;
  placeholder: string;
  addButton: string;
  /** More buttons at the end of the add row (remove the layer or level). */
  children?: ComponentChildren;
}) {
  const items = picked.map((key, position) => (
    <li key={key} class="row">
      <span class="row-name">
        {nameOf(key)}
        {noteOf && <span class="muted"> ({noteOf(key)})</span>}
      </span>
      {movable && (
        <>
          <button
            type="button"
            aria-label={`Move ${nameOf(key)} up`}
            disabled={position === 0}
            onClick={() => onChange(moved(picked, position, -1))}
          >
            ↑
          </button>
          <button
            type="button"
            aria-label={`Move ${nameOf(key)} down`}
            disabled={position === picked.length - 1}
            onClick={() => onChange(moved(picked, position, 1))}
          >
            ↓
          </button>
        </>
      )}
      <button
        type="button"
        class="danger"
        aria-label={`Remove ${nameOf(key)} from ${owner}`}
        onClick={() => onChange(picked.filter((k) => k !== key))}
      >
        Remove
      </button>
    </li>
  ));
  return (
    <>
      <GroupError errors={errors} name={field} />
      {movable ? <ol class="members">{items}</ol> : <ul class="plain">{items}</ul>}
      {picked.length === 0 && <p class="muted">{empty}</p>}
      <AddPicker
        label={addLabel}
        placeholder={placeholder}
        options={options.filter((o) => !picked.includes(o.key))}
        button={addButton}
        onAdd={(key) => onChange([...picked, key])}
      >
        {children}
      </AddPicker>
    </>
  );
}

/** A select of options (in their groups, if they have any) and a button that adds the chosen one. */
export function AddPicker({
  label,
  placeholder,
  options,
  button,
  onAdd,
  children,
}: {
  label: string;
  placeholder: string;
  options: Option[];
  button: string;
  onAdd: (key: string) => void;
  /** More buttons at the end of the row. */
  children?: ComponentChildren;
}) {
  const [adding, setAdding] = useState("");
  const inGroup = (group: string | undefined) =>
    options
      .filter((o) => o.group === group)
      .map((o) => (
        <option key={o.key} value={o.key}>
          {o.label}
        </option>
      ));
  return (
    <div class="row">
      <Field label={label} name="adding" errors={{}}>
        <select value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
          <option value="">{placeholder}</option>
          {[...new Set(options.map((o) => o.group))].map((group) =>
            group === undefined ? (
              inGroup(group)
            ) : (
              <optgroup key={group} label={group}>
                {inGroup(group)}
              </optgroup>
            ),
          )}
        </select>
      </Field>
      <button
        type="button"
        disabled={!adding}
        onClick={() => {
          onAdd(adding);
          setAdding("");
        }}
      >
        {button}
      </button>
      {children}
    </div>
  );
}
