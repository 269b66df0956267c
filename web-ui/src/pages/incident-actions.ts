// What a responder may do to an incident, and doing it: one place for the list
// and the detail page. The transitions are incident-management's own
// (domain/state.py): open -> acknowledged -> in progress -> resolved, any
// unresolved one straight to resolved.
import { incidents, must, type IncidentTypes } from "../api/client";

export type Incident = IncidentTypes["schemas"]["IncidentRead"];
export type Status = IncidentTypes["schemas"]["IncidentStatus"];

const NEXT: Record<string, Status[]> = {
  open: ["acknowledged", "in_progress", "resolved"],
  acknowledged: ["in_progress", "resolved"],
  in_progress: ["resolved"],
  resolved: [],
};

export const ACTION_LABEL: Record<string, string> = {
  acknowledged: "Acknowledge",
  in_progress: "Start work",
  resolved: "Resolve",
};

/** The statuses this incident may move to now. */
export function nextStatuses(status: string): Status[] {
  return NEXT[status] ?? [];
}

/** Move the incident, as of the version shown: someone else's change first is a 409. */
export function move(incident: Incident, status: Status): Promise<Incident> {
  return must(
    incidents.PATCH("/api/v1/incidents/{incident_id}", {
      params: { path: { incident_id: incident.id } },
      body: { status, version: incident.version },
    }),
  );
}
