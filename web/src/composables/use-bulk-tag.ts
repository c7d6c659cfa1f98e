import { computed, onScopeDispose, reactive, ref, watch } from 'vue'
import { cancelBulkTagApi, getBulkTagApi, startBulkTagApi, type CustomersApi } from '@/api/customers'
import { ApiError, errorText } from '@/api/request'
import { i18n } from '@/locales'
import { TAGS_PER_CALL_MAX } from './tag-rules'

/** how often the dialog asks for the job's progress while it is queued or running */
export const BULK_POLL_MS = 1000
/** the most customers one bulk tagging may pick by hand (more: tag everyone matching the filter) */
export const BULK_SELECTION_MAX = 1000
/** failures shown per page once the job is done */
export const BULK_FAILURES_PAGE_SIZE = 10

/** Whom the bulk tagging reaches: the customers ticked in the list, or everyone matching the list's filter. */
export type BulkTarget = 'selected' | 'filter'

type Job = CustomersApi.BulkTagState
type JobLike = Pick<Job, 'state'> | null | undefined

/** A job that has not ended yet (queued, or running). */
export function isBulkActive(job: JobLike): boolean {
  return job?.state === 'queued' || job?.state === 'running'
}

/** Relationships handled so far (tagged, or refused by WeCom). */
export function bulkHandled(job: Pick<Job, 'succeeded' | 'failed'> | null | undefined): number {
  return job ? Math.max(0, job.succeeded) + Math.max(0, job.failed) : 0
}

/**
 * The progress bar, 0–100: (succeeded + failed) of total rounded down, kept below 100 while the job is still going;
 * a succeeded job is 100.
 */
export function bulkPercent(job: Pick<Job, 'state' | 'total' | 'succeeded' | 'failed'> | null | undefined): number {
  if (!job) return 0
  if (job.state === 'succeeded') return 100
  if (job.total <= 0) return 0
  const percent = Math.floor((bulkHandled(job) * 100) / job.total)
  return Math.max(0, Math.min(isBulkActive(job) ? 99 : 100, percent))
}

/**
 * A reason (a failure's, or why the job waits) in the user's language, as errorText says it for an API answer; a
 * reason without a text is shown as it is (rather than "something went wrong"), so that it can still be looked up.
 */
export function bulkReasonText(reason: string): string {
  if (!reason) return ''
  if (!i18n.global.te(`errors.${reason}`) && !i18n.global.te(`errorsNoWait.${reason}`)) return reason
  return errorText(new ApiError(0, reason, ''))
}

/** WeCom's answers meaning "too many calls": the job waits and goes on by itself. */
const RATE_LIMITS = new Set(['wecom_rate_limited', 'wecom_concurrency_limited', 'wecom_busy', 'rate_limited'])

/** Why a job that is still going waits (its last_error_reason, in the user's language), or '' when it does not. */
export function bulkWaitingText(job: Pick<Job, 'state' | 'last_error_reason'> | null | undefined): string {
  if (!job || !isBulkActive(job) || !job.last_error_reason) return ''
  const t = i18n.global.t
  if (RATE_LIMITS.has(job.last_error_reason)) return t('customers.bulk.waitingRateLimit')
  if (job.last_error_reason === 'job_interrupted') return t('customers.bulk.waitingInterrupted')
  return t('customers.bulk.waitingRetry', { reason: bulkReasonText(job.last_error_reason) })
}

/** What the server would refuse in the dialog (or what cannot be asked at all). */
export type BulkProblem =
  | 'bulk_no_tags'
  | 'bulk_tag_conflict'
  | 'too_many_tags'
  | 'bulk_no_selection'
  | 'bulk_too_many_targets'
  | 'bulk_target_empty'

export interface BulkChoice {
  target: BulkTarget
  add: readonly string[]
  remove: readonly string[]
  /** customers ticked in the list */
  selected: number
  /** the list's status filter ('' for none) */
  status?: string
  /** rows the filtered list has, when known */
  filterTotal?: number | null
}

