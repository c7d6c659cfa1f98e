import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, h, nextTick, type App } from 'vue'
import ElementPlus, { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { deleteCustomerExportApi, listCustomerExportsApi, type ExportsApi } from '@/api/exports'
import { ApiError } from '@/api/request'
import { formatDateTime } from '@/composables/format'
import { EXPORT_POLL_MS, exportPercent, exportProblem, isExportDownloadable, useCustomerExports } from '@/composables/use-customer-exports'
import CustomerExportDialog from './customer-export-dialog.vue'

vi.mock('@/api/exports', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/exports')>()),
  listCustomerExportsApi: vi.fn(),
  deleteCustomerExportApi: vi.fn(),
  startCustomerExportApi: vi.fn(),
  getCustomerExportApi: vi.fn(),
}))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessageBox: { confirm: vi.fn() } }
})

const NOW = 1_790_000_000_000
const DAY = 24 * 3600 * 1000

function exp(over: Partial<ExportsApi.CustomerExport> = {}): ExportsApi.CustomerExport {
  return {
    id: 7, format: 'xlsx', mode: 'customer', state: 'running', total: 12_345, done: 4_000, bytes: 0,
    filename: 'customers-20261126-2130.xlsx', created_at: NOW - 60_000, finished_at: null, expires_at: NOW - 60_000 + 7 * DAY,
    last_error_reason: '', ...over,
  }
}
const pageOf = (items: ExportsApi.CustomerExport[], total = items.length): ExportsApi.Page => ({ items, total, page: 1, page_size: 10 })

let app: App | null = null
let root: HTMLElement
let exporter: ReturnType<typeof useCustomerExports>

/** Mounts the dialog with its composable made in the same component, as the customer list does. */
function mount() {
  root = document.createElement('div')
  document.body.appendChild(root)
  const Host = defineComponent({
    setup() {
      exporter = useCustomerExports()
      return () => h(CustomerExportDialog, { exporter })
    },
  })
  app = createApp(Host)
  app.use(i18n).use(ElementPlus).mount(root)
}
async function settle() {
  await vi.advanceTimersByTimeAsync(0)
  await nextTick()
}
async function openDialog(started?: ExportsApi.CustomerExport) {
  exporter.open(started)
  await settle()
}
/** in the dialog, which Element Plus teleports to the body */
const q = (test: string) => document.body.querySelector<HTMLElement>(`[data-test="${test}"]`)
const all = (test: string) => [...document.body.querySelectorAll<HTMLElement>(`[data-test="${test}"]`)]
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''
/** the table row of the export `id` */
const row = (id: number) => document.body.querySelector(`[data-test="export-row"][data-id="${id}"]`)!.closest('tr')!
const inRow = (id: number, test: string) => row(id).querySelector<HTMLElement>(`[data-test="${test}"]`)

beforeEach(() => {
  vi.useFakeTimers({ now: NOW })
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listCustomerExportsApi).mockReset()
  vi.mocked(deleteCustomerExportApi).mockReset()
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  root?.remove()
  document.body.innerHTML = ''
  vi.useRealTimers()
})

