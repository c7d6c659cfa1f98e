import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { ApiError } from '@/api/request'
import { cancelBulkTagApi, getBulkTagApi, startBulkTagApi, type CustomersApi } from '@/api/customers'
import { i18n } from '@/locales'
import {
  BULK_POLL_MS, bulkPercent, bulkProblem, bulkProblemText, bulkReasonText, bulkWaitingText, isBulkActive, useBulkTag,
  type BulkTagOptions,
} from './use-bulk-tag'

vi.mock('@/api/customers', () => ({ startBulkTagApi: vi.fn(), getBulkTagApi: vi.fn(), cancelBulkTagApi: vi.fn() }))

function job(over: Partial<CustomersApi.BulkTagState> = {}): CustomersApi.BulkTagState {
  return {
    job_id: 41, state: 'queued', total: 120, succeeded: 0, failed: 0, last_error_reason: '', created_at: 1_700_000_000_000,
    finished_at: null, failures: [], failures_total: 0, ...over,
  }
}
const failure = (i: number): CustomersApi.BulkTagFailure =>
  ({ external_userid: `wm${i}`, customer_name: `客户${i}`, userid: 'zhangsan', employee_name: '张三', reason: 'wecom_no_relationship' })

/** A promise settled from outside, for answers that arrive late. */
function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

let selected: string[] = []
let filter: CustomersApi.BulkTagQuery = {}
let filterTotal: number | null = 30
function setup(over: Partial<BulkTagOptions> = {}) {
  const onFinished = vi.fn()
  const scope = effectScope()
  let b!: ReturnType<typeof useBulkTag>
  scope.run(() => (b = useBulkTag({ selected: () => selected, filter: () => filter, filterTotal: () => filterTotal, onFinished, ...over })))
  return { b, scope, onFinished }
}
const polls = () => vi.mocked(getBulkTagApi).mock.calls.length

beforeEach(() => {
  vi.useFakeTimers()
  i18n.global.locale.value = 'zh-CN'
  selected = []
  filter = {}
  filterTotal = 30
  vi.mocked(startBulkTagApi).mockReset()
  vi.mocked(getBulkTagApi).mockReset()
  vi.mocked(cancelBulkTagApi).mockReset()
})
afterEach(() => vi.useRealTimers())

