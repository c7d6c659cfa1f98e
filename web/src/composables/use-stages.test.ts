import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ref } from 'vue'
import { ApiError } from '@/api/request'
import {
  createStageApi, deleteStageApi, listStagesApi, renameStageApi, reorderStagesApi, setCustomerStageApi, type CustomersApi,
} from '@/api/customers'
import { i18n } from '@/locales'
import { movedOrder, stageChange, stageNameProblem, STAGES_MAX, useCustomerStage, useStages } from './use-stages'

vi.mock('@/api/customers', () => ({
  listStagesApi: vi.fn(), createStageApi: vi.fn(), renameStageApi: vi.fn(), deleteStageApi: vi.fn(), reorderStagesApi: vi.fn(),
  setCustomerStageApi: vi.fn(),
}))

const stage = (id: number, name: string, customers = 0): CustomersApi.Stage => ({ id, name, sort: id, customers })
const pipeline = () => [stage(1, '新客', 4), stage(2, '意向', 2), stage(3, '成交', 1)]

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listStagesApi).mockReset().mockResolvedValue({ items: pipeline(), unstaged: 9 })
  for (const f of [createStageApi, renameStageApi, deleteStageApi, reorderStagesApi, setCustomerStageApi]) vi.mocked(f).mockReset()
})

describe('the stage rules', () => {
  it('checks a name as the server would', () => {
    const stages = pipeline()
    expect(stageNameProblem('  ', stages)).toBe('stage_name_empty')
    expect(stageNameProblem('a'.repeat(31), stages)).toBe('stage_name_too_long')
    expect(stageNameProblem('😀'.repeat(30), stages)).toBeNull() // code points, as the server counts
    expect(stageNameProblem(' 意向 ', stages)).toBe('stage_exists')
    expect(stageNameProblem('意向', stages, 2)).toBeNull() // its own name
    expect(stageNameProblem('意向', stages, 1)).toBe('stage_exists')
    const many = Array.from({ length: STAGES_MAX }, (_, i) => stage(i + 1, `s${i}`))
    expect(stageNameProblem('复购', many)).toBe('stage_limit')
    expect(stageNameProblem('复购', many, 1)).toBeNull() // renaming adds none
  })

  it('moves one stage within the pipeline', () => {
    expect(movedOrder([1, 2, 3], 0, 1)).toEqual([2, 1, 3])
    expect(movedOrder([1, 2, 3], 2, -1)).toEqual([1, 3, 2])
    expect(movedOrder([1, 2, 3], 0, -1)).toBeNull()
    expect(movedOrder([1, 2, 3], 2, 1)).toBeNull()
    expect(movedOrder([1, 2, 3], -1, 1)).toBeNull()
  })

  it('reads a stage change of the timeline, either side possibly empty', () => {
    expect(stageChange('意向 → 成交')).toEqual({ from: '意向', to: '成交' })
    expect(stageChange(' → 意向')).toEqual({ from: '', to: '意向' })
    expect(stageChange('意向 → ')).toEqual({ from: '意向', to: '' })
    expect(stageChange('成交')).toEqual({ from: '', to: '成交' })
  })
})

