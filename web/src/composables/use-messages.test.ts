import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { ApiError } from '@/api/request'
import {
  cancelMessageApi, createMessageApi, deleteMessageApi, getMessageApi, getRulePackApi, listCustomerMessagesApi, listMessagesApi,
  listRecipientsApi, previewMessagePlanApi, refreshMessageApi, remindMessageApi, sendMessageApi, setRulePackApi, updateMessageApi,
  type MessagesApi,
} from '@/api/messages'
import { i18n } from '@/locales'
import { testMessage as message } from '@/test-utils/messages'
import { NAME_VARIABLE, newAttachment } from './message-content'
import {
  kindChoices, messageErrorText, pickOverrides, useCustomerMessages, useMessageComposer, useMessageDetail, useMessageList, usePlanPreview,
  useRecipients, useRulePack,
} from './use-messages'

vi.mock('@/api/messages', () => ({
  listMessagesApi: vi.fn(), getMessageApi: vi.fn(), createMessageApi: vi.fn(), updateMessageApi: vi.fn(), deleteMessageApi: vi.fn(),
  sendMessageApi: vi.fn(), cancelMessageApi: vi.fn(), remindMessageApi: vi.fn(), refreshMessageApi: vi.fn(), listRecipientsApi: vi.fn(),
  getRulePackApi: vi.fn(), setRulePackApi: vi.fn(), listCustomerMessagesApi: vi.fn(), recipientsCsvUrl: vi.fn(),
  previewMessagePlanApi: vi.fn(),
}))
vi.mock('@/api/segments', () => ({ listSegmentsApi: vi.fn() }))
vi.mock('@/api/customers', () => ({ getScrmScopeApi: vi.fn(), listCustomersApi: vi.fn() }))

const page = <T>(items: T[], total = items.length, p = 1) => ({ items, total, page: p, page_size: 20 })

const ALL = [
  listMessagesApi, getMessageApi, createMessageApi, updateMessageApi, deleteMessageApi, sendMessageApi, cancelMessageApi, remindMessageApi,
  refreshMessageApi, listRecipientsApi, getRulePackApi, setRulePackApi, listCustomerMessagesApi, previewMessagePlanApi,
]
beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  for (const f of ALL) vi.mocked(f).mockReset()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('messageErrorText', () => {
  it('says the reason in the user\'s language and the server\'s message naming the field', () => {
    const e = new ApiError(400, 'message_link_not_http', 'content.attachments[1].url: must be an http:// or https:// URL')
    expect(messageErrorText(e)).toBe('链接必须以 http:// 或 https:// 开头（content.attachments[1].url: must be an http:// or https:// URL）')
    i18n.global.locale.value = 'en-US'
    expect(messageErrorText(new ApiError(400, 'invalid_rule_override', 'mass.group.period: 0, 1 or 2')))
      .toBe('A rule value is not valid (mass.group.period: 0, 1 or 2)')
    // Other failures: the text only.
    expect(messageErrorText(new ApiError(403, 'admin_only', 'only the admin'))).toBe(i18n.global.t('errors.admin_only'))
  })
})

describe('useMessageList', () => {
  it('pages on the server, filters by state, deletes a draft and cancels a message', async () => {
    vi.mocked(listMessagesApi).mockResolvedValue(page([message(2), message(1)], 42))
    const list = useMessageList(20)
    expect(list.loaded.value).toBe(false)
    await list.load(1)
    expect(listMessagesApi).toHaveBeenLastCalledWith(1, 20, '')
    expect(list.items.value.map((m) => m.id)).toEqual([2, 1])
    expect(list.total.value).toBe(42)
    expect(list.loaded.value).toBe(true)

    vi.mocked(listMessagesApi).mockResolvedValueOnce(page([message(9, { state: 'sent' })], 21, 2))
    await list.load(2)
    expect(listMessagesApi).toHaveBeenLastCalledWith(2, 20, '')
    expect(list.page.value).toBe(2)

    vi.mocked(listMessagesApi).mockResolvedValueOnce(page([message(5, { state: 'scheduled' })], 1))
    await list.filter('scheduled')
    expect(listMessagesApi).toHaveBeenLastCalledWith(1, 20, 'scheduled')
    expect(list.page.value).toBe(1)

    vi.mocked(deleteMessageApi).mockResolvedValueOnce({ deleted: true })
    expect(await list.remove(message(2))).toBe(true)
    expect(deleteMessageApi).toHaveBeenCalledWith(2)

    vi.mocked(cancelMessageApi).mockRejectedValueOnce(new ApiError(422, 'message_state', 'only a scheduled, sending or sent message can be cancelled'))
    expect(await list.cancel(message(5, { state: 'done' }))).toBe(false)
    expect(list.actionError.value).toContain('群发的状态已变化')
    expect(list.actionError.value).toContain('only a scheduled')
  })
})

