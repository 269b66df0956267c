import { useEffect } from "preact/hooks";

/** How often a page polls while the live stream is unavailable (and how often it used to, always). */
export const REFRESH_MS = 5000;
// During a burst of changes a page reloads at most this often: a storm costs no more than polling did.
const MIN_GAP_MS = 5000;
// Every open page hears a change at the same moment: each waits a random part of this
// before reloading, so they do not all ask at once.
const SPREAD_MS = 1000;
// A stream the server refused (401, 503 at its cap) or that failed is tried again this much later.
const REOPEN_MS = 30_000;

/**
 * Keeps a page's data current: `load()` now, then again whenever the server says
 * incidents changed (server-sent events, GET /api/v1/incidents/changes, through the
 * same origin so the session cookie goes with it). While the stream is unavailable
 * (not supported, refused, reconnecting) it polls every REFRESH_MS instead. Nothing
 * loads while the tab is hidden; a change seen meanwhile reloads on coming back.
 */
export function useLiveReload(load: () => unknown): void {
  useEffect(() => {
    let source: EventSource | null = null;
    let poll: number | undefined;
    let reopen: number | undefined;
    let pending: number | undefined;
    let last = 0;
    let missed = false;
    const visible = () => document.visibilityState === "visible";

    const reload = () => {
      if (!visible()) {
        missed = true;
        return;
      }
      if (pending !== undefined) return; // one reload already waits: it reads this change too
      pending = window.setTimeout(
        () => {
          pending = undefined;
          last = Date.now();
          load();
        },
        Math.max(0, last + MIN_GAP_MS - Date.now()) + Math.random() * SPREAD_MS,
      );
    };
    const startPolling = () => {
      if (poll === undefined) poll = window.setInterval(() => visible() && load(), REFRESH_MS);
    };
    const stopPolling = () => {
      window.clearInterval(poll);
      poll = undefined;
    };
    const open = () => {
      if (typeof EventSource === "undefined") return startPolling();
      let reconnected = false;
      source = new EventSource("/api/v1/incidents/changes");
      source.onopen = () => {
        stopPolling();
        // A reconnection (the stream ends every few minutes): a change may have come in between.
        if (reconnected) reload();
        reconnected = true;
      };
      source.addEventListener("changed", reload);
      source.onerror = () => {
        startPolling();
        // CONNECTING: the browser tries again by itself. CLOSED: it gave up (a refusal); so do we, for a while.
        if (source?.readyState === EventSource.CLOSED) {
          source = null;
          reopen = window.setTimeout(open, REOPEN_MS);
        }
      };
    };
    const onVisibility = () => {
      if (visible() && missed) {
        missed = false;
        reload();
      }
    };

    last = Date.now();
    load();
    open();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      source?.close();
      stopPolling();
      window.clearTimeout(reopen);
      window.clearTimeout(pending);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [load]);
}
