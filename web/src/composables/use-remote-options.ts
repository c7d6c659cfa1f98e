import { ref, type Ref } from 'vue'
import { useLatestLoad } from './use-async-action'

export interface RemoteOptionsSource<T, O extends { name: string }> {
  /** one page of the items matching the (trimmed) search */
  fetch: (q: string) => Promise<{ items: T[] }>
  /** the choice an item makes */
  toOption: (item: T) => O
  /** the id a choice picks */
  idOf: (option: O) => string
  /** the choice shown for a picked id the latest search did not return, labelled `name` */
  missing: (id: string, name: string) => O
}

/**
 * The choices of a picker searched on the server as the user types; only the answer to the latest search is kept (a
 * failed one leaves no choices and says why in `error`). The names of every choice seen (or remembered) are kept too,
 * so that a picked one keeps its label when a later search no longer lists it (one known only by its id shows its id).
 */
export function useRemoteOptions<T, O extends { name: string }>(source: RemoteOptionsSource<T, O>) {
  const options = ref([]) as Ref<O[]>
  const names = ref<Record<string, string>>({})
  let query = ''

  const { loading, error, load } = useLatestLoad(
    () => source.fetch(query),
    (page) => {
      options.value = page.items.map(source.toOption)
      for (const o of options.value) names.value[source.idOf(o)] = o.name
    },
    () => (options.value = []),
  )

  function search(q = ''): Promise<void> {
    query = q.trim()
    return load()
  }

  /** Records a name learnt elsewhere (e.g. of a binding being changed). */
  function remember(id: string, name: string) {
    if (id && name) names.value[id] = name
  }

  /** Whether the name of `id` is known (seen in a search, or remembered). */
  function isKnown(id: string): boolean {
    return id in names.value
  }

  /** The choices followed by the picked ones the latest search did not return (labelled by name when known). */
  function withSelected(selected: readonly string[]): O[] {
    const listed = new Set(options.value.map(source.idOf))
    const missing = selected.filter((id) => id && !listed.has(id)).map((id) => source.missing(id, names.value[id] ?? id))
    return [...options.value, ...missing]
  }

  return { options, loading, error, search, remember, isKnown, withSelected }
}

export type RemoteOptions<O extends { name: string }> = ReturnType<typeof useRemoteOptions<unknown, O>>
