import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { App } from 'vue'
import { i18n } from '@/locales'
import { getRulePackApi, setRulePackApi, type MessagesApi } from '@/api/messages'
import { all, click, mountApp, q, testSession, text } from '@/test-utils/mount'
import RulePackPage from './rule-pack.vue'

vi.mock('@/api/messages', () => ({ getRulePackApi: vi.fn(), setRulePackApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn(async () => 'confirm') } }
})

const quota = (prefix: string, enabled: number, limit: number, period: number, dim: number) => [
  { key: `${prefix}.limit`, value: limit, base: limit },
  { key: `${prefix}.period`, value: period, base: period },
  { key: `${prefix}.days_in_month`, value: dim, base: dim },
  { key: `${prefix}.enabled`, value: enabled, base: enabled },
]
function setting(over: Partial<MessagesApi.RulePackSetting> = {}): MessagesApi.RulePackSetting {
  return {
    pack: 'wecom-2025',
    overrides: {},
    packs: [
      { name: 'wecom-2020', title: 'WeCom 3.0 (2020)', source: 'S000' },
      { name: 'wecom-2023', title: 'WeCom rules of 2023', source: 'S002' },
      { name: 'wecom-2025', title: 'WeCom rules of 2025 (current)', source: 'API' },
    ],
    values: [
      ...quota('mass.customer_enterprise', 1, 0, 2, 1),
      ...quota('mass.customer_personal', 0, 0, 0, 0),
      { key: 'mass.personal_counted_per_member', value: 0, base: 0 },
      { key: 'mass.personal_shares_enterprise_quota', value: 1, base: 1 },
      ...quota('mass.group', 1, 0, 2, 1),
      { key: 'mass.max_attachments', value: 9, base: 9 },
      { key: 'mass.text_with_attachment_counts_as_two', value: 0, base: 0 },
      { key: 'mass.max_recipients_per_call', value: 10000, base: 10000 },
      { key: 'mass.max_reminders', value: 3, base: 3 },
      { key: 'mass.reminder_window_seconds', value: 86400, base: 86400 },
    ],
    ...over,
  }
}

let app: App | null = null
async function mountPage(role: 'admin' | 'member' = 'admin') {
  ;({ app } = await mountApp({
    session: testSession({ role }),
    routes: [{ path: '/scrm/settings/rule-pack', component: RulePackPage }, { path: '/:any(.*)*', component: { render: () => null } }],
    path: '/scrm/settings/rule-pack',
  }))
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getRulePackApi).mockReset().mockResolvedValue(setting())
  vi.mocked(setRulePackApi).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the rule pack page', () => {
  it('shows the packs and the quotas in force beside the pack\'s own', async () => {
    await mountPage()
    expect(q('pack-wecom-2020')).not.toBeNull()
    expect(text(q('pack-wecom-2025'))).toContain('2025 年规则（当前）')
    expect(text(q('quota-now', q('quota-customer_enterprise')!))).toBe('每月最多为当月天数条')
    expect(text(q('quota-now', q('quota-customer_personal')!))).toBe('不限制')
    expect(all('rule-base').map(text)).toContain('1 天 0 小时')
  })

  it('lets the admin switch the enterprise quota to 7 per week and save it as overrides', async () => {
    await mountPage()
    await click('preset-weekSeven')
    expect(text(q('quota-now', q('quota-customer_enterprise')!))).toBe('每周最多 7 条')
    expect(q('rule-pack-unsaved')).not.toBeNull()
    vi.mocked(setRulePackApi).mockResolvedValueOnce(setting())
    await click('rule-pack-save')
    expect(setRulePackApi).toHaveBeenCalledWith({
      pack: 'wecom-2025',
      overrides: { 'mass.customer_enterprise.limit': 7, 'mass.customer_enterprise.period': 1, 'mass.customer_enterprise.days_in_month': 0 },
    })
  })

  it('is read-only for members', async () => {
    await mountPage('member')
    expect(q('rule-pack-read-only')).not.toBeNull()
    expect(q('rule-pack-save')).toBeNull()
    expect(q('preset-weekSeven')).toBeNull()
  })
})
