// The frame of every signed-in page: the navigation, the user menu (name, role,
// profile, API tokens, log out) and the page itself.
import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { useSession } from "../session";

const NAV = [
  { href: "/incidents", text: "Incidents" },
  { href: "/oncall", text: "On call" },
  { href: "/maintenance", text: "Maintenance" },
  { href: "/metrics", text: "Metrics" },
];

export function Layout({ children }: { children: ComponentChildren }) {
  const { me, can, logOut } = useSession();
  const { path, route } = useLocation();
  const links = can("admin") ? [...NAV, { href: "/setup/users", text: "Setup" }] : NAV;
  return (
    <div class="frame">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/incidents">
          Incident platform
        </a>
        <nav aria-label="Main">
          {links.map((link) => (
            <a
              key={link.href}
              href={link.href}
              aria-current={path.startsWith(link.href.replace(/\/users$/, "")) ? "page" : undefined}
            >
              {link.text}
            </a>
          ))}
        </nav>
        {me && (
          <details class="user-menu">
            <summary>
              <span class="user-name">{me.name}</span> <span class={`role role-${me.role}`}>{me.role}</span>
            </summary>
            <div class="menu" role="menu">
              <span class="menu-email">{me.email}</span>
              <a role="menuitem" href="/profile">
                Profile
              </a>
              <a role="menuitem" href="/tokens">
                API tokens
              </a>
              <button
                type="button"
                role="menuitem"
                onClick={async () => {
                  await logOut();
                  route("/login");
                }}
              >
                Log out
              </button>
            </div>
          </details>
        )}
      </header>
      <main id="main">{children}</main>
    </div>
  );
}
