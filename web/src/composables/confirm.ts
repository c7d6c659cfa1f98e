import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'

/**
 * Asks before a change that cannot be undone (deleting, unbinding): `message` in a warning box whose red confirm
 * button reads `button`. True once the user confirms; false when they cancel or close the box.
 */
export async function confirmDanger(message: string, button: string): Promise<boolean> {
  const t = i18n.global.t
  try {
    await ElMessageBox.confirm(message, t('common.confirmTitle'), {
      confirmButtonText: button,
      cancelButtonText: t('common.cancel'),
      type: 'warning',
      confirmButtonClass: 'el-button--danger',
    })
    return true
  } catch {
    return false
  }
}

/**
 * Asks before leaving a page whose edits are not saved: `message` in a warning box whose buttons read "leave" and
 * "stay". True once the user chooses to leave; false when they stay or close the box.
 */
export async function confirmLeave(message: string): Promise<boolean> {
  const t = i18n.global.t
  try {
    await ElMessageBox.confirm(message, t('common.confirmTitle'), {
      confirmButtonText: t('segments.editor.leave'),
      cancelButtonText: t('segments.editor.stay'),
      type: 'warning',
    })
    return true
  } catch {
    return false
  }
}
