import { describe, expect, it } from 'vitest'
import type { RouteRecordRaw } from 'vue-router'
import { i18n } from '@/locales'
import { appOfPath } from '@/stores/use-apps-store'
import { routes } from './index'

function flatten(records: RouteRecordRaw[], prefix = ''): Array<{ path: string; meta: RouteRecordRaw['meta'] }> {
  return records.flatMap((r) => {
    const path = r.path.startsWith('/') ? r.path : `${prefix}/${r.path}`.replace(/\/+/g, '/')
    return [{ path, meta: r.meta }, ...flatten(r.children ?? [], path)]
  })
}

describe('routes', () => {
  it('admin pages are the ones whose API answers admin_only to members', () => {
    const adminOnly = flatten(routes).filter((r) => r.meta?.adminOnly).map((r) => r.path).sort()
    expect(adminOnly).toEqual(['/scrm/fans', '/settings/audit-log', '/settings/members', '/system/status'])
  })

  it('every page has a title in both languages', () => {
    const keys = flatten(routes).map((r) => r.meta?.titleKey).filter((k): k is string => !!k)
    for (const locale of ['zh-CN', 'en-US'] as const) for (const k of keys) expect(i18n.global.te(k, locale), `${locale} ${k}`).toBe(true)
  })

  it('the churn page (流失提醒) is a page of the SCRM app, open to members', () => {
    const churn = flatten(routes).find((r) => r.path === '/scrm/churn')
    expect(churn?.meta).toEqual({ titleKey: 'menu.churn' })
    expect(appOfPath('/scrm/churn')).toBe('scrm')
  })

  it('fan matching (粉丝匹配) is an admin page of the SCRM app', () => {
    const fans = flatten(routes).find((r) => r.path === '/scrm/fans')
    expect(fans?.meta).toEqual({ titleKey: 'fans.title', adminOnly: true })
    expect(appOfPath('/scrm/fans')).toBe('scrm')
  })
})