describe('kindChoices', () => {
  it('offers enterprise to the admin, personal to a bound member', () => {
    expect(kindChoices({ isAdmin: true, bound: null })).toEqual({ enterprise: true, personal: true, preferred: 'enterprise' })
    expect(kindChoices({ isAdmin: false, bound: true })).toEqual({ enterprise: false, personal: true, preferred: 'personal' })
    expect(kindChoices({ isAdmin: false, bound: false })).toEqual({ enterprise: false, personal: false, preferred: 'personal' })
  })
})

describe('useMessageComposer', () => {
  it('checks before sending anything, then creates the draft with the body the API takes', async () => {
    const c = useMessageComposer()
    c.startNew('enterprise')
    expect(await c.save()).toBeNull()
    expect(c.saveError.value).toBe('群发名称需为 1–40 个字')
    expect(c.serverPath.value.step).toBe(0)
    c.title.value = ' 双十一 '
    expect(await c.save()).toBeNull()
    expect(c.saveError.value).toBe('请填写文字，或添加至少一个附件')
    c.text.value = `${NAME_VARIABLE}，您好`
    c.attachments.value = [{ ...newAttachment('link'), title: '新品', url: 'https://x.cn' }]
    expect(await c.save()).toBeNull()
    expect(c.saveError.value).toBe('请选择一个客户分群')
    expect(c.serverPath.value.step).toBe(1)
    expect(createMessageApi).not.toHaveBeenCalled()

    c.segmentId.value = 3
    const saved = message(11, { title: '双十一', content: { text: `${NAME_VARIABLE}，您好`, attachments: [{ type: 'link', title: '新品', url: 'https://x.cn' }] }, personalised: true })
    vi.mocked(createMessageApi).mockResolvedValueOnce(saved)
    expect(c.dirty.value).toBe(true)
    expect(await c.save()).toEqual(saved)
    expect(createMessageApi).toHaveBeenCalledWith({
      kind: 'enterprise', title: '双十一', content: { text: `${NAME_VARIABLE}，您好`, attachments: [{ type: 'link', title: '新品', url: 'https://x.cn' }] },
      target: { segment_id: 3 },
    })
    expect(c.message.value?.id).toBe(11)
    expect(c.dirty.value).toBe(false)
    c.text.value += '！'
    expect(c.dirty.value).toBe(true)
  })

  it('keeps everything typed when the server refuses, and says where', async () => {
    const c = useMessageComposer()
    c.startNew('enterprise')
    c.title.value = '上新'
    c.text.value = '秋季上新'
    c.attachments.value = [{ ...newAttachment('image'), url: 'https://x.cn/a.png' }, { ...newAttachment('link'), title: 't', url: 'https://x.cn' }]
    c.mode.value = 'selection'
    c.customerIds.value = ['wmA', 'wmB']
    vi.mocked(createMessageApi).mockRejectedValueOnce(
      new ApiError(400, 'message_attachments_exceeded', 'content.attachments: at most 1 under the team\'s rule pack'),
    )
    expect(await c.save()).toBeNull()
    expect(c.saveError.value).toBe('附件数量超过了规则包允许的上限（content.attachments: at most 1 under the team\'s rule pack）')
    expect(c.serverPath.value).toEqual({ step: 0, index: null, field: null })
    expect(c.title.value).toBe('上新')
    expect(c.text.value).toBe('秋季上新')
    expect(c.attachments.value).toHaveLength(2)
    expect(c.customerIds.value).toEqual(['wmA', 'wmB'])

    vi.mocked(createMessageApi).mockRejectedValueOnce(new ApiError(400, 'message_target_invalid', 'target.customer_ids: no such customer wmB'))
    expect(await c.save()).toBeNull()
    expect(c.serverPath.value.step).toBe(1)
    expect(c.saveError.value).toContain('no such customer wmB')
  })

  it('loads a draft into the composer and saves it again with PUT', async () => {
    const rule = { op: 'and' as const, children: [{ field: 'corp_tag' as const, match: 'any' as const, values: ['et1'] }] }
    vi.mocked(getMessageApi).mockResolvedValueOnce(message(4, { target: { rule }, content: { text: 'hi', attachments: [{ type: 'image', url: 'https://x.cn/a.png' }] } }))
    const c = useMessageComposer()
    await c.load(4)
    expect(c.mode.value).toBe('rule')
    expect(c.attachments.value[0]).toMatchObject({ type: 'image', url: 'https://x.cn/a.png' })
    expect(c.dirty.value).toBe(false)
    c.title.value = '改名'
    vi.mocked(updateMessageApi).mockResolvedValueOnce(message(4, { title: '改名', target: { rule } }))
    await c.save()
    expect(updateMessageApi).toHaveBeenCalledWith(4, expect.objectContaining({ title: '改名', target: { rule } }))
  })

  it('builds the draft of a message to groups, loads one back, and leaves the customers\' target as it was', async () => {
    const c = useMessageComposer()
    c.startNew('enterprise')
    c.title.value = '群通知'
    c.text.value = '周末活动'
    c.segmentId.value = 3
    expect(c.body.value).toEqual({ kind: 'enterprise', title: '群通知', content: { text: '周末活动', attachments: [] }, target: { segment_id: 3 } })
    c.audience.value = 'groups'
    expect(c.body.value).toBeNull()
    expect(c.target.value.problem).toBe('noOwners')
    c.groupMode.value = 'chat'
    c.chatIds.value = ['wr1', 'wr2']
    expect(c.body.value).toEqual({
      kind: 'enterprise', audience: 'groups', title: '群通知', content: { text: '周末活动', attachments: [] }, target: { chat_ids: ['wr1', 'wr2'] },
    })
    c.text.value = `${NAME_VARIABLE}，周末活动`
    expect(await c.save()).toBeNull()
    expect(c.saveError.value).toBe(`发给客户群的消息不能包含 ${NAME_VARIABLE}，请从文字中删除`)
    expect(c.serverPath.value.step).toBe(0)
    c.audience.value = 'customers'
    expect(c.problems.value).toEqual([])
    expect(c.body.value?.target).toEqual({ segment_id: 3 })

    vi.mocked(getMessageApi).mockResolvedValueOnce(message(5, { audience: 'groups', target: { group_tag_ids: [2, 5] } }))
    await c.load(5)
    expect(c.audience.value).toBe('groups')
    expect(c.groupMode.value).toBe('tag')
    expect(c.groupTagIds.value).toEqual([2, 5])
    expect(c.dirty.value).toBe(false)
    c.startNew('enterprise')
    expect(c.audience.value).toBe('customers')
    expect(c.groupTagIds.value).toEqual([])
  })

  it('sends a refusal of the name variable for groups back to the text', async () => {
    const c = useMessageComposer()
    c.startNew('enterprise')
    c.title.value = '群通知'
    c.text.value = '周末活动'
    c.audience.value = 'groups'
    c.groupOwners.value = ['zhangsan']
    vi.mocked(createMessageApi).mockRejectedValueOnce(new ApiError(400, 'message_variable_groups', 'variable not allowed for groups'))
    expect(await c.save()).toBeNull()
    expect(c.serverPath.value).toEqual({ step: 0, index: null, field: 'text' })
    expect(c.saveError.value).toContain('发给客户群的消息不能包含客户名称')
  })

  it('says a missing message, and refuses to edit one that is not a draft', async () => {
    vi.mocked(getMessageApi).mockRejectedValueOnce(new ApiError(404, 'message_not_found', 'no such message'))
    const c = useMessageComposer()
    await c.load(99)
    expect(c.notFound.value).toBe(true)
    vi.mocked(getMessageApi).mockResolvedValueOnce(message(5, { state: 'sent' }))
    await c.load(5)
    expect(c.locked.value).toBe(true)
    expect(await c.save()).toBeNull()
    expect(updateMessageApi).not.toHaveBeenCalled()
  })

  it('sends now or at a time within the bounds, only a saved draft', async () => {
    vi.mocked(getMessageApi).mockResolvedValueOnce(message(6))
    const c = useMessageComposer()
    await c.load(6)
    const now = 1_800_000_000_000
    expect(await c.send(now + 30_000, now)).toBeNull()
    expect(c.sendError.value).toBe('定时发送的时间至少要在 1 分钟之后')
    expect(await c.send(now + 31 * 86_400_000, now)).toBeNull()
    expect(c.sendError.value).toBe('定时发送的时间最多在 30 天之内')
    expect(sendMessageApi).not.toHaveBeenCalled()

    vi.mocked(sendMessageApi).mockResolvedValueOnce(message(6, { state: 'scheduled', send_at: now + 3_600_000 }))
    const sent = await c.send(now + 3_600_000, now)
    expect(sendMessageApi).toHaveBeenCalledWith(6, now + 3_600_000)
    expect(sent?.state).toBe('scheduled')

    vi.mocked(sendMessageApi).mockRejectedValueOnce(new ApiError(422, 'message_all_skipped', 'every customer of the target is skipped'))
    expect(await c.send(null)).toBeNull()
    expect(sendMessageApi).toHaveBeenLastCalledWith(6, null)
    expect(c.sendError.value).toContain('所有客户都会被跳过')

    c.title.value = 'changed'
    expect(await c.send(null)).toBeNull()
    expect(sendMessageApi).toHaveBeenCalledTimes(2)
  })
})

