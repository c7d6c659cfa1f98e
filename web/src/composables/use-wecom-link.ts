import { onScopeDispose, ref } from 'vue'
import { ApiError, errorText } from '@/api/request'
import { getWecomStateApi, linkWecomApi, startWecomInstallApi, startWecomSyncApi, type WecomApi } from '@/api/wecom'

/** how often the link page asks for the sync's progress while it is queued or running */
export const SYNC_POLL_MS = 2000

type SyncLike = Pick<WecomApi.Sync, 'state'> | null | undefined

/** A sync that has not ended yet (queued, or running). */
export function isSyncActive(sync: SyncLike): boolean {
  return sync?.state === 'queued' || sync?.state === 'running'
}

/**
 * The sync's progress bar, 0–100: progress_done of progress_total rounded down, so that 100 means finished; a
 * succeeded sync is 100, a sync that does not know its size yet is 0.
 */
export function syncPercent(sync: Pick<WecomApi.Sync, 'state' | 'progress_done' | 'progress_total'> | null | undefined): number {
  if (!sync) return 0
  if (sync.state === 'succeeded') return 100
  if (sync.progress_total <= 0) return 0
  const percent = Math.floor((sync.progress_done * 100) / sync.progress_total)
  return Math.max(0, Math.min(isSyncActive(sync) ? 99 : 100, percent))
}

/**
 * The last error of a sync in the user's language (errors.<last_error_reason>, as errorText does for API answers;
 * errors.unknown for a reason without a text), or '' when the last attempt did not fail.
 */
export function syncErrorText(sync: Pick<WecomApi.Sync, 'last_error_reason' | 'last_error'> | null | undefined): string {
  if (!sync?.last_error_reason) return ''
  return errorText(new ApiError(0, sync.last_error_reason, sync.last_error))
}

/**
 * The callback URL to enter in WeCom (接收消息 → 设置API接收): the console's origin and the path the server gives
 * (`callbacks.url_path`), or '' when there is no path (not linked). WeCom calls the same server that serves the console.
 */
export function callbackUrl(origin: string, urlPath: string | null | undefined): string {
  if (!urlPath) return ''
  return `${origin.replace(/\/+$/, '')}/${urlPath.replace(/^\/+/, '')}`
}

/** Whether WeCom has sent this team any callback yet (the card shows an empty state until then). */
export function callbacksReceived(callbacks: WecomApi.Callbacks | null | undefined): boolean {
  if (!callbacks) return false
  return callbacks.last_received_at !== null || callbacks.pending + callbacks.applied + callbacks.failed > 0
}

/** Whether this server can install Koi's third-party app (前往授权): it has a WeCom suite configured. */
export function installAvailable(state: Pick<WecomApi.State, 'install'> | null | undefined): boolean {
  return state?.install?.available === true
}

/** The install link as an http(s) address to open, or '' for anything else (the console opens nothing else). */
export function installTarget(url: string | null | undefined): string {
  if (!url) return ''
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : ''
  } catch {
    return ''
  }
}

/** Opens WeCom's authorisation page in this tab (the install comes back to /scrm/setup). */
export function openInstallPage(url: string): void {
  window.location.assign(url)
}

export type LinkForm = WecomApi.LinkRequest & { agent_id: string }

/** The request body from the form: every value trimmed (copied secrets often bring spaces); no empty agent_id. */
export function linkRequest(form: LinkForm): WecomApi.LinkRequest {
  const body: WecomApi.LinkRequest = {
    corp_id: form.corp_id.trim(),
    secret: form.secret.trim(),
    callback_token: form.callback_token.trim(),
    encoding_aes_key: form.encoding_aes_key.trim(),
  }
  const agent = form.agent_id.trim()
  if (agent) body.agent_id = agent
  return body
}

/**
 * The team's WeCom link (企业授权): its state, linking (admin), the third-party install (admin), "sync again" (admin),
 * and the progress of the sync.
 * While the sync is queued or running the state is asked for again every `pollMs` (one request at a time); polling
 * stops when the sync ends, and for good when the scope that created it ends (leaving the page). `pollMs: 0` never
 * polls (the overview). Answers to loads that started before a link or a sync start are ignored: the write's own
 * answer is newer.
 */