describe('bulk tagging, pure parts', () => {
  it('is active while queued or running', () => {
    expect(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((state) => isBulkActive({ state } as CustomersApi.BulkTagState)))
      .toEqual([true, true, false, false, false])
    expect(isBulkActive(null)).toBe(false)
  })

  it('counts succeeded and failed against the total, 100 only when finished', () => {
    expect(bulkPercent(job({ state: 'running', succeeded: 30, failed: 6 }))).toBe(30)
    expect(bulkPercent(job({ state: 'running', total: 3, succeeded: 1 }))).toBe(33)
    expect(bulkPercent(job({ state: 'running', succeeded: 119, failed: 1 }))).toBe(99)
    expect(bulkPercent(job({ state: 'succeeded', succeeded: 100, failed: 20 }))).toBe(100)
    expect(bulkPercent(job({ state: 'failed', succeeded: 60 }))).toBe(50)
    expect(bulkPercent(job({ total: 0 }))).toBe(0)
    expect(bulkPercent(null)).toBe(0)
  })

  it('says a failure in the user language, or as it is when there is no text for it', () => {
    expect(bulkReasonText('wecom_no_relationship')).toBe('企业微信中该员工已不是这位客户的联系人')
    expect(bulkReasonText('wecom_something_new')).toBe('wecom_something_new')
    expect(bulkReasonText('')).toBe('')
    i18n.global.locale.value = 'en-US'
    expect(bulkReasonText('wecom_invalid_tag_id')).toContain('The tag no longer exists in WeCom')
  })

  it('says why a running job waits, and nothing once it ended', () => {
    expect(bulkWaitingText(job({ state: 'running', last_error_reason: 'wecom_rate_limited' }))).toBe('企业微信限流，稍后自动继续')
    expect(bulkWaitingText(job({ state: 'queued', last_error_reason: 'job_interrupted' }))).toBe('服务重启，稍后从中断处自动继续')
    expect(bulkWaitingText(job({ state: 'running', last_error_reason: 'outbound_failed' })))
      .toBe('暂时无法继续（无法连接企业微信：请检查服务器能否访问外网（qyapi.weixin.qq.com）），稍后自动重试')
    expect(bulkWaitingText(job({ state: 'running' }))).toBe('')
    expect(bulkWaitingText(job({ state: 'failed', last_error_reason: 'wecom_rate_limited' }))).toBe('')
    i18n.global.locale.value = 'en-US'
    expect(bulkWaitingText(job({ state: 'running', last_error_reason: 'wecom_concurrency_limited' }))).toBe('WeCom rate limit, continuing shortly')
  })

  it('checks the choice as the server would', () => {
    const base = { target: 'selected' as const, add: ['t1'], remove: [], selected: 3 }
    expect(bulkProblem(base)).toBeNull()
    expect(bulkProblem({ ...base, add: [] })).toBe('bulk_no_tags')
    expect(bulkProblem({ ...base, remove: ['t1'] })).toBe('bulk_tag_conflict')
    expect(bulkProblem({ ...base, add: Array.from({ length: 60 }, (_, i) => `a${i}`), remove: Array.from({ length: 41 }, (_, i) => `r${i}`) }))
      .toBe('too_many_tags')
    expect(bulkProblem({ ...base, selected: 0 })).toBe('bulk_no_selection')
    expect(bulkProblem({ ...base, selected: 1001 })).toBe('bulk_too_many_targets')
    expect(bulkProblem({ ...base, selected: 1000 })).toBeNull()
    const all = { ...base, target: 'filter' as const, selected: 0 }
    expect(bulkProblem(all)).toBeNull()
    expect(bulkProblem({ ...all, status: 'active', filterTotal: 5 })).toBeNull()
    expect(bulkProblem({ ...all, status: 'lost' })).toBe('bulk_target_empty')
    expect(bulkProblem({ ...all, filterTotal: 0 })).toBe('bulk_target_empty')
  })

  it('says a problem in the user language', () => {
    expect(bulkProblemText('bulk_no_tags')).toBe('请选择要添加或移除的标签')
    expect(bulkProblemText('bulk_too_many_targets')).toContain('一次最多勾选 1000 位客户')
    expect(bulkProblemText('bulk_target_empty')).toBe('没有可打标签的客户：符合条件的客户都没有进行中的跟进关系')
    expect(bulkProblemText('too_many_tags')).toBe('一次最多处理 100 个标签')
    i18n.global.locale.value = 'en-US'
    expect(bulkProblemText('bulk_tag_conflict')).toBe('A tag cannot be both added and removed')
  })
})

