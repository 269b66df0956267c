// The three states every page has besides its content.
import type { ComponentChildren } from "preact";
import { ApiError } from "../api/client";

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p class="state loading" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

export function ErrorNote({ error, retry }: { error: unknown; retry?: () => void }) {
  const text = error instanceof ApiError ? error.message : "Something went wrong.";
  return (
    <div class="state error" role="alert">
      <span>{text}</span>
      {retry && (
        <button type="button" class="link" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Under a form: why what was just tried did not happen (nothing when `text` is empty). */
export function Problem({ text }: { text: string | null }) {
  if (!text) return null;
  return (
    <p class="form-error" role="alert">
      {text}
    </p>
  );
}

/** Above a form: what was just done, announced politely (hidden when `text` is empty). */
export function Done({ text }: { text: string | null }) {
  return (
    <p class="notice ok" role="status" aria-live="polite" hidden={!text}>
      {text}
    </p>
  );
}
