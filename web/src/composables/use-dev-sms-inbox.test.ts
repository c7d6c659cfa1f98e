import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { ApiError } from '@/api/request'
import { getDevSmsInboxApi } from '@/api/auth'
import { devInboxAvailable, forgetDevInboxAvailability, newestFirst, useDevSmsInbox } from './use-dev-sms-inbox'

vi.mock('@/api/auth', () => ({ getDevSmsInboxApi: vi.fn() }))

const sms = (id: number, phone: string, created_at: number) => ({ id, phone, text: `code ${id}`, created_at })

beforeEach(() => {
  vi.useFakeTimers()
  forgetDevInboxAvailability()
  vi.mocked(getDevSmsInboxApi).mockReset().mockResolvedValue({ items: [sms(1, '13800000001', 10), sms(2, '13900000002', 20)] })
})
afterEach(() => vi.useRealTimers())

describe('dev SMS inbox', () => {
  it('lists newest first and refreshes every 3 s until the page goes away', async () => {
    const scope = effectScope()
    let inbox!: ReturnType<typeof useDevSmsInbox>
    scope.run(() => (inbox = useDevSmsInbox({ autoRefreshMs: 3000 })))
    await inbox.load()
    expect(inbox.items.value.map((m) => m.id)).toEqual([2, 1])
    expect(getDevSmsInboxApi).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(3000)
    expect(getDevSmsInboxApi).toHaveBeenCalledTimes(2)
    scope.stop()
    await vi.advanceTimersByTimeAsync(9000)
    expect(getDevSmsInboxApi).toHaveBeenCalledTimes(2)
  })

  it('filters by the digits typed, and on the server once the number is whole', async () => {
    let inbox!: ReturnType<typeof useDevSmsInbox>
    effectScope().run(() => (inbox = useDevSmsInbox()))
    await inbox.load()
    inbox.phone.value = '1380'
    await nextTick()
    expect(inbox.items.value.map((m) => m.id)).toEqual([1])
    expect(getDevSmsInboxApi).toHaveBeenCalledTimes(1)
    inbox.phone.value = '13800000001'
    await nextTick()
    expect(getDevSmsInboxApi).toHaveBeenLastCalledWith('13800000001')
  })

  it('knows when the server has no inbox', async () => {
    vi.mocked(getDevSmsInboxApi).mockRejectedValue(new ApiError(404, 'route_not_found', 'x'))
    let inbox!: ReturnType<typeof useDevSmsInbox>
    effectScope().run(() => (inbox = useDevSmsInbox()))
    await inbox.load()
    expect(inbox.available.value).toBe(false)
    expect(inbox.error.value).toBe('')
    expect(await devInboxAvailable()).toBe(false)
  })

  it('newestFirst breaks ties by id', () => {
    expect(newestFirst([sms(1, 'a', 5), sms(3, 'a', 5), sms(2, 'a', 9)]).map((m) => m.id)).toEqual([2, 3, 1])
  })
})
