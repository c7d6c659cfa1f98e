import type { components } from './generated/schema'
import { query, requestClient } from './request'

export namespace AuditApi {
  export type Entry = components['schemas']['AuditEntry']
  export type Page = components['schemas']['AuditPage']
  export type Action = components['schemas']['AuditAction']
}

/** Every action the server records, in the order the filter lists them. */
export const AUDIT_ACTIONS: AuditApi.Action[] = [
  'team.register', 'auth.login', 'auth.login_failed', 'auth.locked', 'auth.logout', 'auth.logout_all',
  'auth.password_reset', 'account.password_changed', 'account.phone_changed', 'account.profile_changed', 'member.added', 'member.disabled',
  'member.enabled', 'member.removed', 'member.password_reset', 'member.unlocked', 'member.employee_bound', 'member.employee_unbound',
  'app.activated', 'wecom.linked', 'tag.created', 'tag.renamed', 'tag.deleted', 'group_tag.created', 'group_tag.renamed',
  'group_tag.deleted', 'customer.exported', 'fans.subject_set', 'fans.imported', 'fans.deleted', 'wecom.auth_cancelled', 'media.deleted',
]

export function listAuditLogApi(page: number, pageSize: number, action = '') {
  return requestClient.get<AuditApi.Page>(`/api/v1/audit-log${query({ page, page_size: pageSize, action })}`)
}
