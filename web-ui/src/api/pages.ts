// Lists the API serves a page at a time.

/** The largest page the services serve (their `limit` maximum). */
export const PAGE = 200;

type Page<T> = { items: T[]; total: number };

/**
 * Every item of a paged list, for pickers and lookups that must offer everyone,
 * not the first page: the first page says how many there are, the rest are
 * asked for together.
 */
export async function everything<T>(load: (page: { limit: number; offset: number }) => Promise<Page<T>>): Promise<Page<T>> {
  const first = await load({ limit: PAGE, offset: 0 });
  const offsets: number[] = [];
  for (let offset = PAGE; offset < first.total; offset += PAGE) offsets.push(offset);
  const rest = await Promise.all(offsets.map((offset) => load({ limit: PAGE, offset })));
  return { items: first.items.concat(...rest.map((page) => page.items)), total: first.total };
}
