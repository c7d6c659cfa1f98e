// The chat sidebar page's flow (聊天工具栏 → 客户画像): sign the member in through WeCom, configure the JS-SDK with
// Koi's agentConfig signature, ask WeCom's client which customer this chat is with, then show and tag that customer
// as the member's own relationship sees them. Each step that can fail leaves a message (a locale key and values)
// and, where it helps, a way on (retry, sign in again).
import { ref } from 'vue'
import {
  getSidebarAgentConfigApi, getSidebarCustomerApi, getSidebarSessionApi, getSidebarTagGroupsApi, markSidebarTagsApi,
  sidebarSignInUrl, type SidebarApi,
} from '@/api/sidebar'
import { ApiError, errorText } from '@/api/request'
import { bridgeError, bridgeOk, bridgeReady, installFramedBridge, invoke } from '@/views/sidebar/jsbridge'

export type SidebarPhase = 'signing_in' | 'connecting' | 'loading' | 'ready' | 'failed'

export interface SidebarProblem {
  key: string
  values?: Record<string, string>
  /** offer to sign in again (the session is gone or belongs to another corp) */
  signIn?: boolean
}

/** How long to wait for WeCom's client to inject its bridge before saying the page is not in WeCom. */
export const BRIDGE_WAIT_MS = 3000

/** The page's own URL as WeCom signs it: without the #fragment. */
export function signedUrl(href: string): string {
  const hash = href.indexOf('#')
  return hash < 0 ? href : href.slice(0, hash)
}

/** The tag ids to add and to remove to go from `before` to `after`. */
export function tagDiff(before: readonly string[], after: readonly string[]): { add: string[]; remove: string[] } {
  const had = new Set(before)
  const wants = new Set(after)
  return { add: after.filter((id) => !had.has(id)), remove: before.filter((id) => !wants.has(id)) }
}

export function useSidebar(corp: string, page: string, win: Window = window) {
  const phase = ref<SidebarPhase>('signing_in')
  const problem = ref<SidebarProblem | null>(null)
  const session = ref<SidebarApi.Session | null>(null)
  const customer = ref<SidebarApi.Customer | null>(null)
  const tagGroups = ref<SidebarApi.TagGroup[]>([])
  const saving = ref(false)

  function fail(p: SidebarProblem) {
    problem.value = p
    phase.value = 'failed'
  }

  function signIn() {
    phase.value = 'signing_in'
    win.location.assign(sidebarSignInUrl(corp, page))
  }

  /** `signInError`: the reason the server's OAuth return sent back (?error=), shown instead of trying again. */
  async function start(signInError = '') {
    problem.value = null
    if (signInError) {
      const reason = /^[a-z0-9_]{1,64}$/.test(signInError) ? signInError : 'unknown'
      fail({ key: 'sidebar.signInFailed', values: { reason: errorText(new ApiError(400, reason, reason)) }, signIn: true })
      return
    }
    phase.value = 'signing_in'
    try {
      session.value = await getSidebarSessionApi()
    } catch (e) {
      if (e instanceof ApiError && e.reason === 'sidebar_unauthenticated') return signIn()
      return fail({ key: 'sidebar.signInFailed', values: { reason: errorText(e) } })
    }
    // A session of another corp's page (the member works for two corps): this page needs its own.
    if (session.value.corp_id !== corp) return signIn()

    phase.value = 'connecting'
    installFramedBridge(session.value.bridge_origin, win)
    if (!(await bridgeReady(BRIDGE_WAIT_MS, win))) return fail({ key: 'sidebar.notInWecom' })
    let config: SidebarApi.AgentConfig
    try {
      config = await getSidebarAgentConfigApi(signedUrl(win.location.href))
    } catch (e) {
      return fail({ key: 'sidebar.bridgeFailed', values: { reason: errorText(e) } })
    }
    const configured = await invoke('agentConfig', {
      corpid: config.corp_id,
      agentid: config.agent_id,
      timestamp: String(config.timestamp),
      nonceStr: config.nonce_str,
      signature: config.signature,
      jsApiList: ['getCurExternalContact'],
    }, 10_000, win)
    if (!bridgeOk(configured)) return fail({ key: 'sidebar.bridgeFailed', values: { reason: bridgeError(configured) } })
    const contact = await invoke('getCurExternalContact', {}, 10_000, win)
    const userId = typeof contact.userId === 'string' ? contact.userId : ''
    if (!bridgeOk(contact) || !userId) {
      const reason = bridgeError(contact)
      return fail(/context/.test(reason) ? { key: 'sidebar.noContact' } : { key: 'sidebar.bridgeFailed', values: { reason } })
    }

    phase.value = 'loading'
    try {
      const [c, groups] = await Promise.all([getSidebarCustomerApi(userId), getSidebarTagGroupsApi()])
      customer.value = c
      tagGroups.value = groups.items
      phase.value = 'ready'
    } catch (e) {
      const gone = e instanceof ApiError && e.reason === 'sidebar_unauthenticated'
      fail({ key: 'sidebar.signInFailed', values: { reason: errorText(e) }, signIn: gone })
    }
  }

  /** Sets the relationship's tags to `selected`; returns whether it worked (the error is left in `saveError`). */
  const saveError = ref('')
  async function saveTags(selected: string[]): Promise<boolean> {
    const c = customer.value
    const s = session.value
    if (!c || !s || !c.relationship) return false
    const { add, remove } = tagDiff(c.relationship.tags.map((x) => x.tag_id), selected)
    if (!add.length && !remove.length) return true
    saving.value = true
    saveError.value = ''
    try {
      const { tags } = await markSidebarTagsApi(c.external_userid, add, remove, s.csrf_token)
      c.relationship.tags = tags
      // The activity now starts with this tagging; the tags stand even if this read fails.
      customer.value = await getSidebarCustomerApi(c.external_userid).catch(() => c)
      return true
    } catch (e) {
      saveError.value = errorText(e)
      return false
    } finally {
      saving.value = false
    }
  }

  return { phase, problem, session, customer, tagGroups, saving, saveError, start, signIn, saveTags }
}
