import { ref } from 'vue'
import { createPersonalTagApi, deletePersonalTagApi, listPersonalTagsApi, type CustomersApi } from '@/api/customers'
import { PERSONAL_TAGS_MAX, tagNameProblem, trimTagName, type TagProblem } from './tag-rules'
import { tagProblemText } from './use-tag-library'
import { useAction, useItemActions, useLatestLoad } from './use-async-action'

/** Personal tags in the list's order (the server's): by name. */
function byName(a: CustomersApi.PersonalTag, b: CustomersApi.PersonalTag): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id
}

/** What the server would refuse in a new personal tag's name, given the caller's tags, or null. */
export function personalTagProblem(raw: string, own: readonly CustomersApi.PersonalTag[]): TagProblem | null {
  const problem = tagNameProblem(raw)
  if (problem) return problem
  const name = trimTagName(raw)
  if (own.some((t) => t.name === name)) return { reason: 'personal_tag_exists', name }
  if (own.length >= PERSONAL_TAGS_MAX) return { reason: 'personal_tag_limit' }
  return null
}

/**
 * The caller's own personal tags (个人标签: Koi's, seen by their owner and the admins, never sent to WeCom) with how
 * many customers carry each; creating one (typed in `name`) and deleting one.
 */
export function usePersonalTags() {
  const items = ref<CustomersApi.PersonalTag[]>([])
  const { loading, loaded, error, load, supersede } = useLatestLoad(
    () => listPersonalTagsApi(),
    (res) => {
      items.value = res.items
    },
  )
  /** the new tag's name */
  const name = ref('')
  const { pending: creating, error: createError, run: runCreate } = useAction()
  /** `actionError`: the last failed delete, in the user's language */
  const { actionError, run: runOn, isBusy } = useItemActions<number>()

  /** Creates the tag named in `name` (checked first as the server would); the tag, or null with `createError` set. */
  async function create(): Promise<CustomersApi.PersonalTag | null> {
    if (creating.value) return null
    const problem = personalTagProblem(name.value, items.value)
    if (problem) {
      createError.value = tagProblemText(problem)
      return null
    }
    return runCreate(async () => {
      const tag = await createPersonalTagApi(trimTagName(name.value))
      supersede() // an older list answer must not drop the new tag
      items.value = [...items.value.filter((t) => t.id !== tag.id), tag].sort(byName)
      name.value = ''
      return tag
    })
  }

  /** Deletes one of the caller's tags (it is taken off every customer). */
  function remove(tag: CustomersApi.PersonalTag): Promise<boolean> {
    return runOn(
      tag.id,
      async () => {
        await deletePersonalTagApi(tag.id)
        items.value = items.value.filter((t) => t.id !== tag.id)
      },
      () => void load(),
    )
  }

  return { items, loading, loaded, error, name, createError, creating, actionError, load, create, remove, isBusy }
}