export function useWecomLink(options: { pollMs?: number } = {}) {
  const pollMs = options.pollMs ?? SYNC_POLL_MS
  const state = ref<WecomApi.State | null>(null)
  const loading = ref(false)
  const error = ref('')
  const linking = ref(false)
  const linkError = ref('')
  const starting = ref(false)
  /** the install link is being asked for, or WeCom's page is opening */
  const installing = ref(false)
  const installError = ref('')
  /** a poll is scheduled */
  const polling = ref(false)

  let latest = 0
  let writes = 0
  let disposed = false
  let timer: ReturnType<typeof setTimeout> | undefined

  function stopPolling() {
    if (timer) clearTimeout(timer)
    timer = undefined
    polling.value = false
  }

  /** Schedules the next poll when the sync is still going (and only one at a time). */
  function schedule() {
    stopPolling()
    if (disposed || pollMs <= 0 || writes > 0 || !isSyncActive(state.value?.sync)) return
    polling.value = true
    timer = setTimeout(() => {
      timer = undefined
      void load()
    }, pollMs)
  }

  function apply(next: WecomApi.State) {
    state.value = next
    error.value = ''
  }

  async function load(): Promise<void> {
    if (disposed || writes > 0) return
    const ticket = ++latest
    loading.value = true
    try {
      const next = await getWecomStateApi()
      if (disposed || ticket !== latest) return
      apply(next)
    } catch (e) {
      if (disposed || ticket !== latest) return
      // app_not_activated: the layout shows "activate it first" instead of the page.
      error.value = e instanceof ApiError && e.reason === 'app_not_activated' ? '' : errorText(e)
    } finally {
      if (ticket === latest) {
        loading.value = false
        // A failed poll keeps polling while the last known sync is still going (the server may be restarting).
        schedule()
      }
    }
  }

  /** Runs a write: loads that are under way are ignored, and polling waits for the write's own answer. */
  async function write<R>(run: () => Promise<R>): Promise<R> {
    writes++
    latest++
    loading.value = false
    stopPolling()
    try {
      return await run()
    } finally {
      writes--
      schedule()
    }
  }

  /** Links the corp (the server checks the secret with WeCom and queues the first sync); null with linkError set. */
  async function link(form: LinkForm): Promise<WecomApi.State | null> {
    linking.value = true
    linkError.value = ''
    try {
      return await write(async () => {
        const next = await linkWecomApi(linkRequest(form))
        if (!disposed) apply(next)
        return next
      })
    } catch (e) {
      linkError.value = errorText(e)
      return null
    } finally {
      linking.value = false
    }
  }

  /** Starts a full sync (or gets the one queued or running) and polls it; a refusal is thrown (ApiError). */
  async function syncAgain(): Promise<WecomApi.Sync> {
    starting.value = true
    try {
      return await write(async () => {
        const sync = await startWecomSyncApi()
        if (!disposed && state.value) state.value = { ...state.value, sync }
        return sync
      })
    } finally {
      starting.value = false
    }
  }

  /**
   * 前往授权 (admin): asks the server for WeCom's authorisation page and opens it in this tab (`navigate`); false with
   * installError set when the server refused. `installing` stays true while the page is being left.
   */
  async function install(navigate: (url: string) => void = openInstallPage): Promise<boolean> {
    installing.value = true
    installError.value = ''
    try {
      const link = await startWecomInstallApi()
      const url = installTarget(link?.install_url)
      if (!url) throw new ApiError(0, 'wecom_bad_response', `install_url is not an http(s) address: ${link?.install_url}`)
      // Left the page while waiting: do not take the user away from where they went.
      if (disposed) {
        installing.value = false
        return false
      }
      navigate(url)
      return true
    } catch (e) {
      installError.value = errorText(e)
      installing.value = false
      return false
    }
  }

  // Back from WeCom's page with the browser's back button: the page may come back from the back-forward cache as it
  // was left, button spinning.
  const onPageShow = (e: PageTransitionEvent) => {
    if (e.persisted) installing.value = false
  }
  if (typeof window !== 'undefined') window.addEventListener('pageshow', onPageShow)

  onScopeDispose(() => {
    disposed = true
    stopPolling()
    if (typeof window !== 'undefined') window.removeEventListener('pageshow', onPageShow)
  })

  return {
    state, loading, error, linking, linkError, starting, installing, installError, polling, load, link, install, syncAgain,
    stopPolling,
  }
}
