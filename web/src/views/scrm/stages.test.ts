import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { App } from 'vue'
import type { Router } from 'vue-router'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import {
  createStageApi, deleteStageApi, listStagesApi, renameStageApi, reorderStagesApi, type CustomersApi,
} from '@/api/customers'
import { all, click, mountApp, q, settle, testSession, text, type } from '@/test-utils/mount'
import StagesPage from './stages.vue'

vi.mock('@/api/customers', () => ({
  listStagesApi: vi.fn(), createStageApi: vi.fn(), renameStageApi: vi.fn(), deleteStageApi: vi.fn(), reorderStagesApi: vi.fn(),
  setCustomerStageApi: vi.fn(),
}))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

const stage = (id: number, name: string, customers = 0): CustomersApi.Stage => ({ id, name, sort: id, customers })
const pipeline = () => [stage(1, '新客', 4), stage(2, '意向', 2), stage(3, '成交', 1)]

let app: App | null = null
let router: Router

async function mountPage(role: 'admin' | 'member' = 'admin') {
  ;({ app, router } = await mountApp({
    session: testSession({ role }),
    routes: [{ path: '/scrm/stages', component: StagesPage }, { path: '/:any(.*)*', component: { render: () => null } }],
    path: '/scrm/stages',
  }))
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listStagesApi).mockReset().mockResolvedValue({ items: pipeline(), unstaged: 9 })
  for (const f of [createStageApi, renameStageApi, deleteStageApi, reorderStagesApi]) vi.mocked(f).mockReset()
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the stages page', () => {
  it('shows the pipeline in order with the customers of each and of none, and the admin actions', async () => {
    await mountPage()
    expect(q('stage-board')).not.toBeNull()
    expect(all('stage-column').map((c) => text(q('stage-name', c)))).toEqual(['新客', '意向', '成交'])
    expect(all('stage-count').map(text)).toEqual(['4 位客户', '2 位客户', '1 位客户'])
    expect(text(q('stage-none'))).toContain('未设置阶段')
    expect(text(q('stage-none-count'))).toBe('9 位客户')
    expect(text(q('stage-used'))).toBe('3 / 20 个阶段')
    expect(q('stage-add')).not.toBeNull()
    expect(all('stage-rename')).toHaveLength(3)
    expect(all('stage-delete')).toHaveLength(3)
    // the first cannot move left, the last not right
    expect(all('stage-move-left').map((b) => b.hasAttribute('disabled'))).toEqual([true, false, false])
    expect(all('stage-move-right').map((b) => b.hasAttribute('disabled'))).toEqual([false, false, true])
    expect(q('stages-empty')).toBeNull()
  })

  it('opens the customer list of a stage, or of no stage, without acting on a click of an action', async () => {
    await mountPage()
    all('stage-column')[1].click()
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/scrm/customers?stage=2'))
    await router.push('/scrm/stages')
    await settle()
    await click('stage-none')
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/scrm/customers?stage=0'))
    await router.push('/scrm/stages')
    await settle()
    await click('stage-rename', all('stage-column')[0])
    await new Promise((r) => setTimeout(r, 20))
    expect(router.currentRoute.value.path).toBe('/scrm/stages')
    expect(q('stage-dialog')).not.toBeNull()
  })

  it('adds a stage, checked first', async () => {
    await mountPage()
    await click('stage-add')
    await type('stage-name-input', '意向')
    await click('stage-submit')
    expect(text(q('stage-dialog-error'))).toBe('已有同名的客户阶段')
    expect(createStageApi).not.toHaveBeenCalled()
    vi.mocked(createStageApi).mockResolvedValueOnce(stage(4, '复购'))
    vi.mocked(listStagesApi).mockResolvedValueOnce({ items: [...pipeline(), stage(4, '复购')], unstaged: 9 })
    await type('stage-name-input', '复购')
    await click('stage-submit')
    expect(createStageApi).toHaveBeenCalledWith('复购')
    expect(all('stage-column')).toHaveLength(4)
  })

  it('renames a stage', async () => {
    vi.mocked(renameStageApi).mockResolvedValueOnce({ id: 2 })
    await mountPage()
    await click('stage-rename', all('stage-column')[1])
    expect((q('stage-name-input') as HTMLInputElement).value).toBe('意向')
    await type('stage-name-input', '高意向')
    await click('stage-submit')
    expect(renameStageApi).toHaveBeenCalledWith(2, '高意向')
  })

  it('deletes a stage once confirmed, saying its customers are left without a stage', async () => {
    vi.mocked(deleteStageApi).mockResolvedValueOnce({ id: 2 })
    await mountPage()
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await click('stage-delete', all('stage-column')[1])
    expect(deleteStageApi).not.toHaveBeenCalled()
    await click('stage-delete', all('stage-column')[1])
    expect(vi.mocked(ElMessageBox.confirm).mock.lastCall?.[0]).toBe('删除阶段「意向」？其中的 2 位客户将不再属于任何阶段（客户本身不受影响）。')
    expect(deleteStageApi).toHaveBeenCalledWith(2)
  })

  it('moves a stage and sends the full order', async () => {
    vi.mocked(reorderStagesApi).mockResolvedValueOnce({ ids: [1, 3, 2] })
    vi.mocked(listStagesApi).mockResolvedValueOnce({ items: pipeline(), unstaged: 9 })
    await mountPage()
    vi.mocked(listStagesApi).mockResolvedValueOnce({ items: [stage(1, '新客'), stage(3, '成交'), stage(2, '意向')], unstaged: 9 })
    await click('stage-move-right', all('stage-column')[1])
    expect(reorderStagesApi).toHaveBeenCalledWith([1, 3, 2])
    expect(all('stage-name').map(text)).toEqual(['新客', '成交', '意向'])
    await click('stage-move-left', all('stage-column')[1])
    expect(reorderStagesApi).toHaveBeenLastCalledWith([3, 1, 2])
  })

  it('offers the suggested pipeline on an empty board, in the console language', async () => {
    i18n.global.locale.value = 'en-US'
    vi.mocked(listStagesApi).mockResolvedValue({ items: [], unstaged: 5 })
    vi.mocked(createStageApi).mockImplementation(async (name) => stage(1, name))
    await mountPage()
    expect(q('stages-empty')).not.toBeNull()
    expect(text(q('stage-suggested'))).toBe('Use the suggested pipeline')
    expect(text(q('stage-none-count'))).toBe('5 customers')
    await click('stage-suggested')
    expect(vi.mocked(createStageApi).mock.calls.map((c) => c[0])).toEqual(['New', 'Interested', 'Paid', 'Repeat'])
  })

  it('is read-only for a member', async () => {
    await mountPage('member')
    expect(all('stage-column')).toHaveLength(3)
    expect(text(q('stages-member-note'))).toBe('仅管理员可以调整客户阶段')
    for (const action of ['stage-add', 'stage-rename', 'stage-delete', 'stage-move-left', 'stage-move-right']) expect(q(action), action).toBeNull()
  })

  it('gives a member no suggested pipeline on an empty board', async () => {
    vi.mocked(listStagesApi).mockResolvedValue({ items: [], unstaged: 0 })
    await mountPage('member')
    expect(text(q('stages-empty'))).toContain('请联系管理员设置')
    expect(q('stage-suggested')).toBeNull()
  })
})
