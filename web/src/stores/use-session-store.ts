import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { getSessionApi, type AuthApi } from '@/api/auth'
import { ApiError, errorText } from '@/api/request'

/** how long the console waits before asking GET /auth/session a second time when the first ask failed */
export const SESSION_RETRY_MS = 1000

/**
 * Who is logged in: the account, the team and the team's apps, as GET /auth/session (and login, register, password
 * and phone changes) return them. Loaded when the console starts (`ensureLoaded`, which the router waits for); a 401
 * from any later call clears it.
 *
 * Only a 401 means "logged out". When the server cannot be asked (network, timeout, 5xx) the store stays unloaded:
 * `ensureLoaded` asks once more after SESSION_RETRY_MS, then sets `unreachable` (App.vue shows "cannot reach the
 * server" with a retry button) and keeps waiting until `retry` gets an answer.
 *
 * Every write (set, clear, setApp, an applied answer) bumps a revision. An answer to a load that started before the
 * latest write is ignored, so a slow GET /auth/session cannot undo a login, a logout or an activation made meanwhile;
 * other readers of the server (GET /apps) use `revision()` the same way.
 */
export const useSessionStore = defineStore('session', () => {
  const session = ref<AuthApi.Session | null>(null)
  /** the server said who is logged in, or that nobody is */
  const loaded = ref(false)
  /** why the last ask failed (server unreachable, timeout, 5xx), localised; '' after an answer */
  const loadError = ref('')
  /** the first asks failed and the console waits for the user to retry */
  const unreachable = ref(false)
  /** how many GET /auth/session are running */
  const running = ref(0)
  const checking = computed(() => running.value > 0)

  let writes = 0
  let waiting: Promise<void> | null = null
  let wake: (() => void) | null = null

  const account = computed(() => session.value?.account ?? null)
  const team = computed(() => session.value?.team ?? null)
  const apps = computed(() => session.value?.apps ?? [])
  const loggedIn = computed(() => session.value !== null)
  const isAdmin = computed(() => account.value?.role === 'admin')

  /** The number of writes so far: compare before and after a call to know whether the store changed meanwhile. */
  function revision(): number {
    return writes
  }

  function write(next: AuthApi.Session | null) {
    writes++
    session.value = next
    loaded.value = true
    loadError.value = ''
    unreachable.value = false
    // Navigations waiting in ensureLoaded go on.
    wake?.()
    wake = null
    waiting = null
  }

  /**
   * Asks the server once. Resolves to whether the store knows the session afterwards; a failure leaves what the
   * store knew (a logged-in user stays logged in) and sets `loadError`.
   */
  async function load(): Promise<boolean> {
    const startedAt = writes
    running.value++
    try {
      const next = await getSessionApi()
      if (writes === startedAt) write(next)
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        if (writes === startedAt) write(null)
      } else if (writes === startedAt) {
        loadError.value = errorText(e)
      }
    } finally {
      running.value--
    }
    return loaded.value
  }

  async function firstAsk() {
    if (await load()) return
    await new Promise((resolve) => setTimeout(resolve, SESSION_RETRY_MS))
    if (loaded.value || (await load())) return
    unreachable.value = true
  }

  /** Resolves once the session is known; the first call asks the server, later ones reuse what it said. */
  function ensureLoaded(): Promise<void> {
    if (loaded.value) return Promise.resolve()
    if (!waiting) {
      waiting = new Promise<void>((resolve) => (wake = resolve))
      void firstAsk()
    }
    return waiting
  }

  /** The retry button of the "cannot reach the server" page. */
  function retry(): Promise<boolean> {
    return load()
  }

  /** After login, register, a password reset or an account change: the server's new view of the session. */
  function set(next: AuthApi.Session) {
    write(next)
  }

  function clear() {
    write(null)
  }

  /** Keeps the session's app list in step after an activation, or after the server said an app is not activated. */
  function setApp(key: AuthApi.AppKey, activated: boolean, activatedAt: number | null = null) {
    if (!session.value) return
    writes++
    const others = session.value.apps.filter((a) => a.key !== key)
    const before = session.value.apps.find((a) => a.key === key)
    const entry = { key, activated, activated_at: activated ? (activatedAt ?? before?.activated_at ?? Date.now()) : null }
    session.value = { ...session.value, apps: before ? session.value.apps.map((a) => (a.key === key ? entry : a)) : [...others, entry] }
  }

  return {
    session, loaded, loadError, unreachable, checking, account, team, apps, loggedIn, isAdmin,
    revision, load, ensureLoaded, retry, set, clear, setApp,
  }
})
