import { computed, reactive, ref, watch } from 'vue'
import type { LocationQuery } from 'vue-router'
import {
  listCustomersApi, listPersonalTagsApi, listScrmDepartmentsApi, listScrmTagsApi, listStagesApi, type CustomersApi,
} from '@/api/customers'
import { listCustomFieldsApi, type FieldsApi } from '@/api/fields'
import { first, int, list, localMidnight, pickedDays } from './route-query'
import { isChoice } from './use-custom-fields'
import { usePagedList } from './use-paged-list'
import { useSearchText } from './use-search-text'

/** WeCom's add_way values, in the order the filter lists them (7 is not used by WeCom). */
export const ADD_WAYS = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 201, 202] as const
export const GENDERS = [1, 2, 0] as const
export const CUSTOMER_STATUSES: CustomersApi.StatusFilter[] = ['active', 'lost', 'deleted_by_customer', 'deleted_by_employee']
export const CUSTOMER_SORTS: CustomersApi.Sort[] = ['-add_time', 'add_time', 'name', '-name']
export const DEFAULT_SORT: CustomersApi.Sort = '-add_time'

/** The list's filters besides the search text. `days` are local calendar days, the first and the last included. */
export interface CustomerFilters {
  mode: CustomersApi.Mode
  userids: string[]
  department: number | null
  tags: string[]
  /** personal tag (个人标签) ids: the customer carries any of them */
  personalTags: number[]
  days: [Date, Date] | null
  addWay: number | null
  gender: 0 | 1 | 2 | null
  status: CustomersApi.StatusFilter | ''
  /** a customer stage's id; 0: customers in no stage */
  stage: number | null
  /** options of choice custom fields (自定义字段) by id: the customer has any of them */
  fieldOptions: number[]
  sort: CustomersApi.Sort
}

export function defaultFilters(): CustomerFilters {
  return {
    mode: 'customer', userids: [], department: null, tags: [], personalTags: [], days: null, addWay: null, gender: null, status: '',
    stage: null, fieldOptions: [], sort: DEFAULT_SORT,
  }
}

const isSet = <T>(v: T | null | undefined | ''): v is T => v !== null && v !== undefined && v !== ''

/** The add-time range of whole local days: from the start of the first day to the start of the day after the last. */
export function dayRange(days: readonly [Date, Date]): { added_from: number; added_to: number } {
  return { added_from: localMidnight(days[0]), added_to: localMidnight(days[1], 1) }
}

/**
 * The API's query for the filters and the search text, paging left out. Defaults (customer mode, newest first) and
 * unset filters are left out too, so that the query is also a short, stable URL.
 */
export function customerQuery(f: CustomerFilters, q: string): CustomersApi.ListQuery {
  const out: CustomersApi.ListQuery = {}
  const text = q.trim()
  if (text) out.q = text
  if (f.mode === 'relationship') out.mode = 'relationship'
  if (f.userids.length) out.userid = f.userids.join(',')
  if (isSet(f.department)) out.department = f.department
  if (f.tags.length) out.tag = f.tags.join(',')
  if (f.personalTags.length) out.personal_tag = f.personalTags.join(',')
  if (f.days) Object.assign(out, dayRange(f.days))
  if (isSet(f.addWay)) out.add_way = f.addWay
  if (isSet(f.gender)) out.gender = f.gender
  if (isSet(f.status)) out.status = f.status
  if (isSet(f.stage)) out.stage = f.stage
  if (f.fieldOptions.length) out.field_option = f.fieldOptions.join(',')
  if (f.sort !== DEFAULT_SORT) out.sort = f.sort
  return out
}

/** Whether anything narrows the list (the search text included; mode and sort do not narrow). */
export function hasFilters(f: CustomerFilters, q: string): boolean {
  return (
    q.trim() !== '' || f.userids.length > 0 || isSet(f.department) || f.tags.length > 0 || f.personalTags.length > 0 ||
    !!f.days || isSet(f.addWay) || isSet(f.gender) || isSet(f.status) || isSet(f.stage) || f.fieldOptions.length > 0
  )
}

/** The list's address query: the API query (all strings) and the page when past the first. */
export function routeQuery(f: CustomerFilters, q: string, page: number): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(customerQuery(f, q))) out[k] = String(v)
  if (page > 1) out.page = String(page)
  return out
}

/** Whether two address queries made by routeQuery say the same (whatever the order of their keys). */
export function sameQuery(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}