describe('the exports dialog', () => {
  it('shows the progress of a running export, polls it, then offers its file with its size and expiry', async () => {
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([exp()]))
    mount()
    await openDialog()
    expect(listCustomerExportsApi).toHaveBeenLastCalledWith(1, 10)
    expect(q('export-dialog')).not.toBeNull()
    expect(text(inRow(7, 'export-filename'))).toBe('customers-20261126-2130.xlsx')
    expect(text(inRow(7, 'export-kind'))).toBe('Excel · 按客户')
    expect(text(inRow(7, 'export-created'))).toBe(formatDateTime(NOW - 60_000))
    expect(text(inRow(7, 'export-state'))).toBe('生成中')
    expect(inRow(7, 'export-progress')!.getAttribute('aria-valuenow')).toBe('32')
    expect(text(inRow(7, 'export-count'))).toBe('已写入 4,000 / 12,345 行')
    expect(inRow(7, 'export-download')).toBeNull()
    expect(text(inRow(7, 'export-delete'))).toBe('取消导出')

    // asked again every 1.5 s while it runs, without the loading mask
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([exp({ done: 12_000 })]))
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS - 1)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    await settle()
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(2)
    expect(inRow(7, 'export-progress')!.getAttribute('aria-valuenow')).toBe('97')
    expect(document.body.querySelector('[data-test="export-dialog"] .el-loading-mask')).toBeNull()

    const done = exp({ state: 'succeeded', done: 12_345, bytes: 1_572_864, finished_at: NOW })
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([done]))
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS)
    await settle()
    expect(text(inRow(7, 'export-state'))).toBe('已完成')
    expect(inRow(7, 'export-progress')).toBeNull()
    expect(text(inRow(7, 'export-size'))).toBe('12,345 行 · 1.5 MB')
    expect(text(inRow(7, 'export-expiry'))).toBe(`保留至 ${formatDateTime(done.expires_at)}`)
    const link = inRow(7, 'export-download') as HTMLAnchorElement
    expect(link.tagName).toBe('A')
    expect(link.getAttribute('href')).toBe('/api/v1/scrm/customer-exports/7/file')
    expect(link.hasAttribute('download')).toBe(true)
    expect(text(link)).toBe('下载')
    expect(text(inRow(7, 'export-delete'))).toBe('删除')
    // nothing is going: no more polls
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS * 5)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(3)
  })

  it('says why an export failed, and shows a queued one without counts', async () => {
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([
      exp({ id: 9, state: 'queued', total: 0, done: 0, mode: 'relationship', format: 'csv', filename: 'relationships.csv' }),
      exp({ id: 8, state: 'failed', last_error_reason: 'database_busy', finished_at: NOW }),
      exp({ id: 6, state: 'cancelled', finished_at: NOW }),
    ]))
    mount()
    await openDialog()
    expect(text(inRow(9, 'export-kind'))).toBe('CSV · 按跟进关系')
    expect(text(inRow(9, 'export-state'))).toBe('排队中')
    expect(inRow(9, 'export-progress')!.getAttribute('aria-valuenow')).toBe('0')
    expect(text(inRow(9, 'export-count'))).toBe('等待开始')
    expect(text(inRow(8, 'export-state'))).toBe('失败')
    expect(text(inRow(8, 'export-error-reason'))).toMatch(/^导出失败：/)
    expect(text(inRow(8, 'export-error-reason'))).not.toContain('database_busy')
    expect(inRow(8, 'export-download')).toBeNull()
    expect(text(inRow(6, 'export-state'))).toBe('已取消')
    expect(inRow(6, 'export-download')).toBeNull()
  })

  it('shows an export just started at once, before the list comes', async () => {
    let answer!: (p: ExportsApi.Page) => void
    vi.mocked(listCustomerExportsApi).mockReturnValue(new Promise((r) => (answer = r)))
    mount()
    await openDialog(exp({ id: 12, state: 'queued', total: 0, done: 0 }))
    expect(text(inRow(12, 'export-state'))).toBe('排队中')
    answer(pageOf([exp({ id: 12, state: 'running', total: 100, done: 10 }), exp({ id: 11, state: 'succeeded' })]))
    await settle()
    expect(all('export-row').map((r) => r.dataset.id)).toEqual(['12', '11'])
    expect(text(inRow(12, 'export-state'))).toBe('生成中')
  })

  it('tells when there is none yet', async () => {
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([]))
    mount()
    await openDialog()
    expect(text(q('export-empty'))).toContain('还没有导出记录')
  })

  it('deletes an export only after asking, and cancels a running one the same way', async () => {
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([exp({ id: 7 }), exp({ id: 5, state: 'succeeded', filename: 'a.csv' })]))
    mount()
    await openDialog()

    // asked, and kept
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    inRow(5, 'export-delete')!.click()
    await settle()
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe('确定删除导出文件「a.csv」吗？删除后无法再下载。')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][2]).toMatchObject({ confirmButtonText: '删除' })
    expect(deleteCustomerExportApi).not.toHaveBeenCalled()

    // confirmed: deleted, and the page asked for again
    vi.mocked(deleteCustomerExportApi).mockResolvedValueOnce(undefined)
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([exp({ id: 7 })]))
    const listed = vi.mocked(listCustomerExportsApi).mock.calls.length
    inRow(5, 'export-delete')!.click()
    await settle()
    expect(deleteCustomerExportApi).toHaveBeenCalledWith(5)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(listed + 1)
    expect(all('export-row').map((r) => r.dataset.id)).toEqual(['7'])

    // a running one is cancelled, with its own words
    vi.mocked(deleteCustomerExportApi).mockRejectedValueOnce(new ApiError(404, 'export_not_found', 'x'))
    inRow(7, 'export-delete')!.click()
    await settle()
    expect(vi.mocked(ElMessageBox.confirm).mock.lastCall?.[0]).toBe('确定取消导出「customers-20261126-2130.xlsx」吗？已生成的部分会被丢弃。')
    expect(vi.mocked(ElMessageBox.confirm).mock.lastCall?.[2]).toMatchObject({ confirmButtonText: '取消导出' })
    expect(deleteCustomerExportApi).toHaveBeenLastCalledWith(7)
    expect(text(q('export-action-error'))).toBe('导出记录不存在，或已过期被删除')
  })

  it('stops polling when closed, and for good when unmounted', async () => {
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([exp()]))
    mount()
    await openDialog()
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(2)
    q('export-close')!.click()
    await settle()
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS * 5)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(2)

    // opened again: asked at once, then polled
    await openDialog()
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(3)
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(4)

    // a poll under way when the page goes: its answer is ignored, and nothing more is asked
    let answer!: (p: ExportsApi.Page) => void
    vi.mocked(listCustomerExportsApi).mockReturnValueOnce(new Promise((r) => (answer = r)))
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(5)
    app!.unmount()
    app = null
    answer(pageOf([exp()]))
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS * 5)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(5)
  })

  it('closes with its × too', async () => {
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([exp()]))
    mount()
    await openDialog()
    document.body.querySelector<HTMLElement>('[data-test="export-dialog"] .el-dialog__headerbtn')!.click()
    // Element Plus closes the dialog on a timer
    await vi.advanceTimersByTimeAsync(100)
    expect(exporter.visible.value).toBe(false)
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS * 3)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(1)
  })

  it('keeps polling after a failed poll and says so', async () => {
    vi.mocked(listCustomerExportsApi).mockResolvedValueOnce(pageOf([exp()]))
    mount()
    await openDialog()
    vi.mocked(listCustomerExportsApi).mockRejectedValueOnce(new ApiError(0, 'network', 'down'))
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS)
    await settle()
    expect(text(q('export-list-error'))).toBe('无法连接服务器，请检查网络后重试')
    vi.mocked(listCustomerExportsApi).mockResolvedValueOnce(pageOf([exp({ state: 'succeeded' })]))
    await vi.advanceTimersByTimeAsync(EXPORT_POLL_MS)
    await settle()
    expect(q('export-list-error')).toBeNull()
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(3)
  })

  it('is in English too', async () => {
    i18n.global.locale.value = 'en-US'
    vi.mocked(listCustomerExportsApi).mockResolvedValue(pageOf([exp(), exp({ id: 3, state: 'succeeded', bytes: 2048 })]))
    mount()
    await openDialog()
    expect(text(inRow(7, 'export-state'))).toBe('In progress')
    expect(text(inRow(7, 'export-count'))).toBe('4,000 / 12,345 rows written')
    expect(text(inRow(7, 'export-kind'))).toBe('Excel · By customer')
    expect(text(inRow(3, 'export-download'))).toBe('Download')
    expect(text(inRow(3, 'export-size'))).toBe('12,345 rows · 2 KB')
  })
})

describe('export helpers', () => {
  it('shows progress below 100 until the export succeeded', () => {
    expect(exportPercent(exp({ done: 0, total: 0, state: 'queued' }))).toBe(0)
    expect(exportPercent(exp({ done: 100, total: 100, state: 'running' }))).toBe(99)
    expect(exportPercent(exp({ done: 50, total: 100, state: 'failed' }))).toBe(50)
    expect(exportPercent(exp({ done: 0, total: 0, state: 'succeeded' }))).toBe(100)
  })

  it('offers the file only while it is kept', () => {
    expect(isExportDownloadable(exp({ state: 'succeeded' }), NOW)).toBe(true)
    expect(isExportDownloadable(exp({ state: 'succeeded' }), NOW + 8 * DAY)).toBe(false)
    expect(isExportDownloadable(exp({ state: 'running' }), NOW)).toBe(false)
  })

  it('knows what the server would refuse from the rows the list shows', () => {
    expect(exportProblem(null)).toBeNull()
    expect(exportProblem(0)).toBe('export_empty')
    expect(exportProblem(1_000_000)).toBeNull()
    expect(exportProblem(1_000_001)).toBe('export_too_large')
  })
})
