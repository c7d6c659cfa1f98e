import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/request'
import { getCapacityApi, setCorpVerifiedApi, type CustomersApi } from '@/api/customers'
import { i18n } from '@/locales'
import { capacityPercent, capacityStatus, capacityWarns, useCapacity } from './use-capacity'

vi.mock('@/api/customers', () => ({ getCapacityApi: vi.fn(), setCorpVerifiedApi: vi.fn() }))

const capacity = (over: Partial<CustomersApi.Capacity> = {}): CustomersApi.Capacity => ({
  customers: 170, corp_verified: false, limit: 200, level: 'warning', member_limit: 20000, busy_employees: [],
  rule_pack: 'wecom-2025', ...over,
})

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getCapacityApi).mockReset().mockResolvedValue(capacity())
  vi.mocked(setCorpVerifiedApi).mockReset()
})

describe('the capacity rules', () => {
  it('says how full the corp is, in whole percent up to 100', () => {
    expect(capacityPercent({ customers: 170, limit: 200 })).toBe(85)
    expect(capacityPercent({ customers: 199, limit: 200 })).toBe(99)
    expect(capacityPercent({ customers: 260, limit: 200 })).toBe(100)
    expect(capacityPercent({ customers: 5, limit: 0 })).toBe(0)
  })

  it('colours and warns by level', () => {
    expect(capacityStatus('ok')).toBe('')
    expect(capacityStatus('warning')).toBe('warning')
    expect(capacityStatus('critical')).toBe('exception')
    expect(capacityWarns('ok')).toBe(false)
    expect(capacityWarns('warning')).toBe(true)
    expect(capacityWarns('critical')).toBe(true)
  })
})

describe('useCapacity', () => {
  it('loads the capacity', async () => {
    const c = useCapacity()
    await c.load()
    expect(c.data.value?.customers).toBe(170)
    expect(c.percent.value).toBe(85)
    expect(c.warns.value).toBe(true)
  })

  it('shows a failed load in the user language', async () => {
    vi.mocked(getCapacityApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    const c = useCapacity()
    await c.load()
    expect(c.error.value).toBe('无法连接服务器，请检查网络后重试')
    expect(c.data.value).toBeNull()
  })

  it('states the corp verified and shows the capacity the server answers', async () => {
    const c = useCapacity()
    await c.load()
    vi.mocked(setCorpVerifiedApi).mockResolvedValueOnce(capacity({ corp_verified: true, limit: 50000, level: 'ok' }))
    expect(await c.setVerified(true)).toBe(true)
    expect(setCorpVerifiedApi).toHaveBeenCalledWith(true)
    expect(c.data.value).toMatchObject({ corp_verified: true, limit: 50000 })
    expect(c.warns.value).toBe(false)

    vi.mocked(setCorpVerifiedApi).mockRejectedValueOnce(new ApiError(422, 'wecom_not_linked', 'x'))
    expect(await c.setVerified(false)).toBe(false)
    expect(c.saveError.value).not.toBe('')
    expect(c.data.value?.corp_verified).toBe(true)
  })
})
