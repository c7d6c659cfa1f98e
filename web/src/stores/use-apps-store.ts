import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { AuthApi } from '@/api/auth'
import { useSessionStore } from './use-session-store'

export type AppKey = AuthApi.AppKey

export interface AppDefinition {
  key: AppKey
  /** locale key of the name; descriptions are under apps.catalog.<key> */
  titleKey: string
  /** where "去使用" and the app switcher go */
  home: string
  /** console pages of the app */
  pathPrefix: string
  /** API routes of the app (403 app_not_activated until activated) */
  apiPrefix: string
}

export interface KoiApp extends AppDefinition {
  /** per team, from the server (GET /auth/session) */
  activated: boolean
  activatedAt: number | null
}

export const APP_CATALOG: AppDefinition[] = [
  { key: 'scrm', titleKey: 'apps.scrm', home: '/scrm/overview', pathPrefix: '/scrm', apiPrefix: '/api/v1/scrm/' },
  { key: 'cloud_store', titleKey: 'apps.cloudStore', home: '/store/overview', pathPrefix: '/store', apiPrefix: '/api/v1/store/' },
]

export const APP_STORAGE_KEY = 'koi.app'
/** where the console goes when the team has no app yet */
export const MARKET_PATH = '/apps/market'

/** The app a console page belongs to (/scrm/… → scrm), or null for team-wide pages. */
export function appOfPath(path: string): AppKey | null {
  const app = APP_CATALOG.find((a) => path === a.pathPrefix || path.startsWith(a.pathPrefix + '/'))
  return app?.key ?? null
}

/** The app an API route belongs to (/api/v1/store/… → cloud_store), or null. */
export function appOfApiPath(path: string): AppKey | null {
  return APP_CATALOG.find((a) => path.startsWith(a.apiPrefix))?.key ?? null
}

export function isAppKey(key: unknown): key is AppKey {
  return APP_CATALOG.some((a) => a.key === key)
}

function savedApp(): string | null {
  try {
    return localStorage.getItem(APP_STORAGE_KEY)
  } catch {
    return null
  }
}

/** The apps of the team (activation from the session) and the one being used. */
export const useAppsStore = defineStore('apps', () => {
  const session = useSessionStore()
  const preferred = ref<string | null>(savedApp())

  const apps = computed<KoiApp[]>(() =>
    APP_CATALOG.map((def) => {
      const state = session.apps.find((a) => a.key === def.key)
      return { ...def, activated: state?.activated ?? false, activatedAt: state?.activated_at ?? null }
    }),
  )
  const activated = computed(() => apps.value.filter((a) => a.activated))
  /** the last app used if it is still activated, else the first activated one, else none */
  const current = computed<KoiApp | null>(
    () => activated.value.find((a) => a.key === preferred.value) ?? activated.value[0] ?? null,
  )
  /** where / leads */
  const homePath = computed(() => current.value?.home ?? MARKET_PATH)

  function find(key: string): KoiApp | undefined {
    return apps.value.find((a) => a.key === key)
  }

  function isActivated(key: string): boolean {
    return find(key)?.activated ?? false
  }

  function remember(key: AppKey) {
    preferred.value = key
    try {
      localStorage.setItem(APP_STORAGE_KEY, key)
    } catch {
      // private mode: the choice lasts for this tab only
    }
  }

  /** Makes an activated app the current one and returns its home; null (and no change) when it is not activated. */
  function switchTo(key: AppKey): string | null {
    const app = find(key)
    if (!app?.activated) return null
    remember(key)
    return app.home
  }

  /** A page of an activated app makes that app the current one (deep links, back button). */
  function follow(path: string) {
    const key = appOfPath(path)
    if (key && isActivated(key) && preferred.value !== key) remember(key)
  }

  return { apps, activated, current, homePath, find, isActivated, switchTo, follow }
})
