// Who is signed in: GET /api/v1/auth/me once at start, kept in a context; a 401
// anywhere (the session ended, was revoked, or the user was disabled) signs out.
import { createContext, type ComponentChildren } from "preact";
import { useCallback, useContext, useEffect, useState } from "preact/hooks";
import { must, oncall, SESSION_ENDED, type OncallTypes } from "./api/client";
import { setDisplayZone } from "./format";

export type Me = OncallTypes["schemas"]["Me"];
export type Role = Me["role"];

const RANK: Record<Role, number> = { viewer: 0, responder: 1, admin: 2 };

type Session = {
  me: Me | null;
  loading: boolean;
  logIn: (email: string, password: string) => Promise<void>;
  logOut: () => Promise<void>;
  /** Whether the signed-in user has this role or a higher one. */
  can: (role: Role) => boolean;
  /** Read the signed-in user again (after they changed their profile). */
  refresh: () => Promise<void>;
};

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [me, setMeState] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);
  // Every time the UI shows is in the user's own time zone.
  const setMe = useCallback((next: Me | null) => {
    setDisplayZone(next?.timezone);
    setMeState(next);
  }, []);

  useEffect(() => {
    oncall
      .GET("/api/v1/auth/me")
      .then(({ data }) => setMe(data ?? null))
      .catch(() => setMe(null))
      .finally(() => setLoading(false));
    const ended = () => setMe(null);
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, []);

  const logIn = useCallback(async (email: string, password: string) => {
    const out = await must(oncall.POST("/api/v1/auth/login", { body: { email, password } }));
    setMe(out.user);
  }, []);

  const logOut = useCallback(async () => {
    await oncall.POST("/api/v1/auth/logout");
    setMe(null);
  }, []);

  const can = useCallback((role: Role) => me !== null && RANK[me.role] >= RANK[role], [me]);

  const refresh = useCallback(async () => {
    setMe(await must(oncall.GET("/api/v1/auth/me")));
  }, []);

  return (
    <SessionContext.Provider value={{ me, loading, logIn, logOut, can, refresh }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside SessionProvider");
  return session;
}
