import { computed, onScopeDispose, reactive, ref, watch } from 'vue'
import { defineStore } from 'pinia'
import type { LocationQuery } from 'vue-router'
import { getChurnUnreadApi, listChurnApi, markChurnSeenApi, type ChurnApi } from '@/api/churn'
import { getScrmScopeApi, type CustomersApi } from '@/api/customers'
import { ApiError, errorText } from '@/api/request'
import { useAppsStore } from '@/stores/use-apps-store'
import { first, int, list, localMidnight, pickedDays } from './route-query'
import { usePagedList } from './use-paged-list'

/** who ended a lost relationship, in the filter's order */
export const CHURN_DELETED_BY: readonly ChurnApi.DeletedBy[] = ['customer', 'employee', 'sync']
/** how often the bell asks for unseen churn (and whenever the window gets the focus) */
export const CHURN_POLL_MS = 60_000
/** the bell's badge shows "99+" above this */
export const CHURN_BADGE_MAX = 99
/** where the churn list lives */
export const CHURN_PATH = '/scrm/churn'

const DAY_MS = 24 * 3600 * 1000

/** The tag of who ended a relationship: the customer (danger), the employee (warning), the reconcile (info). */
export const DELETED_BY_TAG: Record<ChurnApi.DeletedBy, 'danger' | 'warning' | 'info'> = {
  customer: 'danger', employee: 'warning', sync: 'info',
}

/** Whole days the relationship lasted, from its add time to its loss (0 when shorter than a day, or unknown). */
export function relationshipDays(item: Pick<ChurnApi.Item, 'add_time' | 'lost_at'>): number {
  if (!(item.add_time > 0) || !(item.lost_at > item.add_time)) return 0
  return Math.floor((item.lost_at - item.add_time) / DAY_MS)
}

/** The badge's text: the count, "99+" above 99, '' for none (the badge is hidden). */
export function badgeText(count: number): string {
  if (count <= 0) return ''
  return count > CHURN_BADGE_MAX ? `${CHURN_BADGE_MAX}+` : String(count)
}

// ----- the list's filters -----------------------------------------------------------------------------------------

/** The churn list's filters. `days` are local calendar days of the loss, the first and the last included. */
export interface ChurnFilters {
  userids: string[]
  deletedBy: ChurnApi.DeletedBy | ''
  days: [Date, Date] | null
}

export function defaultChurnFilters(): ChurnFilters {
  return { userids: [], deletedBy: '', days: null }
}

/** The API's query for the filters, paging left out; unset filters are left out too (a short, stable URL). */
export function churnQuery(f: ChurnFilters): ChurnApi.ListQuery {
  const out: ChurnApi.ListQuery = {}
  if (f.userids.length) out.userid = f.userids.join(',')
  if (f.deletedBy) out.deleted_by = f.deletedBy
  if (f.days) {
    out.lost_from = localMidnight(f.days[0])
    out.lost_to = localMidnight(f.days[1], 1)
  }
  return out
}

export function hasChurnFilters(f: ChurnFilters): boolean {
  return f.userids.length > 0 || f.deletedBy !== '' || !!f.days
}

/** The page's address query: the API query (all strings) and the page when past the first. */
export function churnRouteQuery(f: ChurnFilters, page: number): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(churnQuery(f))) out[k] = String(v)
  if (page > 1) out.page = String(page)
  return out
}

/** The filters and page of an address query made by churnRouteQuery; anything malformed is left out. */
export function churnFromRouteQuery(query: LocationQuery): { filters: ChurnFilters; page: number } {
  const f = defaultChurnFilters()
  f.userids = list(query.userid)
  const by = first(query.deleted_by)
  if ((CHURN_DELETED_BY as string[]).includes(by)) f.deletedBy = by as ChurnApi.DeletedBy
  f.days = pickedDays(int(query.lost_from), int(query.lost_to))
  const page = int(query.page)
  return { filters: f, page: page !== null && page > 0 ? page : 1 }
}

/** Whether two address queries made by churnRouteQuery say the same (whatever the order of their keys). */
export function sameChurnQuery(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}

/** Why the churn list is empty (null while nothing explains it, e.g. before the first answer). */
export type ChurnEmptyReason = 'unbound' | 'noMatch' | 'none'

export function churnEmptyReason(scope: CustomersApi.MyScope | null, filtered: boolean, loaded: boolean): ChurnEmptyReason | null {
  if (scope && !scope.all && !scope.bound) return 'unbound'
  if (!loaded) return null
  return filtered ? 'noMatch' : 'none'
}

/**
 * The churn list (流失提醒): its filters (any change lists from page 1), server paging, the counts of the last 7 and 30
 * days, and the caller's scope (GET /scrm/scope: an unbound member sees nothing and is told why). Only the answer to
 * the latest request is kept. `initial` is the page's address query (see churnRouteQuery).
 */
