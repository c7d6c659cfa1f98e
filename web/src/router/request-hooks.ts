// What the console does when any API call says the session is gone, an app is not activated or the user is not an
// admin (any more): installed once in main.ts, so pages only show their own errors.
import type { Router } from 'vue-router'
import { ElMessage } from 'element-plus'
import { setRequestHooks } from '@/api/request'
import { i18n } from '@/locales'
import { useSessionStore } from '@/stores/use-session-store'
import { appOfApiPath } from '@/stores/use-apps-store'
import { FORBIDDEN_PATH, loginLocation } from './guard'

export function installRequestHooks(router: Router) {
  let expiredNoticeShown = false
  setRequestHooks({
    onUnauthenticated() {
      const session = useSessionStore()
      const wasLoggedIn = session.loggedIn
      session.clear()
      const current = router.currentRoute.value
      if (current.meta.public) return
      if (wasLoggedIn && !expiredNoticeShown) {
        expiredNoticeShown = true
        ElMessage.warning({ message: i18n.global.t('auth.sessionExpired'), onClose: () => (expiredNoticeShown = false) })
      }
      void router.replace(loginLocation(current.fullPath))
    },
    onError(error, _method, path) {
      const session = useSessionStore()
      if (error.reason === 'app_not_activated') {
        // The server knows better than the session loaded earlier: the layout now shows "activate it first".
        const key = appOfApiPath(path)
        if (key) session.setApp(key, false)
      } else if (error.reason === 'admin_only') {
        // The role changed since the session was loaded: reload it and leave the admin page.
        void session.load().then(() => {
          const current = router.currentRoute.value
          if (current.meta.adminOnly && !session.isAdmin) void router.replace({ path: FORBIDDEN_PATH, query: { from: current.fullPath } })
        })
      }
    },
  })
}
