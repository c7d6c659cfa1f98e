import { computed, onScopeDispose, ref, watch } from 'vue'
import {
  customerExportFileUrl, deleteCustomerExportApi, listCustomerExportsApi, startCustomerExportApi, type ExportsApi,
} from '@/api/exports'
import { errorText } from '@/api/request'
import { useItemActions } from './use-async-action'
import { lastPage } from './use-paged-list'

/** how often the exports dialog asks again while one of the exports it shows is queued or running */
export const EXPORT_POLL_MS = 1500
/** exports per page of the dialog */
export const EXPORTS_PAGE_SIZE = 10
/** the most rows one export may have (the server refuses more with export_too_large) */
export const EXPORT_ROWS_MAX = 1_000_000
/** the formats offered, in the menu's order */
export const EXPORT_FORMATS: readonly ExportsApi.Format[] = ['csv', 'xlsx']

type Export = ExportsApi.CustomerExport
type ExportLike = Pick<Export, 'state'> | null | undefined

/** An export that has not ended yet (queued, or running). */
export function isExportActive(e: ExportLike): boolean {
  return e?.state === 'queued' || e?.state === 'running'
}

/**
 * The progress bar, 0–100: done of total rounded down, kept below 100 while the export is still going; a succeeded
 * export is 100.
 */
export function exportPercent(e: Pick<Export, 'state' | 'total' | 'done'> | null | undefined): number {
  if (!e) return 0
  if (e.state === 'succeeded') return 100
  if (e.total <= 0) return 0
  const percent = Math.floor((Math.max(0, e.done) * 100) / e.total)
  return Math.max(0, Math.min(isExportActive(e) ? 99 : 100, percent))
}

/** Whether a succeeded export's file can still be downloaded (it is deleted at `expires_at`). */
export function isExportDownloadable(e: Pick<Export, 'state' | 'expires_at'>, now = Date.now()): boolean {
  return e.state === 'succeeded' && (e.expires_at <= 0 || now < e.expires_at)
}

/** What the server would refuse before it is asked, from the rows the list shows (null when not known yet). */
export function exportProblem(rows: number | null): 'export_empty' | 'export_too_large' | null {
  if (rows === null) return null
  if (rows <= 0) return 'export_empty'
  if (rows > EXPORT_ROWS_MAX) return 'export_too_large'
  return null
}

export interface CustomerExportsOptions {
  pollMs?: number
  pageSize?: number
}

/**
 * The customer exports (导出) of the caller: starting one from the customer list, and the dialog listing them
 * (newest first, paged by the server) with their progress, asked for again every `pollMs` while one of the page is
 * queued or running (one request at a time, only the latest answer kept), their downloads and their deletion.
 * Polling stops when the dialog closes (the exports go on on the server) and for good when the scope that created
 * it ends.
 */
export function useCustomerExports(options: CustomerExportsOptions = {}) {
  const pollMs = options.pollMs ?? EXPORT_POLL_MS
  const pageSize = options.pageSize ?? EXPORTS_PAGE_SIZE
  /** the dialog is open */
  const visible = ref(false)
  const items = ref<Export[]>([])
  const total = ref(0)
  const page = ref(1)
  /** a load the user asked for is under way (not a poll: the table does not flicker every few seconds) */
  const loading = ref(false)
  /** a page was shown at least once since the dialog opened */
  const loaded = ref(false)
  /** the last failed load, in the user's language ('' after one succeeded) */
  const error = ref('')
  const starting = ref(false)
  /** the last refused start, in the user's language ('' once another starts) */
  const startError = ref('')
  const deletions = useItemActions<number>()

  const active = computed(() => items.value.some(isExportActive))

  let latest = 0
  let disposed = false
  let timer: ReturnType<typeof setTimeout> | undefined

  function stopPolling() {
    if (timer) clearTimeout(timer)
    timer = undefined
  }

  /** Stops polling and ignores the answers under way. */
  function stop() {
    stopPolling()
    latest++
    loading.value = false
  }

  /** Schedules the next poll while the dialog is open and an export of the page is going. */
  function schedule() {
    stopPolling()
    if (disposed || pollMs <= 0 || !visible.value || !active.value) return
    timer = setTimeout(() => {
      timer = undefined
      void load(page.value, true)
    }, pollMs)
  }

  /** Shows page `p` of the exports (`quiet`: a poll, without the loading mask); then polls while one is going. */
  async function load(p = page.value, quiet = false): Promise<void> {
    if (disposed) return
    stopPolling()
    const ticket = ++latest
    if (!quiet) loading.value = true
    try {
      const res = await listCustomerExportsApi(p, pageSize)
      if (disposed || ticket !== latest) return
      const last = lastPage(res.total, pageSize)
      if (res.items.length === 0 && p > 1 && last < p) {
        // The exports of this page are gone (deleted, or expired): show the last page there is.
        return await load(last, quiet)
      }
      items.value = res.items
      total.value = res.total
      page.value = p
      error.value = ''
      loaded.value = true
    } catch (e) {
      if (disposed || ticket !== latest) return
      // Shown, and asked again on the next poll (e.g. the server restarting).
      error.value = errorText(e)
    } finally {
      if (ticket === latest) {
        loading.value = false
        schedule()
      }
    }
  }

  /**
   * Opens the dialog on the newest exports. `started` (an export just started) is shown at once, before the list
   * comes.
   */
  function open(started?: Export) {
    stop()
    page.value = 1
    error.value = ''
    deletions.actionError.value = ''
    if (started) {
      items.value = [started, ...items.value.filter((x) => x.id !== started.id)].slice(0, pageSize)
      total.value = Math.max(total.value, items.value.length)
    }
    visible.value = true
    void load(1)
  }

  function close() {
    visible.value = false
  }

  // However the dialog closes (its ×, Esc, the button), polling stops; the exports go on on the server.
  watch(visible, (isOpen) => {
    if (!isOpen) stop()
  })

  /**
   * Starts an export of the customer list's `filter` (search, filters and mode, no paging) as `format`, headed in
   * `lang`. The export as queued, or null with `startError` set.
   */
  async function start(filter: ExportsApi.Query, format: ExportsApi.Format, lang: ExportsApi.Lang): Promise<Export | null> {
    if (starting.value || disposed) return null
    starting.value = true
    startError.value = ''
    try {
      return await startCustomerExportApi(filter, { format, lang })
    } catch (e) {
      startError.value = errorText(e)
      return null
    } finally {
      starting.value = false
    }
  }

  /**
   * Deletes an export and its file (cancelling it while queued or running), then shows the page again. Whether it
   * was deleted; otherwise `actionError` says why.
   */
  async function remove(e: Export): Promise<boolean> {
    if (disposed) return false
    const done = await deletions.run(e.id, () => deleteCustomerExportApi(e.id))
    if (done && !disposed) {
      // An answer under way would show the export again.
      stop()
      items.value = items.value.filter((x) => x.id !== e.id)
      total.value = Math.max(0, total.value - 1)
      await load(page.value)
    }
    return done
  }

  onScopeDispose(() => {
    disposed = true
    stop()
  })

  return {
    visible, items, total, page, pageSize, loading, loaded, error, active, starting, startError,
    actionError: deletions.actionError, isDeleting: deletions.isBusy,
    open, close, load, start, remove, stop, fileUrl: (e: Pick<Export, 'id'>) => customerExportFileUrl(e.id),
  }
}
