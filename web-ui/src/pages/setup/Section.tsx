// The frame every setup section shares: its heading, what just happened, its list
// (loading, empty and error states), Edit and a delete that asks first on each
// row, and below the list the form for a new item or the one being edited.
import { Fragment, type ComponentChildren, type VNode } from "preact";
import { useState } from "preact/hooks";
import { ErrorNote, Empty, Loading } from "../../components/states";
import { PAGE } from "../../api/pages";
import { ConfirmButton, messageOf, Notice, type Loaded, type Paged } from "./forms";

export type Column<T> = {
  head: string;
  cell: (item: T) => ComponentChildren;
  /** Hidden at phone width: secondary facts. */
  narrow?: boolean;
};

/** Run a row's action: on success say `what` and reload the list; on failure say why above it. */
export type Act = (what: string, call: () => Promise<unknown>) => Promise<void>;

export type Removal = { question: string; done: string; call: () => Promise<unknown>; label?: string; confirm?: string };

/** What the section's form is given: the item edited (null: a new one), and how to end. */
export type FormProps<T> = { item: T | null; onDone: (what: string | null) => void; onCancel: () => void };

type Named = { id: string; name: string };

export function SetupSection<T extends Named>({
  title,
  noun,
  list,
  columns,
  rowClass,
  editable = true,
  actions,
  remove,
  above,
  form,
}: {
  title: string;
  /** The plural the states speak of: "teams" gives "Loading teams…" and "No teams yet." */
  noun: string;
  /** Paged: Newer/Older under the list when it is longer than a page. */
  list: Loaded<{ items: T[] }> | Paged<T>;
  columns: Column<T>[];
  rowClass?: (item: T) => string | undefined;
  editable?: boolean;
  /** Row actions of this section's own, before Delete. */
  actions?: (item: T, act: Act) => ComponentChildren;
  /** How a row is deleted (or revoked); null where it may not be. */
  remove?: (item: T) => Removal | null;
  /** Shown between the notice and the list. */
  above?: ComponentChildren;
  form: (props: FormProps<T>) => VNode;
}) {
  const [round, setRound] = useState(0);
  const [editing, setEditing] = useState<T | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const rows = list.data?.items;

  const act: Act = async (what, call) => {
    setListError(null);
    try {
      await call();
      setNotice(what);
      list.reload();
    } catch (failure) {
      setListError(failure);
    }
  };

  return (
    <div class="setup-section">
      <h2>{title}</h2>
      <Notice text={notice} />
      {above}
      {listError ? (
        <p class="form-error" role="alert">
          {messageOf(listError)}
        </p>
      ) : null}
      {list.error ? (
        <ErrorNote error={list.error} retry={list.reload} />
      ) : !rows ? (
        <Loading what={`Loading ${noun}`} />
      ) : rows.length === 0 ? (
        <Empty>No {noun} yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.head} scope="col" class={c.narrow ? "hide-narrow" : undefined}>
                    {c.head}
                  </th>
                ))}
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((item) => {
                const removal = remove?.(item) ?? null;
                return (
                  <tr key={item.id} class={rowClass?.(item)}>
                    {columns.map((c) => (
                      <td key={c.head} class={c.narrow ? "hide-narrow" : undefined}>
                        {c.cell(item)}
                      </td>
                    ))}
                    <td>
                      <div class="actions">
                        {editable && (
                          <button type="button" aria-label={`Edit ${item.name}`} onClick={() => setEditing(item)}>
                            Edit
                          </button>
                        )}
                        {actions?.(item, act)}
                        {removal && (
                          <ConfirmButton
                            label={removal.label ?? "Delete"}
                            confirm={removal.confirm}
                            question={removal.question}
                            onConfirm={() => act(removal.done, removal.call)}
                          />
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {"setOffset" in list && list.data && list.data.total > PAGE && (
        <nav class="pager" aria-label={`Pages of ${noun}`}>
          <button type="button" disabled={list.offset === 0} onClick={() => list.setOffset(Math.max(0, list.offset - PAGE))}>
            Previous
          </button>
          <span>
            {list.offset + 1}–{Math.min(list.offset + PAGE, list.data.total)} of {list.data.total}
          </span>
          <button
            type="button"
            disabled={list.offset + PAGE >= list.data.total}
            onClick={() => list.setOffset(list.offset + PAGE)}
          >
            Next
          </button>
        </nav>
      )}
      {/* A new key after each save or cancel: the form starts afresh. */}
      <Fragment key={`${editing?.id ?? "new"}-${round}`}>
        {form({
          item: editing,
          onDone: (what) => {
            setEditing(null);
            setRound((n) => n + 1);
            setNotice(what);
            list.reload();
          },
          onCancel: () => setEditing(null),
        })}
      </Fragment>
    </div>
  );
}

/** "none", greyed, for an empty cell. */
export function None() {
  return <span class="muted">none</span>;
}
