import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { App } from 'vue'
import { i18n } from '@/locales'
import { getScrmOverviewApi } from '@/api/apps'
import { getWecomStateApi, type WecomApi } from '@/api/wecom'
import { getCapacityApi, setCorpVerifiedApi, type CustomersApi } from '@/api/customers'
import { all, mountApp, q, settle, testSession, text } from '@/test-utils/mount'
import OverviewPage from './overview.vue'

vi.mock('@/api/apps', () => ({ getScrmOverviewApi: vi.fn() }))
vi.mock('@/api/wecom', () => ({ getWecomStateApi: vi.fn(), linkWecomApi: vi.fn(), startWecomSyncApi: vi.fn() }))
vi.mock('@/api/customers', () => ({ getCapacityApi: vi.fn(), setCorpVerifiedApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() } }
})

const linked = (yes: boolean) => ({
  linked: yes,
  corp: yes ? { corp_id: 'ww1', corp_name: '锦鲤茶饮', mode: 'self_built', agent_id: '', linked_at: 1, last_synced_at: null } : null,
  sync: null,
  counts: { departments: 1, employees: 2, customers: 190, follows: 200, tags: 3, groups: 0 },
  callbacks: {},
}) as unknown as WecomApi.State
const capacity = (over: Partial<CustomersApi.Capacity> = {}): CustomersApi.Capacity => ({
  customers: 190, corp_verified: false, limit: 200, level: 'critical', member_limit: 20000,
  busy_employees: [{ userid: 'zhangsan', name: '张三', customers: 18000 }, { userid: 'lisi', name: '', customers: 16000 }],
  rule_pack: 'wecom-2025', ...over,
})

let app: App | null = null

async function mountPage(role: 'admin' | 'member' = 'admin') {
  ;({ app } = await mountApp({
    session: testSession({ role }),
    routes: [{ path: '/:any(.*)*', component: OverviewPage }],
    path: '/scrm/overview',
  }))
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getScrmOverviewApi).mockReset().mockResolvedValue({ app: 'scrm', activated_at: 1, wecom_authorized: true, corp_name: '锦鲤茶饮' })
  vi.mocked(getWecomStateApi).mockReset().mockResolvedValue(linked(true))
  vi.mocked(getCapacityApi).mockReset().mockResolvedValue(capacity())
  vi.mocked(setCorpVerifiedApi).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the SCRM overview, capacity', () => {
  it('shows the customers against the limit, warns near it and lists the busy employees', async () => {
    await mountPage()
    expect(text(q('capacity-used'))).toBe('客户 190 / 200')
    expect(q('capacity-progress')?.classList.contains('is-exception')).toBe(true)
    const warning = text(q('capacity-warning'))
    expect(warning).toContain('95%')
    expect(warning).toContain('无法再添加新客户')
    expect(warning).toContain('完成企业认证')
    expect(warning).toContain('申请扩容')
    expect(warning).toContain('清理已流失的客户')
    expect(all('capacity-busy-employee').map(text)).toEqual(['张三18,000 / 20,000', 'lisi16,000 / 20,000'])
    expect(text(q('capacity-card'))).toContain('企业微信不会告知企业是否已认证')
  })

  it('lets the admin state the corp verified, and shows the new limit', async () => {
    vi.mocked(setCorpVerifiedApi).mockResolvedValueOnce(capacity({ corp_verified: true, limit: 50000, level: 'ok', busy_employees: [] }))
    await mountPage()
    const sw = q('capacity-verified')!
    expect(sw.classList.contains('is-checked')).toBe(false)
    sw.click()
    await settle()
    expect(setCorpVerifiedApi).toHaveBeenCalledWith(true)
    expect(text(q('capacity-used'))).toBe('客户 190 / 50,000')
    expect(q('capacity-warning')).toBeNull()
    expect(q('capacity-busy')).toBeNull()
    expect(q('capacity-verified')!.classList.contains('is-checked')).toBe(true)
  })

  it('shows a member the capacity without the switch', async () => {
    vi.mocked(getCapacityApi).mockResolvedValue(capacity({ customers: 10, level: 'ok', busy_employees: [] }))
    await mountPage('member')
    expect(text(q('capacity-used'))).toBe('客户 10 / 200')
    expect(q('capacity-warning')).toBeNull()
    expect(q('capacity-verified')).toBeNull()
  })

  it('shows no capacity until WeCom is linked', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(linked(false))
    await mountPage()
    expect(q('wecom-pending')).not.toBeNull()
    expect(q('capacity-card')).toBeNull()
    expect(getCapacityApi).not.toHaveBeenCalled()
  })
})