/** The filters, search text and page of an address query made by routeQuery; anything malformed is left out. */
export function fromRouteQuery(query: LocationQuery): { filters: CustomerFilters; q: string; page: number } {
  const f = defaultFilters()
  if (first(query.mode) === 'relationship') f.mode = 'relationship'
  f.userids = list(query.userid)
  f.department = int(query.department)
  f.tags = list(query.tag)
  // ids as the server takes them (positive integers), each once
  f.personalTags = [...new Set(list(query.personal_tag).filter((x) => /^[1-9]\d{0,14}$/.test(x)).map(Number))]
  f.days = pickedDays(int(query.added_from), int(query.added_to))
  f.addWay = int(query.add_way)
  const gender = int(query.gender)
  if (gender === 0 || gender === 1 || gender === 2) f.gender = gender
  const status = first(query.status)
  if ((CUSTOMER_STATUSES as string[]).includes(status)) f.status = status as CustomersApi.StatusFilter
  const stage = int(query.stage)
  if (stage !== null && stage >= 0) f.stage = stage
  f.fieldOptions = [...new Set(list(query.field_option).filter((x) => /^[1-9]\d{0,14}$/.test(x)).map(Number))]
  const sort = first(query.sort)
  if ((CUSTOMER_SORTS as string[]).includes(sort)) f.sort = sort as CustomersApi.Sort
  const page = int(query.page)
  return { filters: f, q: first(query.q), page: page !== null && page > 0 ? page : 1 }
}

/**
 * A personal tag as the filter lists it: its name, and for an admin (who may filter by anyone's tags) its owner's
 * too, e.g. "爱喝奶茶（小林）". `withOwner` formats the pair in the user's language.
 */
export function personalTagFilterLabel(
  tag: Pick<CustomersApi.PersonalTag, 'name' | 'owner_name'>,
  admin: boolean,
  withOwner: (name: string, owner: string) => string,
): string {
  return admin && tag.owner_name ? withOwner(tag.name, tag.owner_name) : tag.name
}

export type SortProp = 'add_time' | 'name'
export type SortOrder = 'ascending' | 'descending' | null

/** The sort parameter for el-table's sort-change; no order (sorting cleared) is the default, newest first. */
export function sortOf(prop: string | null | undefined, order: SortOrder | undefined): CustomersApi.Sort {
  if (!order || (prop !== 'add_time' && prop !== 'name')) return DEFAULT_SORT
  return order === 'descending' ? `-${prop}` : prop
}

/** el-table's default-sort for a sort parameter. */
export function tableSort(sort: CustomersApi.Sort): { prop: SortProp; order: 'ascending' | 'descending' } {
  const desc = sort.startsWith('-')
  return { prop: (desc ? sort.slice(1) : sort) as SortProp, order: desc ? 'descending' : 'ascending' }
}

export interface DepartmentNode {
  value: number
  label: string
  children?: DepartmentNode[]
}

/**
 * el-tree-select's data from the flat department list (in the server's order). The root has parent_id 0; a
 * department whose parent is not in the list is shown at the top level rather than lost.
 */
export function departmentTree(items: readonly CustomersApi.Department[]): DepartmentNode[] {
  const nodes = new Map<number, DepartmentNode & { children: DepartmentNode[] }>()
  for (const d of items) nodes.set(d.id, { value: d.id, label: d.name || `#${d.id}`, children: [] })
  const roots: DepartmentNode[] = []
  for (const d of items) {
    const node = nodes.get(d.id)!
    const parent = d.parent_id !== d.id ? nodes.get(d.parent_id) : undefined
    ;(parent ? parent.children : roots).push(node)
  }
  const prune = (n: DepartmentNode, depth: number): DepartmentNode => {
    // depth guards against a parent cycle in bad data
    const children = depth < 64 ? (n.children ?? []).map((c) => prune(c, depth + 1)) : []
    return children.length ? { value: n.value, label: n.label, children } : { value: n.value, label: n.label }
  }
  return roots.map((r) => prune(r, 0))
}

/** How a relationship stands: active, or who ended it ('lost' when the server does not say). */
export type FollowState = 'active' | 'customer' | 'employee' | 'transfer' | 'sync' | 'lost'

export function followState(f: Pick<CustomersApi.Follow, 'active' | 'deleted_by'>): FollowState {
  if (f.active) return 'active'
  return f.deleted_by === '' ? 'lost' : f.deleted_by
}

/**
 * A row's status: a relationship row its relationship's; a customer active when any visible relationship is (or,
 * without visible ones, any at all), otherwise as its last ended relationship.
 */
export function rowState(row: CustomersApi.Customer, mode: CustomersApi.Mode): { state: FollowState; at: number | null } {
  if (mode === 'relationship' && row.follows.length) return { state: followState(row.follows[0]), at: row.follows[0].deleted_at }
  if (row.follows.some((f) => f.active)) return { state: 'active', at: null }
  if (!row.follows.length) return { state: row.active_follows > 0 ? 'active' : 'lost', at: null }
  const last = [...row.follows].sort((a, b) => (b.deleted_at ?? 0) - (a.deleted_at ?? 0))[0]
  return { state: followState(last), at: last.deleted_at }
}

/** A row's add time: its relationship's in relationship mode, else the customer's latest. */
export function rowAddTime(row: CustomersApi.Customer, mode: CustomersApi.Mode): number {
  return mode === 'relationship' && row.follows.length ? row.follows[0].add_time : row.last_add_time
}

/** Table row key: a customer, or one customer–employee relationship. */
export function rowKey(row: CustomersApi.Customer): string {
  return row.follows.length === 1 ? `${row.external_userid}/${row.follows[0].userid}` : row.external_userid
}

