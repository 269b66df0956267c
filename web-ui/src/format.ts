// How times, durations and severities read on every page.

/** "3 min", "2 h 5 min", "4 d": the length of a span, for ages, MTTA and MTTR. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/** How long ago an ISO time was. */
export function age(iso: string, now: number = Date.now()): string {
  return duration((now - Date.parse(iso)) / 1000);
}

/** The signed-in user's time zone (their profile's `timezone`): every time shown is in it. */
let displayZone: string | undefined;

/** Show times in this IANA zone from now on (the session sets it from the profile). */
export function setDisplayZone(zone: string | undefined): void {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
    displayZone = zone;
  } catch {
    displayZone = undefined; // a zone the browser does not know: its own, still labelled
  }
}

/** Intl options that put a time in the user's zone. */
export function zoned(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormatOptions {
  return { ...options, timeZone: displayZone };
}

/** A date and time in the user's time zone, with the zone's label ("7 Dec 2026, 09:00 CET"). */
export function when(iso: string | null | undefined): string {
  if (!iso) return "–";
  return new Date(iso).toLocaleString(
    undefined,
    zoned({ day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" }),
  );
}

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export const STATUSES = ["open", "acknowledged", "in_progress", "resolved"] as const;

export function label(status: string): string {
  return status.replace(/_/g, " ");
}
