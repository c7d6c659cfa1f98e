// unionid matching (粉丝匹配): the corp's verified entity name, importing a CSV file of an official account's or a
// mini program's fans (its upload, progress and outcome), the accounts imported and the fans, each with the customer
// it matches. All of it is for admins; the customer profile shows a customer's linked accounts.
import { computed, getCurrentScope, onScopeDispose, reactive, ref, shallowRef, watch } from 'vue'
import { i18n } from '@/locales'
import { ABORTED_REASON, ApiError, errorText } from '@/api/request'
import {
  deleteFanAccountApi, fanRowErrors, getFanSubjectApi, importFansApi, listFanAccountsApi, listFansApi, setFanSubjectApi,
  type FansApi,
} from '@/api/fans'
import { useAction, useItemActions, useLatestLoad } from './use-async-action'
import { usePagedList } from './use-paged-list'
import { useSearchText } from './use-search-text'
import { codePoints } from './use-customer-profile'
import { formatBytes, MB } from './media-upload'

/** The longest entity name (主体名称), and account name, in characters. */
export const FAN_SUBJECT_MAX = 100
export const FAN_ACCOUNT_NAME_MAX = 30
/** The largest file, and the most fans in one file, the server takes. */
export const FAN_FILE_MAX_BYTES = 20 * MB
export const FAN_FILE_MAX_ROWS = 200_000
export const FAN_ACCOUNT_TYPES: readonly FansApi.AccountType[] = ['official', 'miniprogram']
/** What the file picker offers. */
export const FAN_FILE_ACCEPT = '.csv,text/csv'

type Translate = (key: string, values?: Record<string, unknown>) => string
const tr = (key: string, values?: Record<string, unknown>) => (i18n.global.t as Translate)(key, values)

// ----- the template -----------------------------------------------------------------------------------------------

/** The template's columns, as the server reads them (src/domain/customers/fans.cc). */
export const FAN_TEMPLATE_HEADER = ['openid', 'unionid', 'nickname', 'entity'] as const
export const FAN_TEMPLATE_EXAMPLE = { openid: 'oAbCdEfGhIjKlMnOpQrStUvWx1234', unionid: 'oUnIoNaBcDeFgHiJkLmNoPqRs5678', nickname: '小锦' }

/** A CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

/** The template file's text: the header row and one example fan of the entity `subject` (an example name when none). */
export function fanTemplateCsv(subject: string): string {
  const entity = subject.trim() || tr('fans.import.exampleEntity')
  const { openid, unionid, nickname } = FAN_TEMPLATE_EXAMPLE
  return [FAN_TEMPLATE_HEADER.join(','), [openid, unionid, nickname, entity].map(csvCell).join(',')].join('\r\n') + '\r\n'
}

/** The template as a link's address (UTF-8 with a byte order mark, so that Excel reads the Chinese right). */
export function fanTemplateHref(subject: string): string {
  return `data:text/csv;charset=utf-8,${encodeURIComponent(`\uFEFF${fanTemplateCsv(subject)}`)}`
}

export const FAN_TEMPLATE_FILENAME = 'fans-template.csv'

// ----- the entity --------------------------------------------------------------------------------------------------

/** Why an entity name cannot be saved, in the user's language ('' none). */
export function fanSubjectProblem(subject: string): string {
  const v = subject.trim()
  if (!v) return tr('fans.subject.required')
  if (codePoints(v) > FAN_SUBJECT_MAX) return tr('fans.subject.tooLong', { max: FAN_SUBJECT_MAX })
  return ''
}

/** The corp's entity name: loaded, edited (opened at once while unset) and saved. */
export function useFanSubject() {
  const subject = ref('')
  const editing = ref(false)
  const draft = ref('')
  const loader = useLatestLoad(getFanSubjectApi, (v) => {
    subject.value = v.subject
    if (!v.subject) start()
  })
  const { pending: saving, error, run } = useAction()

  function start() {
    draft.value = subject.value
    error.value = ''
    editing.value = true
  }
  function cancel() {
    error.value = ''
    editing.value = false
  }

  /** Saves the draft; true once saved. */
  async function save(): Promise<boolean> {
    const problem = fanSubjectProblem(draft.value)
    if (problem) {
      error.value = problem
      return false
    }
    const value = draft.value.trim()
    const saved = await run(() => setFanSubjectApi(value))
    if (!saved) return false
    subject.value = saved.subject.trim() || value
    editing.value = false
    return true
  }

  return {
    subject, editing, draft, saving, error, start, cancel, save,
    loading: loader.loading, loaded: loader.loaded, loadError: loader.error, load: loader.load,
  }
}

