// The people the UI names: assignees are user ids, shown by name.
import { useEffect, useState } from "preact/hooks";
import { must, oncall, type OncallTypes } from "./api/client";

export type User = OncallTypes["schemas"]["UserRead"];

/** Everyone (the first 200, oncall-service's page limit), loaded once per page. */
export function useUsers(): User[] {
  const [users, setUsers] = useState<User[]>([]);
  useEffect(() => {
    must(oncall.GET("/api/v1/users", { params: { query: { limit: 200 } } }))
      .then((page) => setUsers(page.items))
      .catch(() => setUsers([]));
  }, []);
  return users;
}

export function nameOf(users: User[], id: string | null | undefined): string {
  if (!id) return "unassigned";
  return users.find((u) => u.id === id)?.name ?? id;
}
