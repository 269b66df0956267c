// The people the UI names: assignees are user ids, shown by name.
import { useEffect, useState } from "preact/hooks";
import { must, oncall, type OncallTypes } from "./api/client";
import { everything } from "./api/pages";

export type User = OncallTypes["schemas"]["UserRead"];

/** Everyone, loaded once per page. */
export function useUsers(): User[] {
  const [users, setUsers] = useState<User[]>([]);
  useEffect(() => {
    everything((page) => must(oncall.GET("/api/v1/users", { params: { query: page } })))
      .then((page) => setUsers(page.items))
      .catch(() => setUsers([]));
  }, []);
  return users;
}

export function nameOf(users: User[], id: string | null | undefined): string {
  if (!id) return "unassigned";
  return users.find((u) => u.id === id)?.name ?? id;
}

/** Whether someone may be paged and assigned: a viewer or a disabled user could not
 * acknowledge (the services refuse both; oncall-service's `require_may_be_on_call`). */
export function mayBeOnCall(user: Pick<User, "role" | "disabled">): boolean {
  return user.role !== "viewer" && !user.disabled;
}