/** The problem with a choice, checked as the server would (and before asking), or null. */
export function bulkProblem(c: BulkChoice): BulkProblem | null {
  if (!c.add.length && !c.remove.length) return 'bulk_no_tags'
  const added = new Set(c.add)
  if (c.remove.some((id) => added.has(id))) return 'bulk_tag_conflict'
  if (new Set([...c.add, ...c.remove]).size > TAGS_PER_CALL_MAX) return 'too_many_tags'
  if (c.target === 'selected') {
    if (c.selected <= 0) return 'bulk_no_selection'
    if (c.selected > BULK_SELECTION_MAX) return 'bulk_too_many_targets'
    return null
  }
  // Only active relationships can be tagged: a filter for lost ones, or an empty list, matches nothing.
  if (c.status && c.status !== 'active') return 'bulk_target_empty'
  if (c.filterTotal === 0) return 'bulk_target_empty'
  return null
}

/** A problem in the user's language: customers.bulk.problems.<problem>, else the server's text for it. */
export function bulkProblemText(problem: BulkProblem): string {
  const key = `customers.bulk.problems.${problem}`
  if (i18n.global.te(key)) return i18n.global.t(key, { max: BULK_SELECTION_MAX })
  return errorText(new ApiError(0, problem, ''))
}

export interface BulkTagOptions {
  /** external_userids of the customers ticked in the list */
  selected: () => readonly string[]
  /** the list's query (filters and search, no paging), for the target 'filter' */
  filter: () => CustomersApi.BulkTagQuery
  /** rows of the filtered list, when known (an empty list matches nothing) */
  filterTotal?: () => number | null
  /** called once per job when it is seen ended (e.g. to load the customer list again) */
  onFinished?: (job: Job) => void
  /**
   * Starts the job some other way than the customer list does (e.g. a segment's customers: POST
   * /scrm/segments/bulk-tags), with the dialog's tags; the target then is whatever this call names.
   */
  startJob?: (change: { add: string[]; remove: string[] }) => Promise<Job>
  pollMs?: number
  pageSize?: number
}

/**
 * Bulk tagging (批量打标签) from the customer list, or of a segment's customers (`startJob`): the dialog's choice
 * (whom, which tags to add and to remove), the start of the server's background job, then its progress, asked for
 * every `pollMs` while the job is queued or running (one request at a time, only the latest answer kept), and once
 * it ended the pages of its failures.
 * Polling stops when the job ends, when the dialog closes (the job goes on on the server: opening the dialog again
 * shows it again while it is unfinished) and for good when the scope that created it ends.
 */
