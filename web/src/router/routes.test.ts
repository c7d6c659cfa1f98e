import { describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter, type RouteRecordRaw } from 'vue-router'
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

  it('the chat toolbar has its two pages, customer (客户画像) and group (群画像), and no other', async () => {
    const router = createRouter({ history: createMemoryHistory(), routes })
    const page = async (path: string) => {
      const record = router.resolve(path).matched.at(-1)
      const component = record?.components?.default as (() => Promise<{ default: unknown }>) | undefined
      return { record, view: typeof component === 'function' ? (await component()).default : component }
    }
    const customer = await page('/sidebar/wwkoidemo0000001/customer')
    const group = await page('/sidebar/wwkoidemo0000001/group')
    expect(customer.view).toBe((await import('@/views/sidebar/customer.vue')).default)
    expect(group.view).toBe((await import('@/views/sidebar/group.vue')).default)
    expect(group.record?.meta).toEqual({ public: true, titleKey: 'sidebar.group.title' })
    expect(router.resolve('/sidebar/wwkoidemo0000001/group').params).toEqual({ corp: 'wwkoidemo0000001', page: 'group' })
    expect((await page('/sidebar/wwkoidemo0000001/other')).record?.path).not.toMatch(/^\/sidebar/)
  })
})
