import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/request'
import { getScrmOverviewApi } from '@/api/apps'
import { bindEmployeeApi, listBindingsApi, unbindEmployeeApi, type CustomersApi } from '@/api/customers'
import { i18n } from '@/locales'
import { useBindings } from './use-bindings'

vi.mock('@/api/apps', () => ({ getScrmOverviewApi: vi.fn() }))
vi.mock('@/api/customers', () => ({ listBindingsApi: vi.fn(), bindEmployeeApi: vi.fn(), unbindEmployeeApi: vi.fn() }))
const toast = vi.hoisted(() => vi.fn())
vi.mock('element-plus', () => ({ ElMessage: { error: toast } }))

function binding(accountId: number, over: Partial<CustomersApi.Binding> = {}): CustomersApi.Binding {
  return { account_id: accountId, userid: `user${accountId}`, employee_name: `员工${accountId}`, data_scope: 'own', bound_at: 1, ...over }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listBindingsApi).mockReset().mockResolvedValue({ items: [binding(2)] })
  vi.mocked(bindEmployeeApi).mockReset()
  vi.mocked(getScrmOverviewApi).mockReset().mockResolvedValue({ app: 'scrm', activated_at: 1, wecom_authorized: true, corp_name: '锦鲤' })
  vi.mocked(unbindEmployeeApi).mockReset()
  toast.mockReset()
})

describe('useBindings', () => {
  it('asks for the accounts of the page shown and indexes the answer by account', async () => {
    const b = useBindings()
    await b.load([1, 2, 3])
    expect(listBindingsApi).toHaveBeenCalledWith([1, 2, 3])
    expect(b.bindingOf(2)?.employee_name).toBe('员工2')
    expect(b.bindingOf(1)).toBeNull()
    await b.load([])
    expect(listBindingsApi).toHaveBeenCalledTimes(1)
    expect(b.bindingOf(2)).toBeNull()
  })

  it('is available once the corp is known to be linked', async () => {
    const b = useBindings()
    expect(b.available.value).toBe(false)
    await b.checkLink()
    expect(b.available.value).toBe(true)
    vi.mocked(getScrmOverviewApi).mockResolvedValueOnce({ app: 'scrm', activated_at: 1, wecom_authorized: false, corp_name: '' })
    const unlinked = useBindings()
    await unlinked.checkLink()
    expect(unlinked.linked.value).toBe(false)
    expect(unlinked.available.value).toBe(false)
    vi.mocked(getScrmOverviewApi).mockRejectedValueOnce(new ApiError(403, 'app_not_activated', 'x'))
    const inactive = useBindings()
    await inactive.checkLink()
    expect(inactive.available.value).toBe(false)
  })

  it('is unavailable (the column hides) when SCRM is not activated or WeCom not linked; other failures are shown', async () => {
    const b = useBindings()
    await b.checkLink()
    vi.mocked(listBindingsApi).mockRejectedValueOnce(new ApiError(403, 'app_not_activated', 'x'))
    await b.load([1])
    expect(b.available.value).toBe(false)
    expect(b.error.value).toBe('')
    vi.mocked(listBindingsApi).mockRejectedValueOnce(new ApiError(422, 'wecom_not_linked', 'x'))
    await b.load([1])
    expect(b.available.value).toBe(false)
    await b.load([2])
    expect(b.available.value).toBe(true)
    vi.mocked(listBindingsApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    await b.load([2])
    expect(b.available.value).toBe(true)
    expect(b.error.value).toBe('无法连接服务器，请检查网络后重试')
  })

  it('keeps only the answer for the latest page', async () => {
    let releaseSlow!: (v: { items: CustomersApi.Binding[] }) => void
    vi.mocked(listBindingsApi)
      .mockImplementationOnce(() => new Promise((r) => (releaseSlow = r)))
      .mockResolvedValueOnce({ items: [binding(5)] })
    const b = useBindings()
    const slow = b.load([1, 2])
    await b.load([5])
    releaseSlow({ items: [binding(2)] })
    await slow
    expect(b.bindingOf(5)).not.toBeNull()
    expect(b.bindingOf(2)).toBeNull()
    expect(b.loading.value).toBe(false)
  })

  it('binds and shows the new binding in the row; a refusal stays in the dialog', async () => {
    const b = useBindings()
    await b.load([2, 3])
    vi.mocked(bindEmployeeApi).mockResolvedValueOnce(binding(3, { userid: 'lisi', employee_name: '李四', data_scope: 'department' }))
    expect((await b.bind(3, 'lisi', 'department'))?.employee_name).toBe('李四')
    expect(bindEmployeeApi).toHaveBeenCalledWith(3, 'lisi', 'department')
    expect(b.bindingOf(3)?.data_scope).toBe('department')
    vi.mocked(bindEmployeeApi).mockRejectedValueOnce(new ApiError(409, 'employee_already_bound', 'x'))
    expect(await b.bind(2, 'lisi', 'own')).toBeNull()
    expect(b.bindError.value).toBe('该企业微信成员已绑定了其他账号')
    expect(b.bindingOf(2)?.userid).toBe('user2')
    expect(b.binding.value).toBe(false)
  })

  it('unbinds; a binding already gone counts as unbound; other failures are toasted and keep the row', async () => {
    const b = useBindings()
    vi.mocked(listBindingsApi).mockResolvedValueOnce({ items: [binding(2), binding(3), binding(4)] })
    await b.load([2, 3, 4])
    vi.mocked(unbindEmployeeApi).mockResolvedValueOnce({ account_id: 2 })
    expect(await b.unbind(2)).toBe(true)
    expect(b.bindingOf(2)).toBeNull()
    vi.mocked(unbindEmployeeApi).mockRejectedValueOnce(new ApiError(404, 'binding_not_found', 'x'))
    expect(await b.unbind(3)).toBe(true)
    expect(b.bindingOf(3)).toBeNull()
    vi.mocked(unbindEmployeeApi).mockRejectedValueOnce(new ApiError(403, 'admin_only', 'x'))
    expect(await b.unbind(4)).toBe(false)
    expect(toast).toHaveBeenCalledWith('仅团队管理员可以执行此操作')
    expect(b.bindingOf(4)).not.toBeNull()
    expect(b.isBusy(4)).toBe(false)
  })
})
