import { computed, reactive, ref, watch } from 'vue'
import { listGroupsApi, markGroupTagsApi, type GroupsApi } from '@/api/groups'
import { getWecomStateApi } from '@/api/wecom'
import { useAction } from './use-async-action'
import { usePagedList } from './use-paged-list'
import { useSearchText } from './use-search-text'

/** A group's status: 0 normal, 1 the owner resigned (awaiting inheritance), 2 being inherited, 3 inherited. */
export const GROUP_STATUSES = [0, 1, 2, 3] as const
/** el-tag's type for a group's status. */
export const groupStatusType = (status: number): 'success' | 'danger' | 'warning' | 'info' =>
  status === 0 ? 'success' : status === 1 ? 'danger' : status === 2 ? 'warning' : 'info'

/** The most groups one tagging call may change. */
export const GROUP_SELECTION_MAX = 1000

export interface GroupFilters {
  /** the owner employee's userid ('' any) */
  owner: string
  /** a group tag (null any) */
  tagId: number | null
}

/** The API's query for the filters and the search text, paging left out; unset ones left out. */
export function groupQuery(f: GroupFilters, q: string): GroupsApi.ListQuery {
  const out: GroupsApi.ListQuery = {}
  if (q.trim()) out.q = q.trim()
  if (f.owner) out.owner = f.owner
  if (f.tagId !== null) out.tag_id = f.tagId
  return out
}

export type GroupEmptyReason = 'notLinked' | 'noGroups' | 'noMatch'

/**
 * The customer group chats (客户群) page: search by name (typing is searched once it pauses, Enter at once), filters
 * by owner and group tag, server paging; whether WeCom is linked (to say why there are no groups).
 */
export function useGroups(options: { pageSize?: number; debounceMs?: number } = {}) {
  const search = useSearchText('', options.debounceMs ?? 300)
  const { q, searched } = search
  const filters = reactive<GroupFilters>({ owner: '', tagId: null })
  const query = computed(() => groupQuery(filters, searched.value))
  const list = usePagedList<GroupsApi.Group>((page, size) => listGroupsApi({ ...query.value, page, page_size: size }), options.pageSize ?? 20)
  /** loaded at least once (the empty states wait for it) */
  const loaded = ref(false)
  /** whether the team linked WeCom (null until known) */
  const linked = ref<boolean | null>(null)

  async function load(page?: number): Promise<void> {
    await list.load(page)
    if (!list.error.value) loaded.value = true
  }
  // A new search or filter lists from page 1.
  watch(() => JSON.stringify(query.value), () => void load(1))

  async function loadLink(): Promise<void> {
    try {
      linked.value = (await getWecomStateApi()).linked
    } catch {
      // The list's own error says what is wrong; the empty state stays neutral.
    }
  }

  const init = () => Promise.all([load(1), loadLink()])

  /** Enter in the search box: searches now (again, if the text is the one already searched). */
  function searchNow() {
    if (!search.now()) void load(1)
  }

  function reset() {
    search.set('')
    Object.assign(filters, { owner: '', tagId: null })
  }

  const filtered = computed(() => Object.keys(query.value).length > 0)
  const emptyReason = computed<GroupEmptyReason | null>(() => {
    if (!loaded.value || list.items.value.length) return null
    if (filtered.value) return 'noMatch'
    return linked.value === false ? 'notLinked' : 'noGroups'
  })

  return { ...list, q, searched, filters, loaded, linked, filtered, emptyReason, load, init, searchNow, reset }
}

/**
 * Adding or removing group tags on the picked groups (`selected`: their chat_ids, at most GROUP_SELECTION_MAX):
 * `form` says which way and which tags; `submit` gives how many groups changed, or null with `error` set.
 */
export function useGroupTagging(selected: () => readonly string[]) {
  const form = reactive({ open: false, action: 'add' as 'add' | 'remove', tagIds: [] as number[] })
  const { pending: saving, error, run } = useAction()

  function open(action: 'add' | 'remove') {
    Object.assign(form, { open: true, action, tagIds: [] })
    error.value = ''
  }

  async function submit(): Promise<number | null> {
    const chatIds = [...selected()]
    if (!chatIds.length || !form.tagIds.length || chatIds.length > GROUP_SELECTION_MAX) return null
    const tagIds = [...form.tagIds]
    return run(async () => {
      const { updated } = await markGroupTagsApi({
        chat_ids: chatIds, add: form.action === 'add' ? tagIds : [], remove: form.action === 'remove' ? tagIds : [],
      })
      form.open = false
      return updated
    })
  }

  return { form, saving, error, open, submit }
}
