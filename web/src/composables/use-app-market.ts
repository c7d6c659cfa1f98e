import { computed, ref } from 'vue'
import { activateAppApi, listAppsApi, type AppsApi } from '@/api/apps'
import { errorText } from '@/api/request'
import { useAppsStore, type KoiApp } from '@/stores/use-apps-store'
import { useSessionStore } from '@/stores/use-session-store'

export interface MarketApp extends KoiApp {
  activatedByName: string | null
}

/**
 * The app market: the catalogue with the team's activation (GET /apps) and activating an app (admin). What the
 * server says also updates the session, so the app switcher and the side menu follow at once.
 */
export function useAppMarket() {
  const session = useSessionStore()
  const appsStore = useAppsStore()
  const serverItems = ref<AppsApi.Item[]>([])
  const loading = ref(false)
  const error = ref('')
  const activating = ref<AppsApi.Key | null>(null)

  const apps = computed<MarketApp[]>(() =>
    appsStore.apps.map((a) => ({ ...a, activatedByName: serverItems.value.find((i) => i.key === a.key)?.activated_by_name ?? null })),
  )

  function absorb(item: AppsApi.Item) {
    serverItems.value = [...serverItems.value.filter((i) => i.key !== item.key), item]
    session.setApp(item.key, item.activated, item.activated_at)
  }

  let latest = 0

  /**
   * GET /apps. Only the answer to the latest load is kept, and it corrects the session only when nothing wrote to
   * the session since the load started: an activation (or a fresh GET /auth/session) made meanwhile is newer than
   * this answer, which then only fills in who activated the apps it does not know yet.
   */
  async function load() {
    const ticket = ++latest
    const revision = session.revision()
    loading.value = true
    try {
      const res = await listAppsApi()
      if (ticket !== latest) return
      if (session.revision() === revision) {
        serverItems.value = []
        res.items.forEach(absorb)
      } else {
        const known = new Set(serverItems.value.map((i) => i.key))
        serverItems.value = [...serverItems.value, ...res.items.filter((i) => !known.has(i.key))]
      }
      error.value = ''
    } catch (e) {
      if (ticket === latest) error.value = errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** true once the app is activated; else `error` says why */
  async function activate(key: AppsApi.Key): Promise<boolean> {
    activating.value = key
    try {
      absorb(await activateAppApi(key))
      error.value = ''
      return true
    } catch (e) {
      error.value = errorText(e)
      return false
    } finally {
      activating.value = null
    }
  }

  return { apps, loading, error, activating, load, activate }
}
