import { beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { AUDIT_ACTIONS, listAuditLogApi } from '@/api/audit'
import { auditActionKey, auditDetailText, auditTargetText, useAuditLog } from './use-audit-log'
import { i18n } from '@/locales'
import zhCN from '@/locales/langs/zh-CN.json'
import enUS from '@/locales/langs/en-US.json'
import yaml from '../../../api/openapi.yaml?raw'

vi.mock('@/api/audit', async (orig) => ({ ...(await orig<typeof import('@/api/audit')>()), listAuditLogApi: vi.fn() }))

beforeEach(() => {
  vi.mocked(listAuditLogApi).mockReset().mockResolvedValue({ items: [], total: 0, page: 1, page_size: 20 })
})

describe('useAuditLog', () => {
  it('filters on the server by action, from page 1', async () => {
    let log!: ReturnType<typeof useAuditLog>
    effectScope().run(() => (log = useAuditLog(20)))
    await log.load(4)
    expect(listAuditLogApi).toHaveBeenLastCalledWith(4, 20, '')
    log.action.value = 'member.added'
    await nextTick()
    expect(listAuditLogApi).toHaveBeenLastCalledWith(1, 20, 'member.added')
  })
})

/** The values of the AuditAction enum in api/openapi.yaml (`enum: [a, b,\n c]`). */
function contractActions(): string[] {
  const block = yaml.slice(yaml.indexOf('    AuditAction:'), yaml.indexOf('    AuditEntry:'))
  const list = block.match(/enum:\s*\[([^\]]*)\]/)
  if (!list) throw new Error('no AuditAction enum in api/openapi.yaml')
  return list[1].split(',').map((a) => a.trim()).filter((a) => a !== '')
}

describe('audit actions', () => {
  it('AUDIT_ACTIONS is exactly the AuditAction enum of the contract', () => {
    const inContract = contractActions()
    expect(inContract.length).toBeGreaterThan(10)
    expect(new Set(AUDIT_ACTIONS).size).toBe(AUDIT_ACTIONS.length)
    expect([...AUDIT_ACTIONS].sort()).toEqual([...inContract].sort())
  })

  it('every action has a name in zh-CN and en-US', () => {
    for (const a of contractActions()) {
      const key = auditActionKey(a).split('.').slice(2).join('.')
      expect(Object.keys(zhCN.audit.actions), a).toContain(key)
      expect(Object.keys(enUS.audit.actions), a).toContain(key)
    }
    expect(auditActionKey('auth.login_failed')).toBe('audit.actions.auth_login_failed')
  })

  it('shows an activated app by its name, other targets as recorded', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(auditTargetText({ action: 'app.activated', target: 'cloud_store' })).toBe('智慧云店')
    expect(auditTargetText({ action: 'app.activated', target: 'scrm' })).toBe('SCRM')
    i18n.global.locale.value = 'en-US'
    expect(auditTargetText({ action: 'app.activated', target: 'cloud_store' })).toBe(enUS.apps.cloudStore)
    i18n.global.locale.value = 'zh-CN'
    expect(auditTargetText({ action: 'app.activated', target: 'unknown_app' })).toBe('unknown_app')
    expect(auditTargetText({ action: 'member.added', target: 'scrm' })).toBe('scrm')
    expect(auditTargetText({ action: 'team.register', target: '锦鲤茶饮' })).toBe('锦鲤茶饮')
  })

  it('shows detail text as is and objects as JSON', () => {
    expect(auditDetailText('role=member')).toBe('role=member')
    const labels: Record<string, string> = { 'audit.details.failures': 'failure #{v}', 'audit.details.all': 'all',
      'audit.details.sessions_ended': 'sessions ended: {v}' }
    const t = (key: string, values?: Record<string, unknown>) =>
      labels[key].replace('{v}', String(values?.v ?? ''))
    const has = (key: string) => key in labels
    expect(auditDetailText('failures=3', t, has)).toBe('failure #3')
    expect(auditDetailText('sessions_ended=all odd', t, has)).toBe('sessions ended: all · odd')
    expect(auditDetailText({ app: 'scrm' })).toBe('{"app":"scrm"}')
    expect(auditDetailText(null)).toBe('')
    // free text without a known key, e.g. a tag renamed or the tags created in a group, as recorded
    expect(auditDetailText('金卡 → 金卡会员', t, has)).toBe('金卡 → 金卡会员')
    expect(auditDetailText('会员等级: 金卡、银卡', t, has)).toBe('会员等级: 金卡、银卡')
  })

  it('shows a fans import\'s rows and matches in words (粉丝匹配)', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(auditDetailText('rows=5 matched=3')).toBe('5 行 · 匹配 3 位')
    i18n.global.locale.value = 'en-US'
    expect(auditDetailText('rows=5 matched=3')).toBe('5 rows · 3 matched')
    expect(auditActionKey('fans.imported')).toBe('audit.actions.fans_imported')
    i18n.global.locale.value = 'zh-CN'
  })
})
