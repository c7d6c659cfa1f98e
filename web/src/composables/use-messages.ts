import { computed, getCurrentScope, onScopeDispose, reactive, ref, watch } from 'vue'
import {
  cancelMessageApi, createMessageApi, deleteMessageApi, getMessageApi, getRulePackApi, listCustomerMessagesApi, listMessagesApi,
  listRecipientsApi, previewMessagePlanApi, refreshMessageApi, remindMessageApi, sendMessageApi, setRulePackApi, updateMessageApi, type MessagesApi,
} from '@/api/messages'
import { listSegmentsApi, type SegmentsApi } from '@/api/segments'
import { getScrmScopeApi, listCustomersApi, type CustomersApi } from '@/api/customers'
import { ApiError, errorText } from '@/api/request'
import { i18n } from '@/locales'
import {
  contentProblems, contentRulesOf, fromAttachment, groupTargetMode, locateServerPath, targetMode, titleProblem, toContent,
  toGroupTarget, toTarget, type Audience, type EditorAttachment, type GroupTargetMode, type TargetMode,
} from './message-content'
import { scheduleProblem, shouldPoll, POLL_MS } from './message-plan'
import { carryUploads, releaseUploads } from './media-upload'
import { completeRule, emptyRule, fromRule, nodeAtPath, rulePathOf, type EditorGroup } from './segment-rule'
import { useAction, useItemActions, useLatestLoad } from './use-async-action'
import { usePagedList } from './use-paged-list'
import { useRemoteOptions } from './use-remote-options'

/** Refusals whose server message names the field at fault: the console shows it beside its own text. */
const DETAILED = /^(message_|invalid_rule_override$|invalid_query$|invalid_segment_rule$)/

/**
 * A failure in the user's language; a refusal of the content, the target or a rule value also gives the server's
 * message, which names the field ("content.attachments[1].url: must be an http:// or https:// URL").
 */
export function messageErrorText(e: unknown): string {
  const text = errorText(e)
  if (e instanceof ApiError && e.message && DETAILED.test(e.reason)) return i18n.global.t('messages.errorDetail', { text, detail: e.message })
  return text
}

// ----- the list ----------------------------------------------------------------------------------------------------

/** The mass messages, a page at a time from the server (newest first), filtered by state; deleting a draft, cancelling. */
export function useMessageList(pageSize = 20) {
  /** '' every state */
  const state = ref('')
  const list = usePagedList<MessagesApi.Message>((page, size) => listMessagesApi(page, size, state.value), pageSize)
  /** loaded at least once (the empty state waits for it) */
  const loaded = ref(false)
  const { actionError, run, isBusy } = useItemActions<number>()

  async function load(page?: number): Promise<void> {
    await list.load(page)
    if (!list.error.value) loaded.value = true
  }

  /** Shows the messages in `s` ('' all) from the first page. */
  function filter(s: string): Promise<void> {
    state.value = s
    return load(1)
  }

  /** Deletes a draft; the list is loaded again either way. */
  async function remove(m: MessagesApi.Message): Promise<boolean> {
    const done = await run(m.id, () => deleteMessageApi(m.id), (e) => (actionError.value = messageErrorText(e)))
    await list.load()
    return done
  }

  /** Cancels a scheduled, sending or sent message; the list is loaded again either way. */
  async function cancel(m: MessagesApi.Message): Promise<boolean> {
    const done = await run(m.id, () => cancelMessageApi(m.id), (e) => (actionError.value = messageErrorText(e)))
    await list.load()
    return done
  }

  return { ...list, state, loaded, load, filter, actionError, remove, cancel, isBusy }
}

// ----- the composer ------------------------------------------------------------------------------------------------

/** Which kinds the caller may create: enterprise is the admin's; personal needs a bound employee (null: not known yet). */
export function kindChoices(who: { isAdmin: boolean; bound: boolean | null }): { enterprise: boolean; personal: boolean; preferred: MessagesApi.Kind } {
  return {
    enterprise: who.isAdmin,
    // An admin's scope does not say whether the admin is bound: the server answers message_no_sender if not.
    personal: who.isAdmin || who.bound !== false,
    preferred: who.isAdmin ? 'enterprise' : 'personal',
  }
}

