import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick, type App } from 'vue'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { listMembersApi, type MembersApi } from '@/api/members'
import { getScrmOverviewApi } from '@/api/apps'
import { bindEmployeeApi, listBindingsApi, unbindEmployeeApi, type CustomersApi } from '@/api/customers'
import { listWecomEmployeesApi, type WecomApi } from '@/api/wecom'
import { mountApp, q, settle, testSession, text } from '@/test-utils/mount'
import MembersPage from './members.vue'

vi.mock('@/api/members', () => ({ listMembersApi: vi.fn(), addMemberApi: vi.fn(), memberActionApi: vi.fn(), removeMemberApi: vi.fn() }))
vi.mock('@/api/apps', () => ({ getScrmOverviewApi: vi.fn() }))
vi.mock('@/api/customers', () => ({ listBindingsApi: vi.fn(), bindEmployeeApi: vi.fn(), unbindEmployeeApi: vi.fn() }))
vi.mock('@/api/wecom', () => ({ listWecomEmployeesApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

function member(id: number, name: string, role: 'admin' | 'member' = 'member'): MembersApi.Member {
  return {
    id, phone: `1390000000${id}`, name, role, status: 'active', failed_logins: 0, locked_until: null, last_login_at: null,
    last_login_ip: '', created_at: 1,
  }
}
const members = [member(1, '王小锦', 'admin'), member(2, '赵六'), member(3, '钱七')]
const binding = (accountId: number, userid: string, name: string, scope: CustomersApi.DataScope = 'own'): CustomersApi.Binding =>
  ({ account_id: accountId, userid, employee_name: name, data_scope: scope, bound_at: 1 })
function employee(userid: string, name: string): WecomApi.Employee {
  return { userid, name, position: '', mobile: '', gender: 1, status: 1, main_department: 1, main_department_name: '门店', customers: 0 }
}

let app: App | null = null
let root: HTMLElement

async function mountPage(scrm = true) {
  ;({ app, root } = await mountApp({
    session: testSession({ accountId: 1, scrm }),
    routes: [{ path: '/:any(.*)*', component: { render: () => null } }],
    component: MembersPage,
  }))
}
const cell = (phone: string) => q(`member-binding-${phone}`)!

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listMembersApi).mockReset().mockResolvedValue({ items: members, total: 3, page: 1, page_size: 20 })
  vi.mocked(listBindingsApi).mockReset().mockResolvedValue({ items: [binding(2, 'zhangsan', '张三')] })
  vi.mocked(bindEmployeeApi).mockReset()
  vi.mocked(getScrmOverviewApi).mockReset().mockResolvedValue({ app: 'scrm', activated_at: 1, wecom_authorized: true, corp_name: '锦鲤' })
  vi.mocked(unbindEmployeeApi).mockReset()
  vi.mocked(listWecomEmployeesApi).mockReset().mockResolvedValue({ items: [employee('zhangsan', '张三'), employee('lisi', '李四')], total: 2, page: 1, page_size: 20 })
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  root?.remove()
  document.body.innerHTML = ''
})

describe('the members page and WeCom employee bindings', () => {
  it('shows the binding of each account on the page', async () => {
    await mountPage()
    expect(listBindingsApi).toHaveBeenCalledWith([1, 2, 3])
    expect(text(q('binding-employee', cell('13900000002')))).toBe('张三')
    expect(text(q('binding-scope', cell('13900000002')))).toBe('本人的客户')
    expect(text(cell('13900000003'))).toContain('未绑定')
    expect(q('member-bind', cell('13900000001'))).toBeNull()
    expect(text(q('member-bind', cell('13900000002')))).toBe('更换')
    expect(text(q('member-bind', cell('13900000003')))).toBe('绑定成员')
  })

  it('hides the column when SCRM is not activated (without asking) or the server says there is nothing to bind', async () => {
    await mountPage(false)
    expect(listBindingsApi).not.toHaveBeenCalled()
    expect(getScrmOverviewApi).not.toHaveBeenCalled()
    expect(q('member-binding-13900000002')).toBeNull()
    app?.unmount()
    root.remove()
    vi.mocked(getScrmOverviewApi).mockResolvedValueOnce({ app: 'scrm', activated_at: 1, wecom_authorized: false, corp_name: '' })
    await mountPage(true)
    expect(q('member-binding-13900000002')).toBeNull()
    app?.unmount()
    root.remove()
    vi.mocked(listBindingsApi).mockRejectedValueOnce(new ApiError(422, 'wecom_not_linked', 'x'))
    await mountPage(true)
    expect(listBindingsApi).toHaveBeenCalledTimes(2)
    expect(q('member-binding-13900000002')).toBeNull()
    expect(q('members-table')).not.toBeNull()
  })

  it('binds an account to an employee with a data scope', async () => {
    await mountPage()
    q('member-bind', cell('13900000003'))!.click()
    await settle()
    const dialog = q('bind-dialog')!
    expect(dialog).not.toBeNull()
    q('bind-confirm')!.click()
    await settle()
    // Element Plus shows a form item's error after a short debounce
    await new Promise((r) => setTimeout(r, 150))
    await nextTick()
    expect(text(dialog)).toContain('请选择企业微信成员')
    expect(bindEmployeeApi).not.toHaveBeenCalled()

    q('employee-option-lisi')!.click()
    await settle()
    ;(q('bind-scope-department')!.querySelector('input') as HTMLInputElement).click()
    await settle()
    vi.mocked(bindEmployeeApi).mockResolvedValueOnce(binding(3, 'lisi', '李四', 'department'))
    q('bind-confirm')!.click()
    await settle()
    expect(bindEmployeeApi).toHaveBeenCalledWith(3, 'lisi', 'department')
    expect(text(q('binding-employee', cell('13900000003')))).toBe('李四')
    expect(text(q('binding-scope', cell('13900000003')))).toBe('部门的客户')
  })

  it('shows a refused binding in the dialog', async () => {
    await mountPage()
    q('member-bind', cell('13900000003'))!.click()
    await settle()
    q('employee-option-zhangsan')!.click()
    await settle()
    vi.mocked(bindEmployeeApi).mockRejectedValueOnce(new ApiError(409, 'employee_already_bound', 'x'))
    q('bind-confirm')!.click()
    await settle()
    expect(bindEmployeeApi).toHaveBeenCalledWith(3, 'zhangsan', 'own')
    expect(text(q('bind-error'))).toBe('该企业微信成员已绑定了其他账号')
    expect(text(cell('13900000003'))).toContain('未绑定')
  })

  it('unbinds after a confirmation', async () => {
    await mountPage()
    vi.mocked(unbindEmployeeApi).mockResolvedValueOnce({ account_id: 2 })
    q('member-unbind', cell('13900000002'))!.click()
    await settle()
    expect(ElMessageBox.confirm).toHaveBeenCalledTimes(1)
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toContain('张三')
    expect(unbindEmployeeApi).toHaveBeenCalledWith(2)
    expect(text(cell('13900000002'))).toContain('未绑定')
    expect(q('member-unbind', cell('13900000002'))).toBeNull()
  })
})