describe('useMessageDetail', () => {
  it('polls every 2 s while scheduled or sending and stops once sent', async () => {
    vi.useFakeTimers()
    vi.mocked(getMessageApi)
      .mockResolvedValueOnce(message(7, { state: 'scheduled' }))
      .mockResolvedValueOnce(message(7, { state: 'sending', templates: 2, chunks_submitted: 1 }))
      .mockResolvedValueOnce(message(7, { state: 'sent' }))
    const scope = effectScope()
    const d = scope.run(() => useMessageDetail(() => 7))!
    await d.load()
    expect(d.message.value?.state).toBe('scheduled')
    expect(d.polling.value).toBe(true)
    await vi.advanceTimersByTimeAsync(1999)
    expect(getMessageApi).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(getMessageApi).toHaveBeenCalledTimes(2)
    expect(d.message.value?.state).toBe('sending')
    await vi.advanceTimersByTimeAsync(2000)
    expect(d.message.value?.state).toBe('sent')
    expect(d.polling.value).toBe(false)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(getMessageApi).toHaveBeenCalledTimes(3)
    scope.stop()
  })

  it('stops when the page is gone, and a failed poll tries again', async () => {
    vi.useFakeTimers()
    vi.mocked(getMessageApi)
      .mockResolvedValueOnce(message(8, { state: 'sending' }))
      .mockRejectedValueOnce(new ApiError(0, 'network', 'down'))
      .mockResolvedValue(message(8, { state: 'sending' }))
    const scope = effectScope()
    const d = scope.run(() => useMessageDetail(() => 8))!
    await d.load()
    await vi.advanceTimersByTimeAsync(2000)
    expect(getMessageApi).toHaveBeenCalledTimes(2)
    expect(d.error.value).not.toBe('')
    expect(d.message.value?.state).toBe('sending')
    await vi.advanceTimersByTimeAsync(2000)
    expect(getMessageApi).toHaveBeenCalledTimes(3)
    expect(d.error.value).toBe('')
    scope.stop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(getMessageApi).toHaveBeenCalledTimes(3)
  })

  it('refreshes, reminds and cancels, showing the answer; a refusal says why', async () => {
    vi.mocked(getMessageApi).mockResolvedValueOnce(message(9, { state: 'sent', reminders_left: 1 }))
    const scope = effectScope()
    const d = scope.run(() => useMessageDetail(() => 9))!
    await d.load()
    vi.mocked(refreshMessageApi).mockResolvedValueOnce(message(9, { state: 'sent', sent: 5, reminders_left: 1 }))
    expect(await d.refresh()).toBe(true)
    expect(d.message.value?.sent).toBe(5)
    vi.mocked(remindMessageApi).mockResolvedValueOnce(message(9, { state: 'sent', reminders_left: 0 }))
    expect(await d.remind()).toBe(true)
    expect(d.message.value?.reminders_left).toBe(0)
    vi.mocked(remindMessageApi).mockRejectedValueOnce(new ApiError(429, 'remind_limit_reached', 'at most 3 reminders per 24 hours'))
    expect(await d.remind()).toBe(false)
    expect(d.actionError.value).toContain('最多提醒 3 次')
    vi.mocked(cancelMessageApi).mockResolvedValueOnce(message(9, { state: 'cancelled' }))
    expect(await d.cancel()).toBe(true)
    expect(d.message.value?.state).toBe('cancelled')
    expect(d.polling.value).toBe(false)
    scope.stop()
  })

  it('says a missing message', async () => {
    vi.mocked(getMessageApi).mockRejectedValueOnce(new ApiError(404, 'message_not_found', 'no such message'))
    const scope = effectScope()
    const d = scope.run(() => useMessageDetail(() => 10))!
    await d.load()
    expect(d.notFound.value).toBe(true)
    scope.stop()
  })
})

