import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { confirmDanger } from './confirm'

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
