import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { getSessionApi, type AuthApi } from '@/api/auth'
import { ApiError, errorText } from '@/api/request'

/**
 * Who is logged in: the account, the team and the team's apps, as GET /auth/session (and login, register, password
 * changes) return them. Loaded once when the console starts (`ensureLoaded`); a 401 from any later call clears it.
 */
export const useSessionStore = defineStore('session', () => {
  const session = ref<AuthApi.Session | null>(null)
  const loaded = ref(false)
  /** set when the session could not be asked for (server down); 401 is not an error, just "logged out" */
  const loadError = ref('')
  let pending: Promise<void> | null = null

  const account = computed(() => session.value?.account ?? null)
  const team = computed(() => session.value?.team ?? null)
  const apps = computed(() => session.value?.apps ?? [])
  const loggedIn = computed(() => session.value !== null)
  const isAdmin = computed(() => account.value?.role === 'admin')

  async function load(): Promise<void> {
    try {
      session.value = await getSessionApi()
      loadError.value = ''
    } catch (e) {
      session.value = null
      loadError.value = e instanceof ApiError && e.status === 401 ? '' : errorText(e)
    } finally {
      loaded.value = true
    }
  }

  /** The first call asks the server; later ones reuse what it said. */
  function ensureLoaded(): Promise<void> {
    if (loaded.value) return Promise.resolve()
    pending ??= load().finally(() => (pending = null))
    return pending
  }

  /** After login, register, a password reset or an account change: the server's new view of the session. */
  function set(next: AuthApi.Session) {
    session.value = next
    loaded.value = true
    loadError.value = ''
  }

  function clear() {
    session.value = null
    loaded.value = true
  }

  /** Keeps the session's app list in step after an activation, or after the server said an app is not activated. */
  function setApp(key: AuthApi.AppKey, activated: boolean, activatedAt: number | null = null) {
    if (!session.value) return
    const others = session.value.apps.filter((a) => a.key !== key)
    const before = session.value.apps.find((a) => a.key === key)
    const entry = { key, activated, activated_at: activated ? (activatedAt ?? before?.activated_at ?? Date.now()) : null }
    session.value = { ...session.value, apps: before ? session.value.apps.map((a) => (a.key === key ? entry : a)) : [...others, entry] }
  }

  return { session, loaded, loadError, account, team, apps, loggedIn, isAdmin, load, ensureLoaded, set, clear, setApp }
})