describe('useRecipients', () => {
  it('asks for a page with the filters, from page 1 when they change', async () => {
    vi.mocked(listRecipientsApi).mockResolvedValue(page([], 0))
    const r = useRecipients(() => 12, 10)
    await r.setFilter({ skip: 'any' })
    expect(listRecipientsApi).toHaveBeenLastCalledWith(12, 1, 10, { skip: 'any', status: null, userid: '' })
    await r.setFilter({ skip: '', status: 3, userid: 'zhangsan' })
    expect(listRecipientsApi).toHaveBeenLastCalledWith(12, 1, 10, { skip: '', status: 3, userid: 'zhangsan' })
  })
})

describe('useRulePack', () => {
  const setting = (over: Partial<MessagesApi.RulePackSetting> = {}): MessagesApi.RulePackSetting => ({
    pack: 'wecom-2025',
    overrides: {},
    packs: [
      { name: 'wecom-2020', title: 'WeCom 3.0 (2020)', source: 'S000' },
      { name: 'wecom-2025', title: 'WeCom rules of 2025 (current)', source: 'API' },
    ],
    values: [
      { key: 'mass.customer_enterprise.limit', value: 0, base: 0 },
      { key: 'mass.customer_enterprise.period', value: 2, base: 2 },
      { key: 'mass.customer_enterprise.days_in_month', value: 1, base: 1 },
      { key: 'mass.customer_enterprise.enabled', value: 1, base: 1 },
      { key: 'mass.max_reminders', value: 3, base: 3 },
    ],
    ...over,
  })

  it('saves as overrides only the values that differ from the pack\'s', async () => {
    vi.mocked(getRulePackApi).mockResolvedValueOnce(setting())
    const rp = useRulePack()
    await rp.load()
    expect(rp.dirty.value).toBe(false)
    rp.setMany({ 'mass.customer_enterprise.days_in_month': 0, 'mass.customer_enterprise.limit': 7, 'mass.customer_enterprise.period': 1 })
    rp.set('mass.max_reminders', 3)
    expect(rp.dirty.value).toBe(true)
    expect(rp.overrides.value).toEqual({ 'mass.customer_enterprise.days_in_month': 0, 'mass.customer_enterprise.limit': 7, 'mass.customer_enterprise.period': 1 })
    vi.mocked(setRulePackApi).mockResolvedValueOnce(setting({
      overrides: { 'mass.customer_enterprise.days_in_month': 0, 'mass.customer_enterprise.limit': 7, 'mass.customer_enterprise.period': 1 },
    }))
    expect(await rp.save()).not.toBeNull()
    expect(setRulePackApi).toHaveBeenCalledWith({
      pack: 'wecom-2025', overrides: { 'mass.customer_enterprise.days_in_month': 0, 'mass.customer_enterprise.limit': 7, 'mass.customer_enterprise.period': 1 },
    })
  })

  it('switching packs drops the overrides; resetting goes back to the pack\'s values', async () => {
    vi.mocked(getRulePackApi).mockResolvedValueOnce(setting({ overrides: { 'mass.max_reminders': 1 }, values: setting().values.map((v) => (v.key === 'mass.max_reminders' ? { ...v, value: 1 } : v)) }))
    const rp = useRulePack()
    await rp.load()
    expect(rp.valueOf('mass.max_reminders')).toBe(1)
    expect(rp.dirty.value).toBe(false)
    rp.reset('mass.max_reminders')
    expect(rp.overrides.value).toEqual({})
    expect(rp.dirty.value).toBe(true)
    rp.pack.value = 'wecom-2020'
    expect(rp.switching.value).toBe(true)
    vi.mocked(setRulePackApi).mockRejectedValueOnce(new ApiError(400, 'invalid_rule_override', 'mass.group.period: must be 0, 1 or 2'))
    expect(await rp.save()).toBeNull()
    expect(setRulePackApi).toHaveBeenCalledWith({ pack: 'wecom-2020', overrides: {} })
    expect(rp.saveError.value).toBe('规则取值有误（mass.group.period: must be 0, 1 or 2）')
  })

  it('keeps overrides of keys the page does not show', () => {
    expect(pickOverrides({ a: 1, b: 2 }, { a: 1, b: 3 }, { 'moments.x': 5, a: 9 })).toEqual({ 'moments.x': 5, b: 3 })
  })
})

