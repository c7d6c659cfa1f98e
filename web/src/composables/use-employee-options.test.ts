import { beforeEach, describe, expect, it, vi } from 'vitest'
import { listWecomEmployeesApi, type WecomApi } from '@/api/wecom'
import { employeeOption, useEmployeeOptions } from './use-employee-options'

vi.mock('@/api/wecom', () => ({ listWecomEmployeesApi: vi.fn() }))

function employee(userid: string, name: string, over: Partial<WecomApi.Employee> = {}): WecomApi.Employee {
  return { userid, name, position: '导购', mobile: '', gender: 1, status: 1, main_department: 2, main_department_name: '上海店', customers: 0, ...over }
}
const page = (items: WecomApi.Employee[]): WecomApi.EmployeePage => ({ items, total: items.length, page: 1, page_size: 20 })

beforeEach(() => {
  vi.mocked(listWecomEmployeesApi).mockReset().mockResolvedValue(page([employee('zhangsan', '张三')]))
})

describe('useEmployeeOptions', () => {
  it('searches the server by name or userid', async () => {
    const o = useEmployeeOptions(20)
    await o.search(' 张 ')
    expect(listWecomEmployeesApi).toHaveBeenCalledWith(1, 20, '张')
    expect(o.options.value).toEqual([{ userid: 'zhangsan', name: '张三', detail: '上海店 · 导购', resigned: false }])
  })

  it('keeps only the answer to the latest search', async () => {
    let releaseSlow!: (v: WecomApi.EmployeePage) => void
    vi.mocked(listWecomEmployeesApi)
      .mockImplementationOnce(() => new Promise((r) => (releaseSlow = r)))
      .mockResolvedValueOnce(page([employee('lisi', '李四')]))
    const o = useEmployeeOptions()
    const slow = o.search('张')
    await o.search('李')
    releaseSlow(page([employee('zhangsan', '张三')]))
    await slow
    expect(o.options.value.map((x) => x.userid)).toEqual(['lisi'])
    expect(o.loading.value).toBe(false)
  })

  it('keeps the labels of selected employees a later search no longer lists', async () => {
    const o = useEmployeeOptions()
    await o.search('张')
    vi.mocked(listWecomEmployeesApi).mockResolvedValueOnce(page([employee('lisi', '李四')]))
    await o.search('李')
    o.remember('wangwu', '王五')
    expect(o.withSelected(['zhangsan', 'lisi', 'wangwu', 'ghost']).map((x) => [x.userid, x.name])).toEqual([
      ['lisi', '李四'], ['zhangsan', '张三'], ['wangwu', '王五'], ['ghost', 'ghost'],
    ])
  })

  it('marks employees who left the company', () => {
    expect(employeeOption(employee('u', '', { status: 5, position: '', main_department_name: '' }))).toEqual({ userid: 'u', name: 'u', detail: '', resigned: true })
  })
})
