import { ref, watch } from 'vue'
import { i18n } from '@/locales'
import { listAuditLogApi, type AuditApi } from '@/api/audit'
import { APP_CATALOG } from '@/stores/use-apps-store'
import { usePagedList } from './use-paged-list'

/** The team's audit log, paged by the server, filtered by action (a new filter starts at page 1). */
export function useAuditLog(pageSize = 20) {
  const action = ref<AuditApi.Action | ''>('')
  const list = usePagedList<AuditApi.Entry>((page, size) => listAuditLogApi(page, size, action.value), pageSize)
  watch(action, () => void list.load(1))
  return { ...list, action }
}

/** Locale key of an action's name ('.' → '_', as vue-i18n reads dots as nesting). */
export function auditActionKey(action: string): string {
  return `audit.actions.${action.replaceAll('.', '_')}`
}

/**
 * The target column as recorded by the server, except for app.activated, whose target is the app's key ("scrm",
 * "cloud_store"): that one shows the app's name in the current language.
 */
export function auditTargetText(
  entry: Pick<AuditApi.Entry, 'action' | 'target'>,
  t: (key: string) => string = i18n.global.t,
): string {
  if (entry.action === 'app.activated') {
    const app = APP_CATALOG.find((a) => a.key === entry.target)
    if (app) return t(app.titleKey)
  }
  return entry.target
}

/**
 * The detail column. The server writes space-separated `key=value` pairs ("failures=3", "sessions_ended=all"); each
 * known key is shown with its localised label (audit.details.<key>), unknown tokens as they are, anything that is
 * not a string as compact JSON, and '' for nothing. A detail without any known key (free text, such as the names
 * of the tags deleted) is shown exactly as recorded.
 */
export function auditDetailText(
  detail: unknown,
  t: (key: string, values?: Record<string, unknown>) => string = i18n.global.t,
  has: (key: string) => boolean = (key) => i18n.global.te(key),
): string {
  if (detail === null || detail === undefined) return ''
  if (typeof detail !== 'string') return JSON.stringify(detail)
  const tokens = detail.split(' ').filter((token) => token !== '')
  // Free text (e.g. a tag's "旧名 → 新名") has no known key=value pair: shown as written.
  const known = (token: string) => token.indexOf('=') > 0 && has(`audit.details.${token.slice(0, token.indexOf('='))}`)
  if (!tokens.some(known)) return detail
  return tokens
    .map((token) => {
      const eq = token.indexOf('=')
      if (eq <= 0) return token
      const key = token.slice(0, eq)
      let value = token.slice(eq + 1)
      if (!has(`audit.details.${key}`)) return token
      if (has(`audit.details.${value}`)) value = t(`audit.details.${value}`)
      return t(`audit.details.${key}`, { v: value })
    })
    .join(' · ')
}