// ----- importing a file ----------------------------------------------------------------------------------------------

/** What the user picked, as much as the checks need (a File is one). */
export interface PickedFanFile {
  name: string
  size: number
  type: string
}

/** Why the import cannot be sent as it is, in the user's language ('' none). */
export function fanImportProblem(accountName: string, file: PickedFanFile | null): string {
  const name = accountName.trim()
  if (!name || codePoints(name) > FAN_ACCOUNT_NAME_MAX) return tr('fans.import.problems.accountName', { max: FAN_ACCOUNT_NAME_MAX })
  if (!file) return tr('fans.import.problems.file')
  const csv = file.name.toLowerCase().endsWith('.csv') || file.type.split(';')[0].trim().toLowerCase() === 'text/csv'
  if (!csv) return tr('fans.import.problems.format')
  if (file.size === 0) return tr('fans.import.problems.empty')
  if (file.size > FAN_FILE_MAX_BYTES) {
    return tr('fans.import.problems.tooLarge', { size: formatBytes(file.size), max: formatBytes(FAN_FILE_MAX_BYTES) })
  }
  return ''
}

/** A bad row's reason in the user's language (the reason itself when it has no text). */
export function fanRowReasonText(reason: string): string {
  return i18n.global.te(`errors.${reason}`) ? tr(`errors.${reason}`) : reason
}

export type ImportApi = typeof importFansApi

/**
 * Importing a file of fans: the account (name and type) and the file picked, checked before anything is sent; the
 * upload with its progress (`percent`; `processing` once the body went out, while the server imports and matches);
 * then the result, or the failure: `error` in the user's language, `detail` the server's own words when they say
 * more (the row and entity of a mismatch), `rowErrors` the bad rows of a `fan_rows_invalid`; `dismiss` hides the
 * failure. `cancel` stops the
 * upload; it stops when the component goes too.
 */
export function useFanImport(api: ImportApi = importFansApi) {
  const form = reactive({ accountName: '', accountType: 'official' as FansApi.AccountType })
  // shallow: the File itself goes to XMLHttpRequest.send, never a reactive proxy of it
  const file = shallowRef<File | null>(null)
  const sending = ref(false)
  const loaded = ref(0)
  const total = ref(0)
  const result = ref<FansApi.ImportResult | null>(null)
  // The failure is kept as what makes its text, so that it follows a change of language as the rows' reasons do.
  const failure = shallowRef<(() => string) | null>(null)
  const error = computed(() => failure.value?.() ?? '')
  const detail = ref('')
  const rowErrors = ref<FansApi.RowError[]>([])
  let controller: AbortController | null = null

  const percent = computed(() => (total.value > 0 ? Math.min(100, Math.floor((loaded.value / total.value) * 100)) : 0))
  const processing = computed(() => sending.value && total.value > 0 && loaded.value >= total.value)

  function clearOutcome() {
    result.value = null
    failure.value = null
    detail.value = ''
    rowErrors.value = []
  }

  /** Hides the failure shown (its alert was closed). */
  function dismiss() {
    failure.value = null
    detail.value = ''
  }

  /** A file was picked (null: none); the outcome of the last import goes. */
  function pick(next: File | null) {
    file.value = next
    clearOutcome()
  }

  /** Checks and sends the file; its result, or null (see error, detail and rowErrors). */
  async function submit(): Promise<FansApi.ImportResult | null> {
    if (sending.value) return null
    clearOutcome()
    const picked = file.value
    const accountName = form.accountName
    if (!picked || fanImportProblem(accountName, picked)) {
      failure.value = () => fanImportProblem(accountName, picked)
      return null
    }
    const own = new AbortController()
    controller = own
    sending.value = true
    loaded.value = 0
    total.value = picked.size
    try {
      const done = await api(picked, accountName.trim(), form.accountType, {
        signal: own.signal,
        onProgress: (l, t) => {
          if (controller !== own) return
          loaded.value = l
          total.value = t
        },
      })
      if (controller !== own) return null
      result.value = done
      file.value = null
      return done
    } catch (e) {
      if (controller !== own || (e instanceof ApiError && e.reason === ABORTED_REASON)) return null
      failure.value = () => errorText(e)
      if (e instanceof ApiError && e.reason === 'fan_subject_mismatch') detail.value = e.message
      rowErrors.value = fanRowErrors(e)
      return null
    } finally {
      if (controller === own) {
        controller = null
        sending.value = false
      }
    }
  }

  /** Stops the upload under way: nothing is imported. */
  function cancel() {
    const c = controller
    controller = null
    sending.value = false
    c?.abort()
  }

  if (getCurrentScope()) onScopeDispose(cancel)

  return { form, file, sending, percent, processing, result, error, detail, rowErrors, pick, submit, cancel, dismiss }
}

