import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { ApiError } from '@/api/request'
import { countSegmentApi, type SegmentsApi } from '@/api/segments'
import { i18n } from '@/locales'
import { COUNT_DEBOUNCE_MS, useSegmentCount } from './use-segment-count'

vi.mock('@/api/segments', () => ({ countSegmentApi: vi.fn() }))

const person = (i: number): SegmentsApi.SampleCustomer => ({ external_userid: `wm${i}`, name: `客户${i}`, corp_name: '', type: 1, gender: 1 })
const counted = (customers: number, sample: SegmentsApi.SampleCustomer[] = []): SegmentsApi.Count => ({ customers, sample, took_us: 120 })
const gender = (g: number): SegmentsApi.Rule => ({ op: 'and', children: [{ field: 'gender', values: [g] }] })

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

function setup(initial: SegmentsApi.Rule | null) {
  const rule = ref<SegmentsApi.Rule | null>(initial)
  const scope = effectScope()
  let c!: ReturnType<typeof useSegmentCount>
  scope.run(() => (c = useSegmentCount(() => rule.value)))
  return { c, rule, scope }
}
const calls = () => vi.mocked(countSegmentApi).mock.calls.length

beforeEach(() => {
  vi.useFakeTimers()
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(countSegmentApi).mockReset().mockResolvedValue(counted(3))
})
afterEach(() => vi.useRealTimers())

describe('useSegmentCount', () => {
  it('counts once the rule has stayed unchanged for 300 ms', async () => {
    vi.mocked(countSegmentApi).mockResolvedValueOnce(counted(42, [person(1), person(2)]))
    const { c } = setup(gender(1))
    expect(c.loading.value).toBe(true)
    expect(c.state.value).toBe('counting')
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS - 1)
    expect(calls()).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(countSegmentApi).toHaveBeenCalledWith({ rule: gender(1) })
    expect(c.customers.value).toBe(42)
    expect(c.sample.value.map((s) => s.external_userid)).toEqual(['wm1', 'wm2'])
    expect(c.tookUs.value).toBe(120)
    expect(c.loading.value).toBe(false)
    expect(c.state.value).toBe('counted')
  })

  it('waits for the typing to pause: quick changes are counted once, as they ended', async () => {
    const { c, rule } = setup(gender(0))
    await vi.advanceTimersByTimeAsync(200)
    rule.value = gender(1)
    await nextTick()
    await vi.advanceTimersByTimeAsync(200)
    rule.value = gender(2)
    await nextTick()
    await vi.advanceTimersByTimeAsync(299)
    expect(calls()).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls()).toBe(1)
    expect(countSegmentApi).toHaveBeenLastCalledWith({ rule: gender(2) })
    expect(c.state.value).toBe('counted')
    // the same rule again (e.g. a value picked and unpicked) is not asked again
    rule.value = gender(2)
    await nextTick()
    await vi.advanceTimersByTimeAsync(1000)
    expect(calls()).toBe(1)
  })

  it('keeps the newer count when an older answer arrives after it', async () => {
    const slow = deferred<SegmentsApi.Count>()
    vi.mocked(countSegmentApi).mockReturnValueOnce(slow.promise).mockResolvedValueOnce(counted(7))
    const { c, rule } = setup(gender(1))
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS)
    expect(calls()).toBe(1)
    rule.value = gender(2)
    await nextTick()
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS)
    expect(calls()).toBe(2)
    expect(c.customers.value).toBe(7)
    slow.resolve(counted(1000, [person(9)]))
    await vi.advanceTimersByTimeAsync(0)
    expect(c.customers.value).toBe(7)
    expect(c.sample.value).toEqual([])
    expect(c.loading.value).toBe(false)
  })

  it('sends nothing while the rule is unfinished, and drops an answer under way', async () => {
    const slow = deferred<SegmentsApi.Count>()
    vi.mocked(countSegmentApi).mockReturnValueOnce(slow.promise)
    const { c, rule } = setup(gender(1))
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS)
    rule.value = null
    await nextTick()
    expect(c.state.value).toBe('incomplete')
    expect(c.loading.value).toBe(false)
    slow.resolve(counted(5))
    await vi.advanceTimersByTimeAsync(10 * COUNT_DEBOUNCE_MS)
    expect(calls()).toBe(1)
    expect(c.customers.value).toBeNull()
    expect(c.state.value).toBe('incomplete')

    const fresh = setup(null)
    await vi.advanceTimersByTimeAsync(10 * COUNT_DEBOUNCE_MS)
    expect(calls()).toBe(1)
    expect(fresh.c.state.value).toBe('incomplete')
  })

  it('shows the server message of a refused rule with the path of its node, and keeps counting later edits', async () => {
    vi.mocked(countSegmentApi).mockRejectedValueOnce(
      new ApiError(400, 'invalid_segment_rule', 'rule.children[1].values[0]: no such corp tag'),
    )
    const { c, rule } = setup(gender(1))
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS)
    expect(c.state.value).toBe('failed')
    expect(c.ruleError.value).toBe('rule.children[1].values[0]: no such corp tag')
    expect(c.rulePath.value).toBe('rule.children[1].values[0]')
    expect(c.error.value).toBe('')
    expect(c.customers.value).toBeNull()

    vi.mocked(countSegmentApi).mockRejectedValueOnce(new ApiError(0, 'network', 'down'))
    rule.value = gender(2)
    await nextTick()
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS)
    expect(c.ruleError.value).toBe('')
    expect(c.rulePath.value).toBe('')
    expect(c.error.value).toBe('无法连接服务器，请检查网络后重试')

    await c.refresh()
    expect(calls()).toBe(3)
    expect(c.state.value).toBe('counted')
    expect(c.error.value).toBe('')
  })

  it('stops when its scope ends', async () => {
    const { scope } = setup(gender(1))
    scope.stop()
    await vi.advanceTimersByTimeAsync(10 * COUNT_DEBOUNCE_MS)
    expect(calls()).toBe(0)
  })
})
