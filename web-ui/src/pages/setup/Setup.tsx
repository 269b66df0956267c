// Setup (admins): who is paged, how and when, for which service; one section per route.
import { useRoute } from "preact-iso";
import { useSession } from "../../session";
import { Heartbeats } from "./Heartbeats";
import { Integrations } from "./Integrations";
import { Policies } from "./Policies";
import { Schedules } from "./Schedules";
import { Services } from "./Services";
import { Teams } from "./Teams";
import { Users } from "./Users";
import "./setup.css";

const SECTIONS = [
  { key: "users", text: "Users", component: Users },
  { key: "teams", text: "Teams", component: Teams },
  { key: "schedules", text: "Schedules", component: Schedules },
  { key: "policies", text: "Escalation policies", component: Policies },
  { key: "services", text: "Services", component: Services },
  { key: "integrations", text: "Integration keys", component: Integrations },
  { key: "heartbeats", text: "Heartbeats", component: Heartbeats },
] as const;

export function Setup() {
  const { can } = useSession();
  const { params } = useRoute();
  if (!can("admin")) {
    return (
      <section class="setup">
        <h1>Setup</h1>
        <p class="notice warn">Setup is for admins only. Ask an admin to change users, schedules or services.</p>
      </section>
    );
  }
  const current = SECTIONS.find((s) => s.key === params.section);
  const Section = current?.component;
  return (
    <section class="setup">
      <h1>Setup</h1>
      <nav class="setup-nav" aria-label="Setup sections">
        {SECTIONS.map((s) => (
          <a key={s.key} href={`/setup/${s.key}`} aria-current={s.key === params.section ? "page" : undefined}>
            {s.text}
          </a>
        ))}
      </nav>
      {Section ? (
        <Section key={current.key} />
      ) : (
        <p class="notice warn">There is no setup section “{params.section}”. Pick one above.</p>
      )}
    </section>
  );
}
