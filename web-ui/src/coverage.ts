// Coverage gaps in words, in the viewer's time zone with its label: "nobody on call
// Tue 02:00–09:00 CET". The gaps themselves come from oncall-service (one rule for
// the on-call page, the schedule form's preview and oncall_schedules_with_gap).

type Gap = { start: string; end: string };

const DAY = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const ZONE = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });

/** The viewer's zone as it reads at `moment` (CET or CEST, EST or EDT). */
export function zoneLabel(moment: Date): string {
  return ZONE.formatToParts(moment).find((p) => p.type === "timeZoneName")?.value ?? "";
}

function sameDay(a: Date, b: Date): boolean {
  return a.toDateString() === b.toDateString();
}

/** "Tue 3 Mar 02:00–09:00 CET", or across days "Tue 3 Mar 19:00 – Thu 5 Mar 09:00 CET". */
export function span(gap: Gap): string {
  const start = new Date(gap.start);
  const end = new Date(gap.end);
  const zone = zoneLabel(end);
  if (sameDay(start, end)) return `${DAY.format(start)} ${TIME.format(start)}–${TIME.format(end)} ${zone}`;
  return `${DAY.format(start)} ${TIME.format(start)} – ${DAY.format(end)} ${TIME.format(end)} ${zone}`;
}

/** The sentence for one gap. */
export function gapText(gap: Gap): string {
  return `Nobody on call ${span(gap)}`;
}
