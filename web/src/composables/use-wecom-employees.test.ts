import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '@/api/request'
import { getWecomStateApi, listWecomEmployeesApi, type WecomApi } from '@/api/wecom'
import { useWecomEmployees } from './use-wecom-employees'

vi.mock('@/api/wecom', () => ({ getWecomStateApi: vi.fn(), listWecomEmployeesApi: vi.fn(), linkWecomApi: vi.fn(), startWecomSyncApi: vi.fn() }))

function employee(i: number): WecomApi.Employee {
  return {
    userid: `user${i}`, name: `员工${i}`, position: '导购', mobile: '', gender: 1, status: 1, main_department: 2,
    main_department_name: '门店', customers: i,
  }
}
/** 45 employees on the server, served 20 a page */
const all = Array.from({ length: 45 }, (_, i) => employee(i + 1))
function serve(page: number, pageSize: number, q = ''): Promise<WecomApi.EmployeePage> {
  const rows = all.filter((e) => !q || e.name.includes(q) || e.userid.includes(q))
  return Promise.resolve({ items: rows.slice((page - 1) * pageSize, page * pageSize), total: rows.length, page, page_size: pageSize })
}
const notLinked: WecomApi.State = {
  linked: false, corp: null, sync: null, counts: { departments: 0, employees: 0, customers: 0, follows: 0, tags: 0, groups: 0 },
  callbacks: { url_path: null, pending: 0, applied: 0, failed: 0, last_received_at: null }, install: { available: false },
}

function setup() {
  let e!: ReturnType<typeof useWecomEmployees>
  effectScope().run(() => (e = useWecomEmployees({ pageSize: 20, debounceMs: 300 })))
  return e
}

beforeEach(() => {
  vi.useFakeTimers()
  vi.mocked(listWecomEmployeesApi).mockReset().mockImplementation(serve)
  vi.mocked(getWecomStateApi).mockReset().mockResolvedValue({ ...notLinked, linked: true })
})
afterEach(() => vi.useRealTimers())

describe('useWecomEmployees', () => {
  it('loads the first page and the link state together', async () => {
    const e = setup()
    await e.init()
    expect(listWecomEmployeesApi).toHaveBeenCalledWith(1, 20, '')
    expect(e.items.value.map((x) => x.userid)).toEqual(all.slice(0, 20).map((x) => x.userid))
    expect(e.total.value).toBe(45)
    expect(e.link.value?.linked).toBe(true)
  })

  it('pages on the server', async () => {
    const e = setup()
    await e.load(3)
    expect(listWecomEmployeesApi).toHaveBeenLastCalledWith(3, 20, '')
    expect(e.page.value).toBe(3)
    expect(e.items.value.map((x) => x.userid)).toEqual(['user41', 'user42', 'user43', 'user44', 'user45'])
  })

  it('searches on the server once the typing pauses, from page 1', async () => {
    const e = setup()
    await e.load(2)
    vi.mocked(listWecomEmployeesApi).mockClear()
    e.q.value = '员'
    await vi.advanceTimersByTimeAsync(200)
    e.q.value = ' 员工1 '
    await vi.advanceTimersByTimeAsync(299)
    expect(listWecomEmployeesApi).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(listWecomEmployeesApi).toHaveBeenCalledTimes(1)
    expect(listWecomEmployeesApi).toHaveBeenCalledWith(1, 20, '员工1')
    // 员工1, 员工10–19
    expect(e.total.value).toBe(11)
    expect(e.page.value).toBe(1)
  })

  it('knows when the corp is not linked, and shows a failed list in the user language', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValueOnce(notLinked)
    vi.mocked(listWecomEmployeesApi).mockRejectedValueOnce(new ApiError(0, 'network', 'Failed to fetch'))
    const e = setup()
    await e.init()
    expect(e.link.value?.linked).toBe(false)
    expect(e.items.value).toEqual([])
    expect(e.error.value).toBe('无法连接服务器，请检查网络后重试')
  })
})