export function useBulkTag(options: BulkTagOptions) {
  const pollMs = options.pollMs ?? BULK_POLL_MS
  const pageSize = options.pageSize ?? BULK_FAILURES_PAGE_SIZE
  const form = reactive({ open: false, target: 'filter' as BulkTarget, add: [] as string[], remove: [] as string[] })
  const formError = ref('')
  const starting = ref(false)
  /** the job started from this dialog (null while choosing) */
  const job = ref<Job | null>(null)
  /** the last failed progress request, in the user's language ('' after one succeeded) */
  const error = ref('')
  /** the page of failures shown */
  const page = ref(1)
  /** a progress request is under way */
  const loading = ref(false)
  /** a progress request is scheduled */
  const polling = ref(false)
  /** a cancellation is being asked for */
  const cancelling = ref(false)
  /** the last failed cancellation, in the user's language ('' once one is asked for again) */
  const cancelError = ref('')
  /** the job the server agreed to cancel (a running one goes on with the relationship under way, then stops) */
  const cancelledId = ref<number | null>(null)

  const selectedCount = computed(() => options.selected().length)
  const active = computed(() => isBulkActive(job.value))
  const percent = computed(() => bulkPercent(job.value))
  const waiting = computed(() => bulkWaitingText(job.value))
  /** the job is cancelled but still finishing the relationship under way */
  const stopping = computed(() => active.value && cancelledId.value !== null && cancelledId.value === job.value?.job_id)

  let latest = 0
  let disposed = false
  let timer: ReturnType<typeof setTimeout> | undefined
  /** ids of the jobs already reported as ended */
  const reported = new Set<number>()

  function stopPolling() {
    if (timer) clearTimeout(timer)
    timer = undefined
    polling.value = false
  }

  /** Stops polling and ignores the answers to the requests under way. */
  function stop() {
    stopPolling()
    latest++
    loading.value = false
  }

  /** Schedules the next request while the job is going and the dialog shows it. */
  function schedule() {
    stopPolling()
    if (disposed || pollMs <= 0 || !form.open || !active.value) return
    polling.value = true
    timer = setTimeout(() => {
      timer = undefined
      polling.value = false
      void refresh()
    }, pollMs)
  }

  function apply(next: Job) {
    job.value = next
    error.value = ''
    if (!isBulkActive(next) && !reported.has(next.job_id)) {
      reported.add(next.job_id)
      options.onFinished?.(next)
    }
  }

  /** Asks for the job's progress and the current page of its failures now (then goes on polling while it runs). */
  async function refresh(): Promise<void> {
    const current = job.value
    if (disposed || !current) return
    stopPolling()
    const ticket = ++latest
    loading.value = true
    let gone = false
    try {
      const next = await getBulkTagApi(current.job_id, page.value, pageSize)
      if (disposed || ticket !== latest) return
      apply(next)
    } catch (e) {
      if (disposed || ticket !== latest) return
      error.value = errorText(e)
      // Not (or no longer) there: asking again will not help. Anything else (the server restarting): ask again.
      gone = e instanceof ApiError && e.reason === 'bulk_job_not_found'
    } finally {
      if (ticket === latest) {
        loading.value = false
        if (!gone) schedule()
      }
    }
  }

  /** Opens the dialog: the unfinished job left earlier (polled again), or a new choice. */
  function open() {
    formError.value = ''
    if (job.value && isBulkActive(job.value)) {
      form.open = true
      void refresh()
      return
    }
    stop()
    job.value = null
    error.value = ''
    cancelError.value = ''
    page.value = 1
    Object.assign(form, { open: true, target: options.selected().length > 0 ? 'selected' : 'filter', add: [], remove: [] })
  }

  function close() {
    form.open = false
  }

  // However the dialog closes (its ×, Esc, the button), polling stops; the job goes on on the server.
  watch(
    () => form.open,
    (isOpen) => {
      if (!isOpen) stop()
    },
  )

  const choiceProblem = () =>
    bulkProblem({
      target: form.target,
      add: form.add,
      remove: form.remove,
      selected: options.selected().length,
      status: options.filter().status ?? '',
      filterTotal: options.filterTotal?.() ?? null,
    })
  /** what is wrong with the dialog's choice (null: nothing) */
  const problem = computed(choiceProblem)

  /** Whether the dialog's choice can be started; otherwise `formError` says why. */
  function validate(): boolean {
    const p = choiceProblem()
    formError.value = p ? bulkProblemText(p) : ''
    return !p
  }

  /** Starts the job as the dialog says; the job as queued, or null with `formError` set. */
  async function start(): Promise<Job | null> {
    if (starting.value || job.value || !validate()) return null
    starting.value = true
    formError.value = ''
    const add = [...new Set(form.add)]
    const remove = [...new Set(form.remove)]
    stop()
    try {
      const next = options.startJob
        ? await options.startJob({ add, remove })
        : form.target === 'selected'
          ? await startBulkTagApi({}, { external_userids: [...new Set(options.selected())], add, remove })
          : await startBulkTagApi(options.filter(), { add, remove })
      if (disposed) return next
      page.value = 1
      apply(next)
      schedule()
      return next
    } catch (e) {
      formError.value = errorText(e)
      return null
    } finally {
      starting.value = false
    }
  }

  /**
   * Cancels the job shown while it is queued or running: the tags added so far stay, the remaining customers are not
   * processed. The job as the server answered (then asked for again: the current page of failures, and polled while
   * it is still stopping), or null with `cancelError` set.
   */
  async function cancel(): Promise<Job | null> {
    const current = job.value
    if (disposed || cancelling.value || !current || !isBulkActive(current)) return null
    cancelling.value = true
    cancelError.value = ''
    // An answer under way would show the job as it was before.
    stop()
    try {
      const next = await cancelBulkTagApi(current.job_id)
      if (disposed) return next
      cancelledId.value = next.job_id
      if (job.value?.job_id === next.job_id) apply(next)
      return next
    } catch (e) {
      if (!disposed) cancelError.value = errorText(e)
      return null
    } finally {
      cancelling.value = false
      // However it went (the job may have ended meanwhile), show the job as it is now.
      if (!disposed && job.value?.job_id === current.job_id) await refresh()
    }
  }

  /** Shows another page of the failures. */
  async function setPage(p: number): Promise<void> {
    page.value = p
    await refresh()
  }

  onScopeDispose(() => {
    disposed = true
    stop()
  })

  return {
    form, formError, starting, job, error, page, pageSize, loading, polling, cancelling, cancelError, selectedCount, active, percent, waiting,
    stopping, problem, open, close, validate, start, refresh, setPage, stop, cancel,
  }
}