/** Why the list is empty, for its empty state (null while nothing explains it, e.g. before the first answer). */
export type CustomerEmptyReason = 'unbound' | 'noMatch' | 'noCustomers' | 'noneOwn'

export function emptyReason(scope: CustomersApi.Scope | null, filtered: boolean): CustomerEmptyReason | null {
  if (!scope) return null
  if (!scope.all && !scope.bound) return 'unbound'
  if (filtered) return 'noMatch'
  return scope.all ? 'noCustomers' : 'noneOwn'
}

/**
 * The customer list: filters and search (typing is searched once it pauses, Enter at once), server paging and
 * sorting; only the answer to the latest request is kept. `initial` is the page's address query (see routeQuery),
 * so that the list comes back as it was. Also loads the filters' choices (departments, tag groups, the caller's
 * personal tags, stages, the choice custom fields).
 */
export function useCustomers(
  options: { pageSize?: number; debounceMs?: number; initial?: LocationQuery; allPersonalTags?: boolean } = {},
) {
  const start = fromRouteQuery(options.initial ?? {})
  /** `searched`: the search text applied to the list (q once the typing paused, or on Enter) */
  const search = useSearchText(start.q, options.debounceMs ?? 300)
  const { q, searched } = search
  const filters = reactive<CustomerFilters>(start.filters)
  const scope = ref<CustomersApi.Scope | null>(null)
  const departments = ref<CustomersApi.Department[]>([])
  const tagGroups = ref<CustomersApi.TagGroup[]>([])
  /** the personal tags the caller may filter by (an admin's list has everyone's) */
  const personalTags = ref<CustomersApi.PersonalTag[]>([])
  const stages = ref<CustomersApi.Stage[]>([])
  /** the team's choice custom fields, whose options the list can be filtered by */
  const choiceFields = ref<FieldsApi.Field[]>([])

  let seq = 0
  const list = usePagedList<CustomersApi.Customer>(async (page, size) => {
    const ticket = ++seq
    const res = await listCustomersApi({ ...customerQuery(filters, searched.value), page, page_size: size })
    if (ticket === seq) scope.value = res.scope
    return res
  }, options.pageSize ?? 20)
  list.page.value = start.page

  // Any change of the filters (or of the applied search) lists from page 1, unless apply() already listed it.
  const key = computed(() => JSON.stringify(customerQuery(filters, searched.value)))
  let listedKey = key.value
  watch(key, (k) => {
    if (k === listedKey) return
    listedKey = k
    void list.load(1)
  })

  /** Enter in the search box: searches now (again, if the text is the one already searched). */
  function searchNow() {
    if (!search.now()) void list.load(1)
  }

  /** Clears the search and the filters (the mode and the sort stay). */
  function reset() {
    search.set('')
    Object.assign(filters, { ...defaultFilters(), mode: filters.mode, sort: filters.sort })
  }

  /** Shows the list an address query asks for (e.g. the menu's plain /scrm/customers while a search is shown). */
  function apply(query: LocationQuery) {
    const next = fromRouteQuery(query)
    search.set(next.q)
    Object.assign(filters, next.filters)
    listedKey = key.value
    void list.load(next.page)
  }

  function setSort(prop: string | null | undefined, order: SortOrder | undefined) {
    filters.sort = sortOf(prop, order)
  }

  /** The choice custom fields (a failure just offers none). */
  async function loadFields() {
    try {
      choiceFields.value = (await listCustomFieldsApi()).items.filter((f) => isChoice(f.kind))
    } catch {
      // no custom field filter then
    }
  }

  async function loadChoices() {
    // Not waited for: the other filters need not wait for the custom fields.
    void loadFields()
    const [d, t, s, p] = await Promise.allSettled([listScrmDepartmentsApi(), listScrmTagsApi(), listStagesApi(),
      listPersonalTagsApi(options.allPersonalTags ? 'team' : 'own')])
    // Without them the filters just offer nothing; the list shows its own error when the server is away.
    if (d.status === 'fulfilled') departments.value = d.value.items
    if (t.status === 'fulfilled') tagGroups.value = t.value.items
    if (s.status === 'fulfilled') stages.value = s.value.items
    if (p.status === 'fulfilled') personalTags.value = p.value.items
  }

  /** The page from the address (or 1) and the filters' choices, together. */
  async function init() {
    await Promise.all([list.load(start.page), loadChoices()])
  }

  const filtered = computed(() => hasFilters(filters, searched.value))
  return {
    ...list,
    q,
    searched,
    filters,
    scope,
    departments,
    tagGroups,
    personalTags,
    stages,
    choiceFields,
    departmentTree: computed(() => departmentTree(departments.value)),
    filtered,
    emptyReason: computed(() => emptyReason(scope.value, filtered.value)),
    routeQuery: computed(() => routeQuery(filters, searched.value, list.page.value)),
    init,
    apply,
    loadChoices,
    searchNow,
    reset,
    setSort,
  }
}
