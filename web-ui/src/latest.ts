import { useCallback, useRef } from "preact/hooks";

/**
 * For a load started from several places (an effect, a timer, after an action):
 * `begin()` at its start returns `fresh()`, true while no later load has begun.
 * Only the latest may land: an answer for filters changed since, or one overtaken
 * by a refresh after an action, would put back what the user has moved on from.
 */
export function useLatest(): () => () => boolean {
  const latest = useRef(0);
  return useCallback(() => {
    const mine = ++latest.current;
    return () => mine === latest.current;
  }, []);
}