export function useChurnList(options: { pageSize?: number; initial?: LocationQuery } = {}) {
  const start = churnFromRouteQuery(options.initial ?? {})
  const filters = reactive<ChurnFilters>(start.filters)
  const scope = ref<CustomersApi.MyScope | null>(null)
  const last7 = ref<number | null>(null)
  const last30 = ref<number | null>(null)
  /** a page was shown at least once */
  const loaded = ref(false)

  let seq = 0
  const list = usePagedList<ChurnApi.Item>(async (page, size) => {
    const ticket = ++seq
    const res = await listChurnApi({ ...churnQuery(filters), page, page_size: size })
    if (ticket === seq) {
      last7.value = res.last_7_days
      last30.value = res.last_30_days
      loaded.value = true
    }
    return res
  }, options.pageSize ?? 20)
  list.page.value = start.page

  const key = computed(() => JSON.stringify(churnQuery(filters)))
  let listedKey = key.value
  watch(key, (k) => {
    if (k === listedKey) return
    listedKey = k
    void list.load(1)
  })

  async function loadScope() {
    try {
      scope.value = await getScrmScopeApi()
    } catch {
      // Without it the list shows what the server answers (and its own error when the server is away).
    }
  }

  /** The page from the address (or 1) and the caller's scope, together. */
  async function init() {
    await Promise.all([list.load(start.page), loadScope()])
  }

  function reset() {
    Object.assign(filters, defaultChurnFilters())
  }

  /** Shows the list an address query asks for (e.g. the menu's plain /scrm/churn while a filter is shown). */
  function apply(query: LocationQuery) {
    const next = churnFromRouteQuery(query)
    Object.assign(filters, next.filters)
    listedKey = key.value
    void list.load(next.page)
  }

  const filtered = computed(() => hasChurnFilters(filters))
  const unbound = computed(() => !!scope.value && !scope.value.all && !scope.value.bound)
  return {
    ...list,
    filters,
    scope,
    last7,
    last30,
    loaded,
    filtered,
    unbound,
    emptyReason: computed(() => churnEmptyReason(scope.value, filtered.value, loaded.value)),
    routeQuery: computed(() => churnRouteQuery(filters, list.page.value)),
    init,
    reset,
    apply,
  }
}

// ----- unseen churn (the bell) ------------------------------------------------------------------------------------

/**
 * The churn the account has not seen yet, shared by the top bar's bell and the churn page (opening it marks
 * everything seen, which clears the bell). A mark made while an ask is under way wins: the older answer is ignored.
 * A 403 (the team has no SCRM app, `app_not_activated`) makes it `unavailable`: the bell hides, pages go on.
 */
export const useChurnUnreadStore = defineStore('churn-unread', () => {
  const count = ref(0)
  const seenAt = ref<number | null>(null)
  const items = ref<ChurnApi.Item[]>([])
  /** an answer came at least once */
  const loaded = ref(false)
  /** the SCRM API refused (403): no bell */
  const unavailable = ref(false)
  /** the last failed ask, in the user's language ('' after one succeeded); the badge keeps its last count */
  const error = ref('')
  const marking = ref(false)
  /** the last failed "mark all read", in the user's language */
  const markError = ref('')
  /** bumped when the churn page is asked for while it is shown (the bell's "view all"): it lists again */
  const reopened = ref(0)

  let writes = 0
  let asking: Promise<void> | null = null

  function apply(res: ChurnApi.Unread) {
    count.value = Math.max(0, res.count)
    seenAt.value = res.seen_at
    items.value = res.items
    loaded.value = true
    error.value = ''
    unavailable.value = false
  }

  /** Asks the server for the unseen churn (one ask at a time: a second call shares the one under way). */
  function refresh(): Promise<void> {
    if (asking) return asking
    const startedAt = writes
    asking = (async () => {
      try {
        const res = await getChurnUnreadApi()
        if (writes === startedAt) apply(res)
      } catch (e) {
        if (writes !== startedAt) return
        if (e instanceof ApiError && e.status === 403) unavailable.value = true
        else error.value = errorText(e)
      } finally {
        asking = null
      }
    })()
    return asking
  }

  /** Marks everything lost until now seen (POST /churn/seen); whether it was, otherwise `markError` says why. */
  async function markSeen(): Promise<boolean> {
    writes++
    const startedAt = writes
    marking.value = true
    markError.value = ''
    try {
      const res = await markChurnSeenApi()
      if (writes === startedAt) {
        count.value = 0
        items.value = []
        seenAt.value = res.seen_at
        loaded.value = true
      }
      return true
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) unavailable.value = true
      else markError.value = errorText(e)
      return false
    } finally {
      if (writes === startedAt) marking.value = false
    }
  }

  /** The SCRM app is (again) activated: ask again whether the bell can be shown. */
  function enable() {
    unavailable.value = false
  }

  return { count, seenAt, items, loaded, unavailable, error, marking, markError, reopened, refresh, markSeen, enable }
})

/**
 * The top bar's bell: shown while the team has the SCRM app (and the server did not refuse it), asking for the
 * unseen churn at once, every `pollMs` and whenever the window gets the focus (not while the tab is hidden); it
 * stops for good when the component that made it unmounts.
 */
export function useChurnBell(options: { pollMs?: number } = {}) {
  const pollMs = options.pollMs ?? CHURN_POLL_MS
  const store = useChurnUnreadStore()
  const apps = useAppsStore()
  const visible = computed(() => apps.isActivated('scrm') && !store.unavailable)

  let timer: ReturnType<typeof setTimeout> | undefined
  let running = false
  let disposed = false

  function clearTimer() {
    if (timer) clearTimeout(timer)
    timer = undefined
  }
  function schedule() {
    clearTimer()
    if (!running || disposed || pollMs <= 0) return
    timer = setTimeout(() => {
      timer = undefined
      const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden'
      void (hidden ? Promise.resolve() : store.refresh()).finally(schedule)
    }, pollMs)
  }
  function onFocus() {
    if (running) void store.refresh()
  }
  function start() {
    if (running || disposed) return
    running = true
    window.addEventListener('focus', onFocus)
    void store.refresh().finally(schedule)
  }
  function stop() {
    running = false
    clearTimer()
    window.removeEventListener('focus', onFocus)
  }

  watch(
    () => apps.isActivated('scrm'),
    (on) => {
      if (on) {
        store.enable()
        start()
      } else stop()
    },
    { immediate: true },
  )
  // Refused by the server (403): no more asking until the app is activated again.
  watch(() => store.unavailable, (no) => no && stop())
  onScopeDispose(() => {
    disposed = true
    stop()
  })

  return { store, visible, badge: computed(() => badgeText(store.count)) }
}
