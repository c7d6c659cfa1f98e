import { onScopeDispose, ref, watch } from 'vue'
import { getWecomStateApi, listWecomEmployeesApi, type WecomApi } from '@/api/wecom'
import { usePagedList } from './use-paged-list'

/** Element Plus tag types of WeCom's member statuses: 1 active, 2 disabled, 4 not activated, 5 resigned. */
export const EMPLOYEE_STATUS_TAG: Record<number, 'success' | 'danger' | 'warning' | 'info'> = {
  1: 'success', 2: 'danger', 4: 'warning', 5: 'info',
}

/**
 * The corp's employees as last synced: server-paged, searched by name or userid on the server once typing pauses
 * (from page 1). `link` is the team's WeCom link, so that an empty list can say why (not linked, still syncing).
 */
export function useWecomEmployees(options: { pageSize?: number; debounceMs?: number } = {}) {
  const q = ref('')
  const list = usePagedList<WecomApi.Employee>((page, size) => listWecomEmployeesApi(page, size, q.value.trim()), options.pageSize ?? 20)
  /** null until known (or when it could not be loaded: the list's own error says what is wrong) */
  const link = ref<WecomApi.State | null>(null)

  let timer: ReturnType<typeof setTimeout> | undefined
  watch(q, () => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void list.load(1), options.debounceMs ?? 300)
  })
  onScopeDispose(() => timer && clearTimeout(timer))

  async function loadLink() {
    try {
      link.value = await getWecomStateApi()
    } catch {
      // The list's error is shown; the empty state stays neutral.
    }
  }

  /** The first page and the link state, together. */
  async function init() {
    await Promise.all([list.load(1), loadLink()])
  }

  return { ...list, q, link, init, loadLink }
}