/**
 * The composer of a mass message: the content and the target as edited (to customers: a segment, a rule or picked
 * customers; to groups: by owner, by group tag or picked groups), the draft as saved (with its plan), and
 * saving (POST a new draft, PUT a saved one; the server plans it either way) and sending. Checks are made here first
 * as the server would; a refusal keeps everything typed and says where it is (`serverPath`: the step, the
 * attachment). `dirty` says whether what is edited differs from the draft saved, whose plan is then out of date.
 */
export function useMessageComposer() {
  const kind = ref<MessagesApi.Kind>('enterprise')
  const title = ref('')
  const text = ref('')
  const attachments = ref<EditorAttachment[]>([])
  const mode = ref<TargetMode>('segment')
  const segmentId = ref<number | null>(null)
  const root = ref<EditorGroup>(emptyRule())
  const customerIds = ref<string[]>([])
  const audience = ref<Audience>('customers')
  const groupMode = ref<GroupTargetMode>('owner')
  const groupOwners = ref<string[]>([])
  const groupTagIds = ref<number[]>([])
  const chatIds = ref<string[]>([])

  const message = ref<MessagesApi.Message | null>(null)
  const savedKey = ref('')
  const rulePack = ref<MessagesApi.RulePackSetting | null>(null)
  const loading = ref(false)
  const error = ref('')
  const notFound = ref(false)
  const { pending: saving, error: saveError, run: runSave } = useAction()
  const { pending: sending, error: sendError, run: runSend } = useAction()
  /** where the last refusal points */
  const serverPath = ref<ReturnType<typeof locateServerPath>>({ step: null, index: null, field: null })
  /** the path of the rule node the server refused ('' none) */
  const rulePath = ref('')
  let latest = 0

  const rules = computed(() => contentRulesOf(rulePack.value))
  const problems = computed(() => contentProblems(text.value, attachments.value, rules.value, audience.value))
  const titleIssue = computed(() => titleProblem(title.value))
  const rule = computed(() => completeRule(root.value))
  const target = computed<{ target: MessagesApi.Target | null; problem: string | null }>(() =>
    audience.value === 'groups'
      ? toGroupTarget(groupMode.value, { owners: groupOwners.value, tagIds: groupTagIds.value, chatIds: chatIds.value })
      : toTarget(mode.value, { segmentId: segmentId.value, rule: rule.value, customerIds: customerIds.value }),
  )
  const badRuleKey = computed(() => (rulePath.value ? nodeAtPath(root.value, rulePath.value) : null))

  /** The body POST/PUT take, or null while the target is unfinished (to customers, the default, without `audience`). */
  const body = computed<MessagesApi.Draft | null>(() => {
    const t = target.value.target
    if (!t) return null
    const to = audience.value === 'groups' ? { audience: audience.value } : {}
    return { kind: kind.value, ...to, title: title.value.trim(), content: toContent(text.value, attachments.value), target: t }
  })
  const key = computed(() => JSON.stringify(body.value ?? {
    kind: kind.value, title: title.value, text: text.value, attachments: attachments.value, mode: mode.value, audience: audience.value,
    groupMode: groupMode.value,
  }))
  const dirty = computed(() => !message.value || key.value !== savedKey.value)
  /** a saved message that is not a draft any more: it cannot be edited */
  const locked = computed(() => !!message.value && message.value.state !== 'draft')

  function apply(m: MessagesApi.Message) {
    message.value = m
    kind.value = m.kind
    title.value = m.title
    text.value = m.content?.text ?? ''
    // The files uploaded before saving keep their thumbnails.
    attachments.value = carryUploads(attachments.value, (m.content?.attachments ?? []).map(fromAttachment))
    mode.value = targetMode(m.target)
    segmentId.value = m.target?.segment_id ?? null
    root.value = m.target?.rule ? fromRule(m.target.rule) : emptyRule()
    customerIds.value = [...(m.target?.customer_ids ?? [])]
    audience.value = m.audience === 'groups' ? 'groups' : 'customers'
    groupMode.value = groupTargetMode(m.target)
    groupOwners.value = [...(m.target?.group_owners ?? [])]
    groupTagIds.value = [...(m.target?.group_tag_ids ?? [])]
    chatIds.value = [...(m.target?.chat_ids ?? [])]
    savedKey.value = key.value
  }

  /** Starts a new message of `k` (nothing typed yet). */
  function startNew(k: MessagesApi.Kind) {
    latest++
    loading.value = false
    message.value = null
    kind.value = k
    title.value = ''
    text.value = ''
    attachments.value.forEach(releaseUploads)
    attachments.value = []
    mode.value = 'segment'
    segmentId.value = null
    root.value = emptyRule()
    customerIds.value = []
    audience.value = 'customers'
    groupMode.value = 'owner'
    groupOwners.value = []
    groupTagIds.value = []
    chatIds.value = []
    savedKey.value = ''
    error.value = ''
    saveError.value = ''
    sendError.value = ''
    notFound.value = false
  }

  /** Loads message `id` into the composer (only the latest load counts). */
  async function load(id: number): Promise<void> {
    const ticket = ++latest
    loading.value = true
    error.value = ''
    notFound.value = false
    try {
      const m = await getMessageApi(id)
      if (ticket === latest) apply(m)
    } catch (e) {
      if (ticket !== latest) return
      if (e instanceof ApiError && e.reason === 'message_not_found') notFound.value = true
      else error.value = errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** The team's rule pack (its content limits); without it the current packs' limits are assumed. */
  async function loadRulePack(): Promise<void> {
    try {
      rulePack.value = await getRulePackApi()
    } catch {
      // The server checks the content anyway.
    }
  }

  /**
   * Why the draft cannot be saved as it is ('' when it can): the title, the content (its first problem, in the
   * server's order) or the target.
   */
  function clientProblem(): string {
    const t = i18n.global.t
    if (titleIssue.value) return errorText(new ApiError(0, titleIssue.value, ''))
    const p = problems.value[0]
    if (p) {
      const where = p.index === null ? {} : { n: p.index + 1, field: p.field ? t(`messages.fields.${p.field}`) : '' }
      return t(`messages.problems.${p.key}`, { ...p.values, ...where })
    }
    const tp = target.value.problem
    if (tp) return t(`messages.target.problems.${tp}`)
    return ''
  }

  /** Saves the draft (the server plans it): the message, or null with `saveError` (and `serverPath`) set. */
  async function save(): Promise<MessagesApi.Message | null> {
    if (saving.value || locked.value) return null
    const problem = clientProblem()
    if (problem) {
      saveError.value = problem
      serverPath.value = { step: titleIssue.value || problems.value.length ? 0 : 1, index: problems.value[0]?.index ?? null, field: null }
      return null
    }
    const draft = body.value!
    const current = message.value
    serverPath.value = { step: null, index: null, field: null }
    rulePath.value = ''
    return runSave(
      async () => {
        const m = current ? await updateMessageApi(current.id, draft) : await createMessageApi(draft)
        latest++
        loading.value = false
        apply(m)
        return m
      },
      (e) => {
        saveError.value = messageErrorText(e)
        if (e instanceof ApiError) {
          serverPath.value = locateServerPath(e.message)
          if (e.reason === 'message_variable_groups') serverPath.value = { step: 0, index: null, field: 'text' }
          if (e.reason === 'invalid_segment_rule') {
            serverPath.value = { step: 1, index: null, field: null }
            rulePath.value = rulePathOf(e.message)
          }
        }
      },
    )
  }

  /** Sends the saved draft now (`sendAt` null) or at `sendAt`: the message, or null with `sendError` set. */
  async function send(sendAt: number | null, now = Date.now()): Promise<MessagesApi.Message | null> {
    const current = message.value
    if (!current || dirty.value) return null
    if (sendAt !== null) {
      const p = scheduleProblem(sendAt, now)
      if (p) {
        sendError.value = p === 'noTime' ? i18n.global.t('messages.send.pickTime') : errorText(new ApiError(0, p, ''))
        return null
      }
    }
    return runSend(
      async () => {
        const m = await sendMessageApi(current.id, sendAt)
        message.value = m
        return m
      },
      (e) => (sendError.value = messageErrorText(e)),
    )
  }

  // The local copies of uploaded images go with the composer.
  if (getCurrentScope()) onScopeDispose(() => attachments.value.forEach(releaseUploads))

  return {
    kind, title, text, attachments, mode, segmentId, root, customerIds, audience, groupMode, groupOwners, groupTagIds, chatIds,
    message, rulePack, rules, problems, titleIssue, target,
    body, dirty, locked, loading, error, notFound, saving, saveError, sending, sendError, serverPath, rulePath, badRuleKey,
    startNew, load, loadRulePack, save, send, clientProblem,
  }
}

/** how long the draft must stay unchanged before its plan is previewed */
export const PREVIEW_DEBOUNCE_MS = 500

/**
 * The composer's live plan: the draft `body()` planned on the server without saving it (POST …/messages/preview),
 * once it stayed unchanged for `debounceMs`; only the answer to the latest body is kept, and nothing is asked while
 * `body()` is null (unfinished). A refusal is said as messageErrorText says it.
 */
export function usePlanPreview(body: () => MessagesApi.Draft | null, options: { debounceMs?: number } = {}) {
  const debounceMs = options.debounceMs ?? PREVIEW_DEBOUNCE_MS
  const plan = ref<MessagesApi.PlanPreview | null>(null)
  const loading = ref(false)
  const error = ref('')
  const key = computed(() => {
    const b = body()
    return b ? JSON.stringify(b) : ''
  })
  let latest = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const stopTimer = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
  }

  async function ask(text: string): Promise<void> {
    stopTimer()
    const ticket = ++latest
    loading.value = true
    try {
      const p = await previewMessagePlanApi(JSON.parse(text) as MessagesApi.Draft)
      if (ticket !== latest) return
      plan.value = p
      error.value = ''
    } catch (e) {
      if (ticket !== latest) return
      plan.value = null
      error.value = messageErrorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  watch(
    key,
    (text) => {
      stopTimer()
      latest++
      // The plan shown stays (marked as being recomputed) until the new one comes; an unfinished draft has none.
      if (!text) plan.value = null
      error.value = ''
      loading.value = !!text
      if (text) timer = setTimeout(() => void ask(text), debounceMs)
    },
    { immediate: true },
  )

  onScopeDispose(() => {
    stopTimer()
    latest++
  })

  return { plan, loading, error, refresh: () => (key.value ? ask(key.value) : Promise.resolve()) }
}

/** Whether the caller's account is bound to a WeCom employee (null until known; personal messages need one). */
export function useOwnBinding() {
  const scope = ref<CustomersApi.MyScope | null>(null)
  const { loading, load } = useLatestLoad(() => getScrmScopeApi(), (s) => (scope.value = s))
  const bound = computed<boolean | null>(() => (scope.value ? scope.value.bound : null))
  return { scope, bound, loading, load }
}

// ----- the detail page ---------------------------------------------------------------------------------------------

/**
 * One message as the detail page follows it: loaded, then asked for again every POLL_MS while it is scheduled or
 * being sent (until sent, done, cancelled or failed; never after the page is gone), and the actions on it (refresh
 * the results from WeCom, remind the employees, cancel), each showing the message as the server answered.
 */
export function useMessageDetail(id: () => number | null, options: { pollMs?: number } = {}) {
  const pollMs = options.pollMs ?? POLL_MS
  const message = ref<MessagesApi.Message | null>(null)
  const loading = ref(false)
  const error = ref('')
  const notFound = ref(false)
  const actionError = ref('')
  const refreshing = useAction(actionError)
  const reminding = useAction(actionError)
  const cancelling = useAction(actionError)
  let timer: ReturnType<typeof setTimeout> | undefined
  let latest = 0
  let disposed = false

  const stopPolling = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
  }
  /** whether the page is asking for news */
  const polling = ref(false)

  function follow(m: MessagesApi.Message) {
    message.value = m
    stopPolling()
    polling.value = !disposed && shouldPoll(m.state)
    if (polling.value) timer = setTimeout(() => void load(true), pollMs)
  }

  /** Loads the message (`quiet`: a poll, whose failure keeps what is shown and tries again). */
  async function load(quiet = false): Promise<void> {
    const current = id()
    if (current === null) return
    const ticket = ++latest
    if (!quiet) loading.value = true
    try {
      const m = await getMessageApi(current)
      if (ticket !== latest || disposed) return
      error.value = ''
      notFound.value = false
      follow(m)
    } catch (e) {
      if (ticket !== latest || disposed) return
      if (e instanceof ApiError && e.reason === 'message_not_found') {
        notFound.value = true
        message.value = null
        stopPolling()
        polling.value = false
      } else {
        error.value = errorText(e)
        // A poll that failed (the server restarting) tries again; a first load waits for the user.
        if (quiet && message.value && shouldPoll(message.value.state)) timer = setTimeout(() => void load(true), pollMs)
      }
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  async function act(action: typeof refreshing, call: (id: number) => Promise<MessagesApi.Message>): Promise<boolean> {
    const m = message.value
    if (!m) return false
    const done = await action.run(
      async () => {
        const next = await call(m.id)
        latest++ // an older answer must not undo this one
        loading.value = false
        follow(next)
        return true
      },
      (e) => (actionError.value = messageErrorText(e)),
    )
    return done ?? false
  }

  onScopeDispose(() => {
    disposed = true
    stopPolling()
    latest++
  })

  return {
    message, loading, error, notFound, polling, actionError, load, stopPolling,
    refreshing: refreshing.pending, reminding: reminding.pending, cancelling: cancelling.pending,
    refresh: () => act(refreshing, refreshMessageApi),
    remind: () => act(reminding, remindMessageApi),
    cancel: () => act(cancelling, cancelMessageApi),
  }
}

/** A message's recipients (and skipped customers), a server page at a time, filtered by skip reason, status, employee. */
export function useRecipients(id: () => number | null, pageSize = 20) {
  const filter = reactive<Required<MessagesApi.RecipientQuery>>({ skip: '', status: null, userid: '' })
  const list = usePagedList<MessagesApi.Recipient>((page, size) => {
    const current = id()
    if (current === null) return Promise.resolve({ items: [], total: 0, page: 1, page_size: size })
    return listRecipientsApi(current, page, size, { ...filter })
  }, pageSize)

  /** Changes the filters given and shows the first page. */
  function setFilter(next: Partial<MessagesApi.RecipientQuery>): Promise<void> {
    Object.assign(filter, next)
    return list.load(1)
  }

  return { ...list, filter, setFilter }
}

// ----- the rule pack -----------------------------------------------------------------------------------------------

/**
 * The team's rule pack (规则包) in settings: the pack, the mass-message values in force beside the pack's own, and
 * (the admin) picking a pack and overriding values. `edited` holds the values as edited (key → value); saving sends
 * as overrides those that differ from the pack's own. Switching to another pack drops the overrides (that pack's
 * values show once saved).
 */
export function useRulePack() {
  const setting = ref<MessagesApi.RulePackSetting | null>(null)
  const pack = ref('')
  const edited = ref<Record<string, number>>({})
  const { loading, loaded, error, load, supersede } = useLatestLoad(() => getRulePackApi(), (s) => apply(s))
  const { pending: saving, error: saveError, run } = useAction()

  const base = computed<Record<string, number>>(() => Object.fromEntries((setting.value?.values ?? []).map((v) => [v.key, v.base])))
  const switching = computed(() => !!setting.value && pack.value !== setting.value.pack)
  /** what PUT would send as overrides */
  const overrides = computed(() => (switching.value ? {} : pickOverrides(base.value, edited.value, setting.value?.overrides ?? {})))
  const dirty = computed(() => {
    if (!setting.value) return false
    if (switching.value) return true
    return JSON.stringify(sortKeys(overrides.value)) !== JSON.stringify(sortKeys(setting.value.overrides))
  })

  function apply(s: MessagesApi.RulePackSetting) {
    setting.value = s
    pack.value = s.pack
    edited.value = Object.fromEntries(s.values.map((v) => [v.key, v.value]))
  }

  /** The value shown for `key`: as edited, else in force. */
  const valueOf = (key: string): number | undefined => edited.value[key] ?? setting.value?.values.find((v) => v.key === key)?.value

  function set(key: string, value: number) {
    edited.value = { ...edited.value, [key]: value }
  }

  function setMany(values: Record<string, number>) {
    edited.value = { ...edited.value, ...values }
  }

  /** Back to the pack's own value of `key` (every key when none is given). */
  function reset(key?: string) {
    if (key === undefined) edited.value = { ...base.value }
    else if (key in base.value) set(key, base.value[key])
  }

  /** Saves the pack and the overrides; the setting as the server answered, or null with `saveError` set. */
  async function save(): Promise<MessagesApi.RulePackSetting | null> {
    if (!setting.value) return null
    const body: MessagesApi.RulePackRequest = { pack: pack.value, overrides: overrides.value }
    return run(
      async () => {
        const s = await setRulePackApi(body)
        supersede()
        apply(s)
        return s
      },
      (e) => (saveError.value = messageErrorText(e)),
    )
  }

  return { setting, pack, edited, base, overrides, switching, dirty, loading, loaded, error, saving, saveError, load, valueOf, set, setMany, reset, save }
}

function sortKeys(o: Record<string, number>): Array<[string, number]> {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b))
}

/** The overrides: edited values other than the pack's own; keys not shown (not in `base`) stay as saved. */
export function pickOverrides(base: Record<string, number>, edited: Record<string, number>, saved: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(saved)) if (!(k in base)) out[k] = v
  for (const [k, v] of Object.entries(edited)) if (k in base && base[k] !== v) out[k] = v
  return out
}

// ----- the customer's messages -------------------------------------------------------------------------------------

/** The mass messages a customer received (their profile's timeline); a failure just shows none. */
export function useCustomerMessages() {
  const items = ref<MessagesApi.CustomerMessage[]>([])
  let latest = 0

  async function load(externalUserid: string): Promise<void> {
    const ticket = ++latest
    try {
      const res = await listCustomerMessagesApi(externalUserid)
      if (ticket === latest) items.value = res.items
    } catch {
      if (ticket === latest) items.value = []
    }
  }

  return { items, load }
}

// ----- pickers -----------------------------------------------------------------------------------------------------

export interface SegmentOption {
  id: string
  name: string
  customers: number
}

/**
 * The choices of a segment picker: the team's segments (the first 100, most recently changed first) whose name
 * contains what is typed.
 */
export function useSegmentOptions() {
  return useRemoteOptions<SegmentsApi.Segment, SegmentOption>({
    fetch: async (q) => {
      const page = await listSegmentsApi(1, 100)
      const needle = q.toLowerCase()
      return { items: page.items.filter((s) => !needle || s.name.toLowerCase().includes(needle)) }
    },
    toOption: (s) => ({ id: String(s.id), name: s.name, customers: s.customers }),
    idOf: (o) => o.id,
    missing: (id, name) => ({ id, name, customers: -1 }),
  })
}

export interface CustomerOption {
  external_userid: string
  name: string
  /** the company (WeCom users) or WeChat */
  detail: string
}

/** The choices of a customer picker, searched on the server (name, remark, …) as the user types. */
export function useCustomerOptions(pageSize = 20) {
  return useRemoteOptions<CustomersApi.Customer, CustomerOption>({
    fetch: (q) => listCustomersApi({ page: 1, page_size: pageSize, q }),
    toOption: (c) => ({
      external_userid: c.external_userid,
      name: c.name || c.external_userid,
      detail: c.type === 2 ? c.corp_name || i18n.global.t('customers.wecom') : i18n.global.t('customers.wechat'),
    }),
    idOf: (o) => o.external_userid,
    missing: (external_userid, name) => ({ external_userid, name, detail: '' }),
  })
}

