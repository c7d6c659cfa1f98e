import { describe, expect, it } from 'vitest'
import type { RouteRecordRaw } from 'vue-router'
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
    expect(adminOnly).toEqual(['/settings/audit-log', '/settings/members', '/system/status'])
  })
})