// ----- the accounts --------------------------------------------------------------------------------------------------

/** The accounts the team imported fans of, and deleting one's fans. */
export function useFanAccounts() {
  const items = ref<FansApi.Account[]>([])
  const loader = useLatestLoad(listFanAccountsApi, (v) => (items.value = v.items))
  const actions = useItemActions<string>()

  /** Deletes the account's fans; how many went, or null (actionError says why). */
  async function remove(accountName: string): Promise<number | null> {
    const answer = { deleted: 0 }
    const ok = await actions.run(accountName, async () => {
      answer.deleted = (await deleteFanAccountApi(accountName)).deleted
    })
    return ok ? answer.deleted : null
  }

  return {
    items, remove, loading: loader.loading, loaded: loader.loaded, error: loader.error, load: loader.load,
    actionError: actions.actionError, isDeleting: actions.isBusy,
  }
}

// ----- the fans -------------------------------------------------------------------------------------------------------

export interface FanFilters {
  /** '' all, yes matched, no not matched */
  matched: '' | FansApi.Matched
  /** an account's name ('' all) */
  account: string
}

/** The API's query for the filters and the search text, paging left out; unset ones left out. */
export function fanQuery(f: FanFilters, q: string): FansApi.ListQuery {
  const out: FansApi.ListQuery = {}
  if (q.trim()) out.q = q.trim()
  if (f.matched) out.matched = f.matched
  if (f.account) out.account_name = f.account
  return out
}

export type FanEmptyReason = 'none' | 'noMatch'

/**
 * The fans list: search (typing is searched once it pauses, Enter at once), the match and account filters, server
 * paging; the team's totals of fans and matched fans, whatever the filters.
 */
export function useFanList(options: { pageSize?: number; debounceMs?: number } = {}) {
  const search = useSearchText('', options.debounceMs ?? 300)
  const { q, searched } = search
  const filters = reactive<FanFilters>({ matched: '', account: '' })
  const query = computed(() => fanQuery(filters, searched.value))
  const totals = reactive({ fans: 0, matched: 0 })
  const list = usePagedList<FansApi.Fan>(async (page, size) => {
    const res = await listFansApi({ ...query.value, page, page_size: size })
    totals.fans = res.fans
    totals.matched = res.matched
    return res
  }, options.pageSize ?? 20)
  /** loaded at least once (the empty states wait for it) */
  const loaded = ref(false)

  async function load(page?: number): Promise<void> {
    await list.load(page)
    if (!list.error.value) loaded.value = true
  }
  // A new search or filter lists from page 1.
  watch(() => JSON.stringify(query.value), () => void load(1))

  /** Enter in the search box: searches now (again, if the text is the one already searched). */
  function searchNow() {
    if (!search.now()) void load(1)
  }

  function reset() {
    search.set('')
    Object.assign(filters, { matched: '', account: '' })
  }

  const filtered = computed(() => Object.keys(query.value).length > 0)
  const emptyReason = computed<FanEmptyReason | null>(() => {
    if (!loaded.value || list.items.value.length) return null
    return filtered.value ? 'noMatch' : 'none'
  })

  return { ...list, q, searched, filters, totals, loaded, filtered, emptyReason, load, searchNow, reset }
}