describe('useStages', () => {
  it('loads the board in pipeline order with the customers in no stage', async () => {
    const board = useStages()
    await board.load()
    expect(board.items.value.map((s) => s.name)).toEqual(['新客', '意向', '成交'])
    expect(board.unstaged.value).toBe(9)
    expect(board.loaded.value).toBe(true)
    expect(board.full.value).toBe(false)
  })

  it('shows a failed load in the user language', async () => {
    vi.mocked(listStagesApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    const board = useStages()
    await board.load()
    expect(board.error.value).toBe('无法连接服务器，请检查网络后重试')
    expect(board.loaded.value).toBe(false)
  })

  it('adds a stage, checked first as the server would', async () => {
    const board = useStages()
    await board.load()
    board.openCreate()
    board.form.name = '意向'
    expect(await board.submit()).toBeNull()
    expect(board.formError.value).toBe('已有同名的客户阶段')
    expect(createStageApi).not.toHaveBeenCalled()

    vi.mocked(createStageApi).mockResolvedValueOnce(stage(4, '复购'))
    vi.mocked(listStagesApi).mockResolvedValueOnce({ items: [...pipeline(), stage(4, '复购')], unstaged: 9 })
    board.form.name = ' 复购 '
    expect(await board.submit()).toBe('复购')
    expect(createStageApi).toHaveBeenCalledWith('复购')
    expect(board.form.open).toBe(false)
    expect(board.items.value.map((s) => s.name)).toContain('复购')
  })

  it('renames a stage and shows the server refusal', async () => {
    const board = useStages()
    await board.load()
    board.openRename(board.items.value[1])
    expect(board.form.name).toBe('意向')
    expect(await board.submit()).toBeNull() // unchanged: just closes
    expect(board.form.open).toBe(false)
    expect(renameStageApi).not.toHaveBeenCalled()

    board.openRename(board.items.value[1])
    board.form.name = '高意向'
    vi.mocked(renameStageApi).mockRejectedValueOnce(new ApiError(404, 'stage_not_found', 'gone'))
    expect(await board.submit()).toBeNull()
    expect(renameStageApi).toHaveBeenCalledWith(2, '高意向')
    expect(board.formError.value).toBe('客户阶段不存在，可能已被删除')
    expect(board.form.open).toBe(true)

    vi.mocked(renameStageApi).mockResolvedValueOnce({ id: 2 })
    expect(await board.submit()).toBe('高意向')
  })

  it('deletes a stage and loads the board again', async () => {
    const board = useStages()
    await board.load()
    vi.mocked(deleteStageApi).mockResolvedValueOnce({ id: 2 })
    vi.mocked(listStagesApi).mockResolvedValueOnce({ items: [stage(1, '新客', 4), stage(3, '成交', 1)], unstaged: 11 })
    expect(await board.remove(board.items.value[1])).toBe(true)
    expect(deleteStageApi).toHaveBeenCalledWith(2)
    expect(board.unstaged.value).toBe(11)

    vi.mocked(deleteStageApi).mockRejectedValueOnce(new ApiError(403, 'admin_only', 'no'))
    expect(await board.remove(board.items.value[0])).toBe(false)
    expect(board.actionError.value).not.toBe('')
  })

  it('moves a stage at once and sends the whole order; a refusal shows the board as the server has it', async () => {
    const board = useStages()
    await board.load()
    let answer: (v: { ids: number[] }) => void = () => {}
    vi.mocked(reorderStagesApi).mockReturnValueOnce(new Promise((r) => (answer = r)))
    vi.mocked(listStagesApi).mockResolvedValueOnce({ items: [stage(2, '意向'), stage(1, '新客'), stage(3, '成交')], unstaged: 9 })
    const moving = board.move(board.items.value[1], -1)
    expect(board.items.value.map((s) => s.id)).toEqual([2, 1, 3])
    expect(reorderStagesApi).toHaveBeenCalledWith([2, 1, 3])
    expect(board.isBusy(2)).toBe(true)
    answer({ ids: [2, 1, 3] })
    expect(await moving).toBe(true)

    expect(await board.move(board.items.value[0], -1)).toBe(false) // already first
    vi.mocked(reorderStagesApi).mockRejectedValueOnce(new ApiError(400, 'invalid_stage_order', 'x'))
    expect(await board.move(board.items.value[2], -1)).toBe(false)
    expect(board.actionError.value).toBe('客户阶段已有变化，请刷新后重试')
    expect(board.items.value.map((s) => s.id)).toEqual([1, 2, 3]) // as loaded again
  })

  it('creates the suggested pipeline in order, stopping at a failure', async () => {
    vi.mocked(listStagesApi).mockResolvedValue({ items: [], unstaged: 3 })
    const board = useStages()
    await board.load()
    let id = 0
    vi.mocked(createStageApi).mockImplementation(async (name) => stage(++id, name))
    expect(await board.createSuggested(['New', 'Interested', 'Paid', 'Repeat'])).toBe(true)
    expect(vi.mocked(createStageApi).mock.calls.map((c) => c[0])).toEqual(['New', 'Interested', 'Paid', 'Repeat'])

    vi.mocked(createStageApi).mockReset().mockRejectedValueOnce(new ApiError(422, 'stage_limit', 'x'))
    expect(await board.createSuggested(['A', 'B'])).toBe(false)
    expect(createStageApi).toHaveBeenCalledTimes(1)
    expect(board.actionError.value).toBe('最多 20 个客户阶段，请先删除不再使用的')
  })
})

describe('useCustomerStage', () => {
  const profile = (over: Partial<CustomersApi.Profile> = {}) =>
    ref<CustomersApi.Profile | null>({
      external_userid: 'wm1', name: '陈总', type: 1, gender: 1, corp_name: '', last_add_time: 1, active_follows: 1, follows: [],
      tags: [], stage_id: 2, stage_name: '意向', position: '', unionid: '', groups: [], notes: [], personal_tags: [], timeline: [],
      linked_accounts: [], fields: [],
      ...over,
    })

  it('offers the stages, keeping the customer\'s own when the list lacks it', async () => {
    const p = profile({ stage_id: 9, stage_name: '旧阶段' })
    const editor = useCustomerStage(p)
    expect(editor.options.value).toEqual([{ id: 9, name: '旧阶段' }])
    await editor.loadStages()
    expect(editor.options.value.map((s) => s.name)).toEqual(['旧阶段', '新客', '意向', '成交'])
    expect(editor.current.value).toBe(9)
    p.value = { ...p.value!, stage_id: null, stage_name: '' }
    expect(editor.current.value).toBe(0)
    expect(editor.options.value).toHaveLength(3)
  })

  it('puts the customer in a stage, or in none', async () => {
    const p = profile()
    const editor = useCustomerStage(p)
    expect(await editor.set(2)).toBe(true) // already there
    expect(setCustomerStageApi).not.toHaveBeenCalled()

    vi.mocked(setCustomerStageApi).mockResolvedValueOnce({ stage: stage(3, '成交') })
    expect(await editor.set(3)).toBe(true)
    expect(setCustomerStageApi).toHaveBeenCalledWith('wm1', 3)
    expect(p.value).toMatchObject({ stage_id: 3, stage_name: '成交' })

    vi.mocked(setCustomerStageApi).mockResolvedValueOnce({ stage: null })
    expect(await editor.set(0)).toBe(true)
    expect(p.value).toMatchObject({ stage_id: null, stage_name: '' })
  })

  it('shows a refusal and offers the stages there are now when the stage went away', async () => {
    const p = profile()
    const editor = useCustomerStage(p)
    vi.mocked(setCustomerStageApi).mockRejectedValueOnce(new ApiError(404, 'stage_not_found', 'gone'))
    expect(await editor.set(3)).toBe(false)
    expect(editor.error.value).toBe('客户阶段不存在，可能已被删除')
    expect(p.value?.stage_id).toBe(2)
    expect(listStagesApi).toHaveBeenCalled()
  })
})
