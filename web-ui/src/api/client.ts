// One typed client per service, all same-origin through the front door (nginx
// routes /api/v1/... to the service that owns it). The session cookie goes with
// every request; the browser adds the Origin header the services check on changes.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths as IngestionPaths } from "./types/alert-ingestion";
import type { paths as IncidentPaths } from "./types/incident-management";
import type { paths as NotificationPaths } from "./types/notification-service";
import type { paths as OncallPaths } from "./types/oncall-service";

export type { components as IngestionTypes } from "./types/alert-ingestion";
export type { components as IncidentTypes } from "./types/incident-management";
export type { components as NotificationTypes } from "./types/notification-service";
export type { components as OncallTypes } from "./types/oncall-service";

/** Fired when the API answers 401 to a signed-in page: the session ended elsewhere. */
export const SESSION_ENDED = "session-ended";

const sessionWatch: Middleware = {
  onResponse({ response, request }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith("/api/v1/auth/login")) {
      window.dispatchEvent(new Event(SESSION_ENDED));
    }
    return response;
  },
};

function client<Paths extends {}>() {
  const made = createClient<Paths>({ baseUrl: window.location.origin, credentials: "same-origin" });
  made.use(sessionWatch);
  return made;
}

export const ingestion = client<IngestionPaths>();
export const incidents = client<IncidentPaths>();
export const oncall = client<OncallPaths>();
export const notifications = client<NotificationPaths>();

/** A refused or failed call, with the service's own words for it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, string> = {},
    readonly body: unknown = undefined,
  ) {
    super(message);
  }
}

type FieldError = { loc?: (string | number)[]; msg?: string };

/** The message of an error body: the platform answers {"detail": "..."} or, for
 * invalid input, {"detail": [{loc, msg}, ...]} (one per field). */
export function describe(status: number, body: unknown): ApiError {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof detail === "string") return new ApiError(status, detail, {}, body);
  if (Array.isArray(detail)) {
    const fields: Record<string, string> = {};
    for (const item of detail as FieldError[]) {
      const name = (item.loc ?? []).filter((part) => part !== "body").join(".") || "request";
      fields[name] = item.msg ?? "invalid";
    }
    const text = Object.entries(fields)
      .map(([name, msg]) => `${name}: ${msg}`)
      .join("; ");
    return new ApiError(status, text, fields, body);
  }
  if (status === 0) return new ApiError(0, "The platform cannot be reached; check your connection.");
  return new ApiError(status, `The request failed (${status}).`, {}, body);
}

/** The data of an openapi-fetch answer, or an ApiError with the service's message. */
export async function must<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await call;
  } catch {
    throw describe(0, undefined);
  }
  if (answer.error !== undefined || !answer.response.ok) throw describe(answer.response.status, answer.error);
  return answer.data as T;
}
