import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { App } from 'vue'
import type { Router } from 'vue-router'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { deleteSegmentApi, listSegmentsApi, type SegmentsApi } from '@/api/segments'
import { all, click, mountApp, q, settle, testSession, text } from '@/test-utils/mount'
import SegmentsPage from './segments.vue'

vi.mock('@/api/segments', () => ({ listSegmentsApi: vi.fn(), deleteSegmentApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

function segment(id: number, over: Partial<SegmentsApi.Segment> = {}): SegmentsApi.Segment {
  return {
    id, name: `分群${id}`, rule: { op: 'and', children: [] }, customers: 1234, problem: '', created_by: 7, created_by_name: '王小锦',
    created_at: 1_700_000_000_000, updated_at: 1_700_000_000_000, history: [], ...over,
  }
}
const page = (items: SegmentsApi.Segment[], total = items.length): SegmentsApi.Page => ({ items, total, page: 1, page_size: 20 })
const mine = segment(1, { name: '高意向客户' })
const theirs = segment(2, { name: '流失客户', created_by: 9, created_by_name: '李四', customers: 0, problem: 'rule.children[0].values[0]: no such stage' })

let app: App | null = null
let router: Router

async function mountPage(role: 'admin' | 'member' = 'admin') {
  ;({ app, router } = await mountApp({
    session: testSession({ role }),
    routes: [{ path: '/scrm/segments', component: SegmentsPage }, { path: '/:any(.*)*', component: { render: () => null } }],
    path: '/scrm/segments',
  }))
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listSegmentsApi).mockReset().mockResolvedValue(page([mine, theirs]))
  vi.mocked(deleteSegmentApi).mockReset().mockResolvedValue({ deleted: true })
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the segments page', () => {
  it('lists the saved segments with their size, or the problem that keeps one from being counted', async () => {
    await mountPage()
    expect(listSegmentsApi).toHaveBeenCalledWith(1, 20)
    expect(all('segment-name').map(text)).toEqual(['高意向客户', '流失客户'])
    expect(all('segment-customers').map(text)).toEqual(['1,234 位客户'])
    expect(text(q('segment-problem'))).toBe('⚠ 规则已失效')
    expect(all('segment-creator').map(text)).toEqual(['王小锦', '李四'])
    expect(text(q('segment-total'))).toBe('共 2 个分群')
    expect(q('segments-empty')).toBeNull()
    // an admin may change every segment
    expect(all('segment-open').map(text)).toEqual(['编辑', '编辑'])
    expect(all('segment-delete')).toHaveLength(2)
  })

  it('lets a member change only their own segments', async () => {
    await mountPage('member')
    expect(all('segment-open').map(text)).toEqual(['编辑', '查看'])
    expect(all('segment-delete')).toHaveLength(1)
  })

  it('opens a segment from its row or its button, and creates one from the header', async () => {
    await mountPage()
    all('segment-name')[1].click()
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/segments/2'))
    await router.push('/scrm/segments')
    await settle()
    await click('segment-open')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/segments/1'))
    await router.push('/scrm/segments')
    await settle()
    await click('segment-create')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/segments/new'))
  })

  it('deletes a segment once confirmed, without opening it', async () => {
    await mountPage()
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await click('segment-delete')
    expect(deleteSegmentApi).not.toHaveBeenCalled()
    vi.mocked(listSegmentsApi).mockResolvedValueOnce(page([theirs]))
    await click('segment-delete')
    expect(vi.mocked(ElMessageBox.confirm).mock.lastCall?.[0]).toBe('删除分群「高意向客户」？它的人数变化记录也会一并删除，客户本身不受影响。')
    expect(deleteSegmentApi).toHaveBeenCalledWith(1)
    expect(all('segment-name').map(text)).toEqual(['流失客户'])
    expect(router.currentRoute.value.path).toBe('/scrm/segments')
  })

  it('says a failed delete', async () => {
    const { ApiError } = await import('@/api/request')
    vi.mocked(deleteSegmentApi).mockRejectedValueOnce(new ApiError(403, 'segment_not_yours', 'x'))
    await mountPage()
    await click('segment-delete')
    expect(text(q('segments-action-error'))).toContain('只有分群的创建者或管理员可以修改或删除它')
  })

  it('invites to build the first segment', async () => {
    i18n.global.locale.value = 'en-US'
    vi.mocked(listSegmentsApi).mockResolvedValue(page([]))
    await mountPage()
    expect(text(q('segments-empty'))).toContain('No segments yet')
    await click('segment-create-empty')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/segments/new'))
  })

  it('pages on the server', async () => {
    vi.mocked(listSegmentsApi).mockResolvedValue(page([mine], 45))
    await mountPage()
    const pager = document.querySelector('.el-pagination')!
    expect(pager).not.toBeNull()
    ;[...pager.querySelectorAll<HTMLElement>('.el-pager li')].find((li) => text(li) === '3')!.click()
    await settle()
    expect(listSegmentsApi).toHaveBeenLastCalledWith(3, 20)
  })
})
