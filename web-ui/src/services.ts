// The services that exist (oncall-service's), for pickers, and the maintenance
// windows silencing some of them now (alert-ingestion's).
import { useEffect, useState } from "preact/hooks";
import { ingestion, must, oncall, type IngestionTypes } from "./api/client";
import { everything } from "./api/pages";

export type Window = IngestionTypes["schemas"]["MaintenanceWindowRead"];

/** Every service's name, sorted, loaded once per page. */
export function useServiceNames(): string[] {
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    everything((page) => must(oncall.GET("/api/v1/services", { params: { query: page } })))
      .then((page) => setNames(page.items.map((s) => s.name).sort()))
      .catch(() => setNames([]));
  }, []);
  return names;
}

/** The windows active now (a failure to load them shows none: they only inform). */
export async function activeWindows(service?: string): Promise<Window[]> {
  const page = await must(
    ingestion.GET("/api/v1/maintenance-windows", { params: { query: { active: true, service, limit: 200 } } }),
  );
  return page.items;
}
