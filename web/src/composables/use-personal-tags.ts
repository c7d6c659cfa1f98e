import { ref } from 'vue'
import { createPersonalTagApi, deletePersonalTagApi, listPersonalTagsApi, type CustomersApi } from '@/api/customers'
import { errorText } from '@/api/request'
import { PERSONAL_TAGS_MAX, tagNameProblem, trimTagName, type TagProblem } from './tag-rules'
import { tagProblemText } from './use-tag-library'

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
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref('')
  /** the new tag's name */
  const name = ref('')
  const createError = ref('')
  const creating = ref(false)
  /** the last failed delete, in the user's language */
  const actionError = ref('')
  const busyIds = ref(new Set<number>())
  let latest = 0

  async function load(): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const res = await listPersonalTagsApi()
      if (ticket !== latest) return
      items.value = res.items
      error.value = ''
      loaded.value = true
    } catch (e) {
      if (ticket === latest) error.value = errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** Creates the tag named in `name` (checked first as the server would); the tag, or null with `createError` set. */
  async function create(): Promise<CustomersApi.PersonalTag | null> {
    if (creating.value) return null
    const problem = personalTagProblem(name.value, items.value)
    if (problem) {
      createError.value = tagProblemText(problem)
      return null
    }
    creating.value = true
    createError.value = ''
    try {
      const tag = await createPersonalTagApi(trimTagName(name.value))
      latest++ // an older list answer must not drop the new tag
      loading.value = false
      items.value = [...items.value.filter((t) => t.id !== tag.id), tag].sort(byName)
      name.value = ''
      return tag
    } catch (e) {
      createError.value = errorText(e)
      return null
    } finally {
      creating.value = false
    }
  }

  /** Deletes one of the caller's tags (it is taken off every customer). */
  async function remove(tag: CustomersApi.PersonalTag): Promise<boolean> {
    busyIds.value.add(tag.id)
    actionError.value = ''
    try {
      await deletePersonalTagApi(tag.id)
      items.value = items.value.filter((t) => t.id !== tag.id)
      return true
    } catch (e) {
      actionError.value = errorText(e)
      void load()
      return false
    } finally {
      busyIds.value.delete(tag.id)
    }
  }

  const isBusy = (id: number) => busyIds.value.has(id)

  return { items, loading, loaded, error, name, createError, creating, actionError, load, create, remove, isBusy }
}
