// The chat sidebar pages' flow (聊天工具栏 → 客户画像, 群画像): sign the member in through WeCom, configure the JS-SDK
// with Koi's agentConfig signature, ask WeCom's client what this chat is (the customer of a one-to-one chat, or the
// customer group chat), then load it: the customer as the member's own relationship sees them (with its tags
// editable), or the group with its members a page at a time. Only that last part — which JS-API to ask, which id it
// answers, what to load — is the page's own (PageStep). Each step that can fail leaves a message (a locale key and
// values) and, where it helps, a way on (retry, sign in again).
import { ref } from 'vue'
import {
  getSidebarAgentConfigApi, getSidebarCustomerApi, getSidebarGroupApi, getSidebarSessionApi, getSidebarTagGroupsApi,
  markSidebarTagsApi, sidebarSignInUrl, SIDEBAR_GROUP_PAGE_SIZE, type SidebarApi,
} from '@/api/sidebar'
import { ApiError, errorText } from '@/api/request'
import { bridgeError, bridgeOk, bridgeReady, installFramedBridge, invoke } from '@/views/sidebar/jsbridge'

/** The sidebar's pages (the route's :page). */
export type SidebarPage = 'customer' | 'group'
export const SIDEBAR_PAGES: readonly SidebarPage[] = ['customer', 'group']
export function isSidebarPage(value: unknown): value is SidebarPage {
  return SIDEBAR_PAGES.includes(value as SidebarPage)
}

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

/** A page's own part of the flow, once WeCom's client is configured. */
interface PageStep {
  /** the JS-API that tells what this chat is (the only one agentConfig asks for) */
  api: string
  /** the field of its answer holding the id */
  idField: string
  /** a failure whose reason matches means the chat is not of the page's kind: `notHereKey` says so */
  notHere: RegExp
  notHereKey: string
  /** loads what the id names; ends with phase 'ready' or a failure */
  load(id: string): Promise<void>
}

/** `page`: one of SIDEBAR_PAGES (the router admits no other); anything else is taken as the customer page. */
export function useSidebar(corp: string, page: string, win: Window = window) {
  const phase = ref<SidebarPhase>('signing_in')
  const problem = ref<SidebarProblem | null>(null)
  const session = ref<SidebarApi.Session | null>(null)
  // 客户画像
  const customer = ref<SidebarApi.Customer | null>(null)
  const tagGroups = ref<SidebarApi.TagGroup[]>([])
  const saving = ref(false)
  // 群画像
  const group = ref<SidebarApi.Group | null>(null)
  /** the chat WeCom's client named, which every page of members is read for */
  const chatId = ref('')
  const membersLoading = ref(false)
  /** why the last page of members could not be read ('' when it could); the page shown stays */
  const membersError = ref('')
  /** counts the group reads, so that only the latest one's answer is taken */
  let groupReads = 0

  function fail(p: SidebarProblem) {
    problem.value = p
    phase.value = 'failed'
  }

  function signIn() {
    phase.value = 'signing_in'
    win.location.assign(sidebarSignInUrl(corp, page))
  }

  // The page's own part; loadCustomer and loadGroup are below.
  const steps: Record<SidebarPage, PageStep> = {
    // Beside a group chat WeCom answers "getCurExternalContact:fail without context of external contact".
    customer: { api: 'getCurExternalContact', idField: 'userId', notHere: /context/, notHereKey: 'sidebar.noContact', load: loadCustomer },
    // Beside a one-to-one chat getCurExternalChat fails too, its reason saying the chat is no group ("…context…",
    // "…not in group…").
    group: { api: 'getCurExternalChat', idField: 'chatId', notHere: /context|not in group/i, notHereKey: 'sidebar.noGroupChat', load: loadGroup },
  }
  const step = steps[isSidebarPage(page) ? page : 'customer']

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
      jsApiList: [step.api],
    }, 10_000, win)
    if (!bridgeOk(configured)) return fail({ key: 'sidebar.bridgeFailed', values: { reason: bridgeError(configured) } })
    const current = await invoke(step.api, {}, 10_000, win)
    const id = typeof current[step.idField] === 'string' ? current[step.idField] as string : ''
    if (!bridgeOk(current) || !id) {
      const reason = bridgeError(current)
      return fail(step.notHere.test(reason) ? { key: step.notHereKey } : { key: 'sidebar.bridgeFailed', values: { reason } })
    }

    phase.value = 'loading'
    await step.load(id)
  }

  async function loadCustomer(userId: string) {
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

  async function loadGroup(id: string) {
    const read = ++groupReads
    chatId.value = id
    group.value = null
    membersError.value = ''
    membersLoading.value = false
    try {
      const g = await getSidebarGroupApi(id, 1, SIDEBAR_GROUP_PAGE_SIZE)
      if (read !== groupReads) return
      group.value = g
      phase.value = 'ready'
    } catch (e) {
      if (read !== groupReads) return
      if (e instanceof ApiError && e.reason === 'group_not_found') return fail({ key: 'sidebar.groupNotFound' })
      if (e instanceof ApiError && e.reason === 'sidebar_unauthenticated') {
        return fail({ key: 'sidebar.signInFailed', values: { reason: errorText(e) }, signIn: true })
      }
      fail({ key: 'sidebar.groupLoadFailed', values: { reason: errorText(e) } })
    }
  }

  /** Reads page `n` of the group's members (the group's facts come along, fresh); a failure leaves the page shown. */
  async function loadMembers(n: number): Promise<void> {
    const id = chatId.value
    if (!id || !group.value) return
    const read = ++groupReads
    membersLoading.value = true
    membersError.value = ''
    try {
      const g = await getSidebarGroupApi(id, n, SIDEBAR_GROUP_PAGE_SIZE)
      if (read === groupReads) group.value = g
    } catch (e) {
      if (read === groupReads) membersError.value = errorText(e)
    } finally {
      if (read === groupReads) membersLoading.value = false
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

  return {
    phase, problem, session, start, signIn,
    customer, tagGroups, saving, saveError, saveTags,
    group, chatId, membersLoading, membersError, loadMembers,
  }
}