describe('useCustomerMessages', () => {
  it('lists what the customer received; a failure lists nothing', async () => {
    vi.mocked(listCustomerMessagesApi).mockResolvedValueOnce({ items: [{ message_id: 1, title: '上新', userid: 'zhangsan', status: 1, at: 5 }] })
    const c = useCustomerMessages()
    await c.load('wmA')
    expect(listCustomerMessagesApi).toHaveBeenCalledWith('wmA')
    expect(c.items.value).toHaveLength(1)
    vi.mocked(listCustomerMessagesApi).mockRejectedValueOnce(new ApiError(403, 'app_not_activated', ''))
    await c.load('wmB')
    expect(c.items.value).toEqual([])
  })
})

describe('usePlanPreview', () => {
  const draft = (title: string): MessagesApi.Draft => ({ kind: 'enterprise', title, content: { text: 'hi', attachments: [] }, target: { segment_id: 3 } })

  it('plans the draft once it stays unchanged, keeps only the latest answer, asks nothing while unfinished', async () => {
    vi.useFakeTimers()
    const body = ref<MessagesApi.Draft | null>(null)
    let release!: (p: MessagesApi.PlanPreview) => void
    vi.mocked(previewMessagePlanApi)
      .mockImplementationOnce(() => new Promise((res) => (release = res)))
      .mockResolvedValueOnce({ targeted: 5, recipients: 4, skipped: { not_friend: 1 }, senders: [], took_us: 9 })
    const scope = effectScope()
    const p = scope.run(() => usePlanPreview(() => body.value, { debounceMs: 300 }))!
    await vi.advanceTimersByTimeAsync(1000)
    expect(previewMessagePlanApi).not.toHaveBeenCalled()
    expect(p.loading.value).toBe(false)

    body.value = draft('a')
    await nextTick()
    expect(p.loading.value).toBe(true)
    await vi.advanceTimersByTimeAsync(299)
    expect(previewMessagePlanApi).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(previewMessagePlanApi).toHaveBeenCalledWith(draft('a'))
    // Changed while the first answer is under way: that answer is dropped.
    body.value = draft('b')
    await nextTick()
    await vi.advanceTimersByTimeAsync(300)
    release({ targeted: 1, recipients: 1, skipped: {}, senders: [], took_us: 1 })
    await vi.advanceTimersByTimeAsync(0)
    expect(p.plan.value?.targeted).toBe(5)
    expect(p.loading.value).toBe(false)

    vi.mocked(previewMessagePlanApi).mockRejectedValueOnce(new ApiError(400, 'message_target_empty', 'target: matches no customer'))
    body.value = draft('c')
    await nextTick()
    await vi.advanceTimersByTimeAsync(300)
    expect(p.plan.value).toBeNull()
    expect(p.error.value).toBe('发送对象中没有客户（target: matches no customer）')
    body.value = null
    await nextTick()
    expect(p.error.value).toBe('')
    expect(previewMessagePlanApi).toHaveBeenCalledTimes(3)
    scope.stop()
  })
})