describe('useBulkTag', () => {
  it('opens on the ticked customers when there are some, else on the filter', () => {
    const { b } = setup()
    b.open()
    expect(b.form.open).toBe(true)
    expect(b.form.target).toBe('filter')
    b.close()
    selected = ['wmA']
    b.open()
    expect(b.form.target).toBe('selected')
  })

  it('tags the ticked customers, polls every second until done, then reports once', async () => {
    selected = ['wmA', 'wmB', 'wmA']
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job())
    vi.mocked(getBulkTagApi)
      .mockResolvedValueOnce(job({ state: 'running', succeeded: 40 }))
      .mockResolvedValueOnce(job({ state: 'running', succeeded: 90, failed: 2, failures_total: 2 }))
      .mockResolvedValueOnce(job({ state: 'succeeded', succeeded: 117, failed: 3, failures_total: 3, failures: [failure(1)], finished_at: 2 }))
    const { b, onFinished } = setup()
    b.open()
    b.form.add = ['t1', 't2']
    b.form.remove = ['t3']
    const started = await b.start()
    expect(started?.job_id).toBe(41)
    expect(startBulkTagApi).toHaveBeenCalledWith({}, { external_userids: ['wmA', 'wmB'], add: ['t1', 't2'], remove: ['t3'] })
    expect(b.job.value?.total).toBe(120)
    expect(b.active.value).toBe(true)
    expect(b.polling.value).toBe(true)

    await vi.advanceTimersByTimeAsync(BULK_POLL_MS - 1)
    expect(polls()).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(getBulkTagApi).toHaveBeenLastCalledWith(41, 1, 10)
    expect(b.percent.value).toBe(33)
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(b.percent.value).toBe(76)
    expect(onFinished).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(b.job.value?.state).toBe('succeeded')
    expect(b.percent.value).toBe(100)
    expect(b.active.value).toBe(false)
    expect(b.polling.value).toBe(false)
    expect(onFinished).toHaveBeenCalledTimes(1)
    expect(onFinished.mock.calls[0][0].failed).toBe(3)

    await vi.advanceTimersByTimeAsync(10 * BULK_POLL_MS)
    expect(polls()).toBe(3)
    // Another page of failures: asked for at once, not reported as finished again.
    vi.mocked(getBulkTagApi).mockResolvedValueOnce(job({ state: 'succeeded', succeeded: 117, failed: 3, failures_total: 3, failures: [failure(2)] }))
    await b.setPage(2)
    expect(getBulkTagApi).toHaveBeenLastCalledWith(41, 2, 10)
    expect(b.job.value?.failures[0].external_userid).toBe('wm2')
    expect(b.page.value).toBe(2)
    expect(onFinished).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(10 * BULK_POLL_MS)
    expect(polls()).toBe(4)
  })

  it('tags everyone matching the filter with the list query', async () => {
    filter = { q: '王', tag: 'et1,et2', status: 'active', mode: 'relationship' }
    selected = ['wmA']
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job())
    const { b } = setup()
    b.open()
    b.form.target = 'filter'
    b.form.remove = ['t3']
    await b.start()
    expect(startBulkTagApi).toHaveBeenCalledWith(filter, { add: [], remove: ['t3'] })
  })

  it('starts the job another way when told to (a segment), and follows it the same way', async () => {
    const startJob = vi.fn().mockResolvedValueOnce(job({ total: 9 }))
    vi.mocked(getBulkTagApi).mockResolvedValueOnce(job({ state: 'succeeded', total: 9, succeeded: 9 }))
    filterTotal = 9
    const { b, onFinished } = setup({ selected: () => [], filter: () => ({}), startJob })
    b.open()
    expect(b.form.target).toBe('filter')
    b.form.add = ['t1', 't1']
    b.form.remove = ['t2']
    expect((await b.start())?.total).toBe(9)
    expect(startJob).toHaveBeenCalledWith({ add: ['t1'], remove: ['t2'] })
    expect(startBulkTagApi).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(getBulkTagApi).toHaveBeenLastCalledWith(41, 1, 10)
    expect(onFinished).toHaveBeenCalledTimes(1)

    // an empty segment has nothing to tag: refused before asking
    filterTotal = 0
    const empty = setup({ selected: () => [], filter: () => ({}), startJob })
    empty.b.open()
    empty.b.form.add = ['t1']
    expect(await empty.b.start()).toBeNull()
    expect(empty.b.formError.value).toBe('没有可打标签的客户：符合条件的客户都没有进行中的跟进关系')
    expect(startJob).toHaveBeenCalledTimes(1)
  })

  it('refuses a choice the server would refuse, without asking', async () => {
    const { b } = setup()
    b.open()
    expect(await b.start()).toBeNull()
    expect(b.formError.value).toBe('请选择要添加或移除的标签')
    b.form.add = ['t1']
    b.form.target = 'selected'
    expect(b.validate()).toBe(false)
    expect(b.formError.value).toBe('请先在列表中勾选客户')
    b.form.target = 'filter'
    filter = { status: 'deleted_by_customer' }
    expect(await b.start()).toBeNull()
    expect(b.formError.value).toBe('没有可打标签的客户：符合条件的客户都没有进行中的跟进关系')
    filter = {}
    expect(b.validate()).toBe(true)
    expect(b.formError.value).toBe('')
    expect(startBulkTagApi).not.toHaveBeenCalled()
  })

  it('keeps the dialog on the choice with the server refusal', async () => {
    vi.mocked(startBulkTagApi).mockRejectedValueOnce(new ApiError(400, 'bulk_target_empty', 'x'))
    const { b } = setup()
    b.open()
    b.form.add = ['t1']
    expect(await b.start()).toBeNull()
    expect(b.formError.value).toBe('没有可打标签的客户：符合条件的客户都没有进行中的跟进关系')
    expect(b.job.value).toBeNull()
    expect(b.starting.value).toBe(false)
    expect(b.polling.value).toBe(false)
  })

  it('stops polling when the dialog closes, and shows the unfinished job again when it opens', async () => {
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job())
    vi.mocked(getBulkTagApi).mockResolvedValue(job({ state: 'running', succeeded: 10 }))
    const { b, onFinished } = setup()
    b.open()
    b.form.add = ['t1']
    await b.start()
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(polls()).toBe(1)
    b.close()
    await nextTick()
    expect(b.polling.value).toBe(false)
    await vi.advanceTimersByTimeAsync(10 * BULK_POLL_MS)
    expect(polls()).toBe(1)

    vi.mocked(getBulkTagApi).mockResolvedValue(job({ state: 'running', succeeded: 60, last_error_reason: 'wecom_rate_limited' }))
    b.open()
    expect(b.job.value?.job_id).toBe(41) // the job, not a new choice
    await vi.advanceTimersByTimeAsync(0)
    expect(polls()).toBe(2)
    expect(b.waiting.value).toBe('企业微信限流，稍后自动继续')
    vi.mocked(getBulkTagApi).mockResolvedValue(job({ state: 'succeeded', succeeded: 120 }))
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(polls()).toBe(3)
    expect(onFinished).toHaveBeenCalledTimes(1)
    expect(b.waiting.value).toBe('')

    // A finished job is not shown again: the next opening is a new choice.
    b.close()
    b.open()
    expect(b.job.value).toBeNull()
    expect(b.form.add).toEqual([])
  })

  it('keeps only the latest answer', async () => {
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job({ state: 'succeeded', succeeded: 100, failed: 20, failures_total: 20 }))
    const { b } = setup()
    b.open()
    b.form.add = ['t1']
    await b.start()
    const slow = deferred<CustomersApi.BulkTagState>()
    vi.mocked(getBulkTagApi).mockReturnValueOnce(slow.promise)
    void b.setPage(2)
    vi.mocked(getBulkTagApi).mockResolvedValueOnce(job({ state: 'succeeded', succeeded: 100, failed: 20, failures_total: 20, failures: [failure(3)] }))
    await b.setPage(3)
    slow.resolve(job({ state: 'succeeded', failures: [failure(2)] }))
    await vi.advanceTimersByTimeAsync(0)
    expect(b.job.value?.failures[0].external_userid).toBe('wm3')
    expect(b.page.value).toBe(3)

    // An answer arriving after the dialog closed is dropped too.
    const late = deferred<CustomersApi.BulkTagState>()
    vi.mocked(getBulkTagApi).mockReturnValueOnce(late.promise)
    void b.refresh()
    expect(b.loading.value).toBe(true)
    b.close()
    await nextTick()
    expect(b.loading.value).toBe(false)
    late.resolve(job({ state: 'succeeded', failures: [] }))
    await vi.advanceTimersByTimeAsync(0)
    expect(b.job.value?.failures[0].external_userid).toBe('wm3')
  })

  it('goes on polling after a failed request, but not for a job that is not there', async () => {
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job())
    vi.mocked(getBulkTagApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    const { b } = setup()
    b.open()
    b.form.add = ['t1']
    await b.start()
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(b.error.value).toBe('无法连接服务器，请检查网络后重试')
    expect(b.polling.value).toBe(true)
    vi.mocked(getBulkTagApi).mockRejectedValueOnce(new ApiError(404, 'bulk_job_not_found', 'x'))
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(b.error.value).toBe('批量打标签任务不存在，或不是你发起的')
    expect(b.polling.value).toBe(false)
    await vi.advanceTimersByTimeAsync(10 * BULK_POLL_MS)
    expect(polls()).toBe(2)
  })

  it('stops for good when its scope ends', async () => {
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job())
    vi.mocked(getBulkTagApi).mockResolvedValue(job({ state: 'running' }))
    const { b, scope } = setup()
    b.open()
    b.form.add = ['t1']
    await b.start()
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(polls()).toBe(1)
    scope.stop()
    await vi.advanceTimersByTimeAsync(10 * BULK_POLL_MS)
    expect(polls()).toBe(1)
    expect(b.polling.value).toBe(false)
  })

  it('does not start twice while the first start is under way', async () => {
    const slow = deferred<CustomersApi.BulkTagState>()
    vi.mocked(startBulkTagApi).mockReturnValueOnce(slow.promise)
    const { b } = setup()
    b.open()
    b.form.add = ['t1']
    const first = b.start()
    expect(b.starting.value).toBe(true)
    expect(await b.start()).toBeNull()
    slow.resolve(job())
    expect((await first)?.job_id).toBe(41)
    expect(startBulkTagApi).toHaveBeenCalledTimes(1)
  })

  it('cancels a queued job, then shows it cancelled with the page of failures and stops polling', async () => {
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job())
    vi.mocked(cancelBulkTagApi).mockResolvedValueOnce(job({ state: 'cancelled', finished_at: 2 }))
    vi.mocked(getBulkTagApi).mockResolvedValueOnce(job({ state: 'cancelled', finished_at: 2 }))
    const { b, onFinished } = setup()
    b.open()
    b.form.add = ['t1']
    await b.start()
    expect(b.polling.value).toBe(true)
    const cancelled = await b.cancel()
    expect(cancelled?.state).toBe('cancelled')
    expect(cancelBulkTagApi).toHaveBeenCalledWith(41)
    // asked for again, for the page of failures shown
    expect(getBulkTagApi).toHaveBeenLastCalledWith(41, 1, 10)
    expect(b.job.value?.state).toBe('cancelled')
    expect(b.active.value).toBe(false)
    expect(b.stopping.value).toBe(false)
    expect(b.cancelling.value).toBe(false)
    expect(b.cancelError.value).toBe('')
    expect(onFinished).toHaveBeenCalledTimes(1)
    expect(b.polling.value).toBe(false)
    await vi.advanceTimersByTimeAsync(10 * BULK_POLL_MS)
    expect(polls()).toBe(1)
    // an ended job is not cancelled again
    expect(await b.cancel()).toBeNull()
    expect(cancelBulkTagApi).toHaveBeenCalledTimes(1)
  })

  it('keeps polling a running job until it has stopped', async () => {
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job({ state: 'running', succeeded: 10 }))
    vi.mocked(cancelBulkTagApi).mockResolvedValueOnce(job({ state: 'running', succeeded: 11 }))
    vi.mocked(getBulkTagApi)
      .mockResolvedValueOnce(job({ state: 'running', succeeded: 11 }))
      .mockResolvedValueOnce(job({ state: 'cancelled', succeeded: 12, finished_at: 2 }))
    const { b, onFinished } = setup()
    b.open()
    b.form.add = ['t1']
    await b.start()
    await b.cancel()
    expect(b.active.value).toBe(true)
    expect(b.stopping.value).toBe(true)
    expect(b.polling.value).toBe(true)
    expect(onFinished).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(b.job.value?.state).toBe('cancelled')
    expect(b.job.value?.succeeded).toBe(12)
    expect(b.stopping.value).toBe(false)
    expect(b.polling.value).toBe(false)
    expect(onFinished).toHaveBeenCalledTimes(1)
  })

  it('says why a cancellation failed, and shows the job as it is now', async () => {
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job({ state: 'running' }))
    vi.mocked(cancelBulkTagApi).mockRejectedValueOnce(new ApiError(422, 'job_finished', 'x'))
    vi.mocked(getBulkTagApi).mockResolvedValueOnce(job({ state: 'succeeded', succeeded: 120, finished_at: 2 }))
    const { b } = setup()
    b.open()
    b.form.add = ['t1']
    await b.start()
    expect(await b.cancel()).toBeNull()
    expect(b.cancelError.value).toBe('任务已经结束')
    expect(b.job.value?.state).toBe('succeeded')
    expect(b.stopping.value).toBe(false)
    expect(b.polling.value).toBe(false)
  })

  it('ignores a progress answer that was under way when the cancellation was asked for', async () => {
    const slow = deferred<CustomersApi.BulkTagState>()
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(job())
    vi.mocked(getBulkTagApi).mockReturnValueOnce(slow.promise).mockResolvedValueOnce(job({ state: 'cancelled', finished_at: 2 }))
    vi.mocked(cancelBulkTagApi).mockResolvedValueOnce(job({ state: 'cancelled', finished_at: 2 }))
    const { b } = setup()
    b.open()
    b.form.add = ['t1']
    await b.start()
    await vi.advanceTimersByTimeAsync(BULK_POLL_MS)
    expect(polls()).toBe(1)
    await b.cancel()
    slow.resolve(job({ state: 'running', succeeded: 5 }))
    await nextTick()
    expect(b.job.value?.state).toBe('cancelled')
  })
})
