import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { confirmDanger, confirmLeave } from './confirm'

vi.mock('element-plus', () => ({ ElMessageBox: { confirm: vi.fn() } }))

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(ElMessageBox.confirm).mockReset()
})

describe('confirmDanger', () => {
  it('asks in a warning box with a red button and says yes once confirmed', async () => {
    vi.mocked(ElMessageBox.confirm).mockResolvedValueOnce('confirm' as never)
    expect(await confirmDanger('删除「VIP」？', '删除')).toBe(true)
    expect(ElMessageBox.confirm).toHaveBeenCalledWith('删除「VIP」？', i18n.global.t('common.confirmTitle'), {
      confirmButtonText: '删除',
      cancelButtonText: i18n.global.t('common.cancel'),
      type: 'warning',
      confirmButtonClass: 'el-button--danger',
    })
  })

  it('says no when the box is cancelled or closed', async () => {
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel').mockRejectedValueOnce('close')
    expect(await confirmDanger('删除？', '删除')).toBe(false)
    expect(await confirmDanger('删除？', '删除')).toBe(false)
  })
})

describe('confirmLeave', () => {
  it('asks in a warning box whose buttons leave or stay, and says yes once the user leaves', async () => {
    vi.mocked(ElMessageBox.confirm).mockResolvedValueOnce('confirm' as never)
    expect(await confirmLeave('有未保存的修改，确定离开？')).toBe(true)
    expect(ElMessageBox.confirm).toHaveBeenCalledWith('有未保存的修改，确定离开？', i18n.global.t('common.confirmTitle'), {
      confirmButtonText: i18n.global.t('segments.editor.leave'),
      cancelButtonText: i18n.global.t('segments.editor.stay'),
      type: 'warning',
    })
  })

  it('says no when the user stays or closes the box', async () => {
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel').mockRejectedValueOnce('close')
    expect(await confirmLeave('离开？')).toBe(false)
    expect(await confirmLeave('离开？')).toBe(false)
  })
})
