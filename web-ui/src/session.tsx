// Who is signed in: GET /api/v1/auth/me once at start, kept in a context; a 401
// anywhere (the session ended, was revoked, or the user was disabled) signs out.
import { createContext, type ComponentChildren } from "preact";
import { useCallback, useContext, useEffect, useState } from "preact/hooks";
import { must, oncall, SESSION_ENDED, type OncallTypes } from "./api/client";

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
};

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

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

  return <SessionContext.Provider value={{ me, loading, logIn, logOut, can }}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside SessionProvider");
  return session;
}
