// What a responder may do to an incident, and doing it: one place for the list
// and the detail page. Which moves are allowed is incident-management's rule
// (domain/state.py); each incident carries them as `next_statuses`.
import { ApiError, incidents, must, type IncidentTypes } from "../api/client";

export type Incident = IncidentTypes["schemas"]["IncidentRead"];
export type Status = IncidentTypes["schemas"]["IncidentStatus"];

export const ACTION_LABEL: Record<string, string> = {
  acknowledged: "Acknowledge",
  in_progress: "Start work",
  resolved: "Resolve",
};

type Change = Omit<IncidentTypes["schemas"]["IncidentUpdate"], "version">;

/** Change the incident as of the version shown: someone else's change first is a 409. */
export function change(incident: Pick<Incident, "id" | "version">, body: Change): Promise<Incident> {
  return must(
    incidents.PATCH("/api/v1/incidents/{incident_id}", {
      params: { path: { incident_id: incident.id } },
      body: { ...body, version: incident.version },
    }),
  );
}

/** What to tell the responder when a change failed: a conflict plainly, else the API's reason. */
export function failureNotice(failure: unknown, title: string): string {
  if (failure instanceof ApiError && failure.status === 409)
    return `Someone else changed “${title}” first. It now shows as it is; check before acting again.`;
  return failure instanceof ApiError ? failure.message : "The change failed.";
}
