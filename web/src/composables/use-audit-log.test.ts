import { beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { AUDIT_ACTIONS, listAuditLogApi } from '@/api/audit'
import { auditActionKey, auditDetailText, useAuditLog } from './use-audit-log'
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

describe('audit actions', () => {
  it('every action of the contract has a name in both languages', () => {
    const inContract = yaml.slice(yaml.indexOf('AuditAction:'), yaml.indexOf('AuditEntry:'))
    for (const a of AUDIT_ACTIONS) {
      expect(inContract, a).toContain(a)
      const key = auditActionKey(a).split('.').slice(2).join('.')
      expect(Object.keys(zhCN.audit.actions), a).toContain(key)
      expect(Object.keys(enUS.audit.actions), a).toContain(key)
    }
    expect(auditActionKey('auth.login_failed')).toBe('audit.actions.auth_login_failed')
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
  })
})
