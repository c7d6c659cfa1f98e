import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { App } from 'vue'
import type { Router } from 'vue-router'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import {
  cancelMessageApi, createMessageApi, deleteMessageApi, getMessageApi, getRulePackApi, listMessagesApi, listRecipientsApi, previewMessagePlanApi,
  recipientsCsvUrl, remindMessageApi, sendMessageApi, type MessagesApi,
} from '@/api/messages'
import { countSegmentApi, listGroupChatsApi, listSegmentsApi } from '@/api/segments'
import { listGroupTagsApi } from '@/api/groups'
import { uploadMediaApi } from '@/api/media'
import { listWecomEmployeesApi, type WecomApi } from '@/api/wecom'
import { getScrmScopeApi, listPersonalTagsApi, listScrmDepartmentsApi, listScrmTagsApi, listStagesApi } from '@/api/customers'
import { NAME_VARIABLE } from '@/composables/message-content'
import { all, click, mountApp, q, settle, testSession, text, type } from '@/test-utils/mount'
import { testMessage as message } from '@/test-utils/messages'
import MessagesPage from './messages.vue'
import ComposerPage from './message-composer.vue'
import DetailPage from './message-detail.vue'

vi.mock('@/api/messages', () => ({
  listMessagesApi: vi.fn(), getMessageApi: vi.fn(), createMessageApi: vi.fn(), updateMessageApi: vi.fn(), deleteMessageApi: vi.fn(),
  sendMessageApi: vi.fn(), cancelMessageApi: vi.fn(), remindMessageApi: vi.fn(), refreshMessageApi: vi.fn(), listRecipientsApi: vi.fn(),
  getRulePackApi: vi.fn(), setRulePackApi: vi.fn(), listCustomerMessagesApi: vi.fn(), previewMessagePlanApi: vi.fn(),
  recipientsCsvUrl: vi.fn((id: number) => `/api/v1/scrm/messages/${id}/recipients.csv`),
}))
vi.mock('@/api/media', () => ({ uploadMediaApi: vi.fn() }))
vi.mock('@/api/segments', () => ({ listSegmentsApi: vi.fn(), countSegmentApi: vi.fn(), listGroupChatsApi: vi.fn() }))
vi.mock('@/api/customers', () => ({
  getScrmScopeApi: vi.fn(), listCustomersApi: vi.fn(), listScrmTagsApi: vi.fn(), listPersonalTagsApi: vi.fn(), listScrmDepartmentsApi: vi.fn(),
  listStagesApi: vi.fn(),
}))
vi.mock('@/api/wecom', () => ({ listWecomEmployeesApi: vi.fn() }))
vi.mock('@/api/groups', () => ({ listGroupTagsApi: vi.fn() }))
vi.mock('@/api/fields', () => ({ listCustomFieldsApi: vi.fn(async () => ({ items: [] })) }))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

const page = <T>(items: T[], total = items.length) => ({ items, total, page: 1, page_size: 20 })
const sender = (userid: string, over: Partial<MessagesApi.Sender> = {}): MessagesApi.Sender => ({
  userid, name: userid === 'zhangsan' ? '张三' : userid, recipients: 0, skipped: 0, duplicates: 0, templates: 0, confirmed_templates: 0, sent: 0,
  not_friend: 0, over_limit: 0, failed: 0, ...over,
})

let app: App | null = null
let router: Router
const routes = [
  { path: '/scrm/messages', component: MessagesPage },
  { path: '/scrm/messages/new', component: ComposerPage },
  { path: '/scrm/messages/:id(\\d+)/edit', component: ComposerPage },
  { path: '/scrm/messages/:id(\\d+)', component: DetailPage },
  { path: '/:any(.*)*', component: { render: () => null } },
]
async function mountAt(path: string, role: 'admin' | 'member' = 'admin') {
  ;({ app, router } = await mountApp({ session: testSession({ role }), routes, path }))
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listMessagesApi).mockReset().mockResolvedValue(page([]))
  for (const f of [getMessageApi, createMessageApi, deleteMessageApi, sendMessageApi, cancelMessageApi, remindMessageApi]) vi.mocked(f).mockReset()
  vi.mocked(listRecipientsApi).mockReset().mockResolvedValue(page([]))
  vi.mocked(previewMessagePlanApi).mockReset().mockResolvedValue({ targeted: 2, recipients: 1, skipped: { lost: 1 }, senders: [], took_us: 10 })
  vi.mocked(getRulePackApi).mockReset().mockResolvedValue({
    pack: 'wecom-2025', overrides: {}, packs: [], values: [{ key: 'mass.max_attachments', value: 9, base: 9 }],
  })
  vi.mocked(listSegmentsApi).mockReset().mockResolvedValue(page([]))
  vi.mocked(countSegmentApi).mockReset().mockResolvedValue({ customers: 0, sample: [], took_us: 1 })
  vi.mocked(getScrmScopeApi).mockReset().mockResolvedValue({ all: false, bound: true, userid: 'zhangsan', data_scope: 'own' })
  vi.mocked(listScrmTagsApi).mockReset().mockResolvedValue({ items: [] })
  vi.mocked(listPersonalTagsApi).mockReset().mockResolvedValue({ items: [] })
  vi.mocked(listScrmDepartmentsApi).mockReset().mockResolvedValue({ items: [] })
  vi.mocked(listStagesApi).mockReset().mockResolvedValue({ items: [], unstaged: 0 })
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
  vi.mocked(listGroupTagsApi).mockReset().mockResolvedValue({ items: [{ id: 2, name: 'VIP', groups: 3 }] })
  vi.mocked(listGroupChatsApi).mockReset().mockResolvedValue(page([]))
  vi.mocked(listWecomEmployeesApi).mockReset().mockResolvedValue(page([
    { userid: 'zhangsan', name: '张三', position: '', mobile: '', gender: 0, status: 1, main_department: 1, main_department_name: '', customers: 1 } as WecomApi.Employee,
  ]))
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.useRealTimers()
})

describe('the mass messages list', () => {
  it('shows the messages with their state, counts and actions', async () => {
    vi.mocked(listMessagesApi).mockResolvedValue(page([
      message(2, { title: '双十一', state: 'sent', sent: 5, not_friend: 1, over_limit: 0 }),
      message(1, { title: '草稿一条', skipped: { lost: 1, over_day_limit: 3 } }),
    ], 2))
    await mountAt('/scrm/messages')
    expect(listMessagesApi).toHaveBeenCalledWith(1, 20, '')
    expect(all('message-title').map(text)).toEqual(['双十一', '草稿一条'])
    expect(all('message-state').map(text)).toEqual(['已提交', '草稿'])
    expect(all('message-kind').map(text)).toEqual(['企业群发', '企业群发'])
    expect(text(all('message-results')[0])).toBe('5 / 1 / 0')
    expect(all('message-view')).toHaveLength(1)
    expect(all('message-edit')).toHaveLength(1)
    expect(all('message-cancel')).toHaveLength(1)
    expect(all('message-delete')).toHaveLength(1)
    expect(text(q('message-total'))).toBe('共 2 条')
  })

  it('offers to create one when there is none', async () => {
    await mountAt('/scrm/messages')
    expect(q('messages-empty')).not.toBeNull()
    await click('message-create-empty')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/messages/new'))
  })

  it('deletes a draft after asking', async () => {
    vi.mocked(listMessagesApi).mockResolvedValue(page([message(1, { title: '草稿一条' })]))
    vi.mocked(deleteMessageApi).mockResolvedValueOnce({ deleted: true })
    await mountAt('/scrm/messages')
    await click('message-delete')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toContain('草稿一条')
    expect(deleteMessageApi).toHaveBeenCalledWith(1)
  })
})

describe('the composer', () => {
  it('counts bytes with the name as 64, inserts the variable and previews it', async () => {
    await mountAt('/scrm/messages/new')
    await type('composer-text', '您好')
    expect(text(q('text-bytes'))).toBe('6 / 4,000 字节')
    await click('insert-name')
    expect((q('composer-text') as HTMLTextAreaElement).value).toContain(NAME_VARIABLE)
    expect(text(q('text-bytes'))).toBe('70 / 4,000 字节')
    expect(q('personalised-note')).not.toBeNull()
    expect(text(q('preview-text'))).toContain('王小明')
  })

  it('saves a draft, shows the plan and sends it after confirming', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_800_000_000_000)
    const planned = message(21, {
      title: '秋季上新', targeted: 12, recipients: 9, skipped: { not_friend: 1, over_month_limit: 2 },
      senders: [sender('zhangsan', { recipients: 6, duplicates: 1 }), sender('lisi', { recipients: 3 })],
    })
    vi.mocked(createMessageApi).mockResolvedValueOnce(planned)
    vi.mocked(getMessageApi).mockResolvedValue(planned)
    vi.mocked(sendMessageApi).mockResolvedValueOnce({ ...planned, state: 'scheduled' })
    await mountAt('/scrm/messages/new')
    await type('composer-title', '秋季上新')
    await type('composer-text', '新品到店')
    await click('content-next')
    expect(q('composer-target')!.style.display).not.toBe('none')
    await click('mode-selection')
    await type('target-paste', 'wmA, wmB')
    await click('target-paste-add')
    expect(text(q('target-selected-count'))).toContain('已选 2')
    await vi.waitFor(() => expect(previewMessagePlanApi).toHaveBeenCalled(), { timeout: 2000 })
    expect(vi.mocked(previewMessagePlanApi).mock.lastCall![0].target).toEqual({ customer_ids: ['wmA', 'wmB'] })
    await vi.waitFor(() => expect(text(q('live-plan-summary'))).toBe('目标 2 位客户：1 位将由 0 位员工发送，跳过 1 位'))
    await click('composer-save')
    expect(createMessageApi).toHaveBeenCalledWith({
      kind: 'enterprise', title: '秋季上新', content: { text: '新品到店', attachments: [] }, target: { customer_ids: ['wmA', 'wmB'] },
    })
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/messages/21/edit'))
    await settle()
    expect(text(q('plan-recipients'))).toBe('9')
    expect(text(q('plan-skipped'))).toBe('3')
    expect(text(q('plan-senders'))).toBe('2')
    expect(text(q('skip-over_month_limit'))).toContain('wecom-2025')
    expect(all('plan-sender-name').map(text)).toEqual(['张三', 'lisi'])
    expect(listRecipientsApi).toHaveBeenCalledWith(21, 1, 10, { skip: 'any', status: null, userid: '' })
    await click('plan-next')
    expect(text(q('send-summary'))).toContain('2 位员工发送给 9 位客户')
    await click('send-submit')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls.at(-1)![0]).toContain('9 位客户')
    expect(sendMessageApi).toHaveBeenCalledWith(21, null)
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/messages/21'))
  })

  it('saves the media id of a file uploaded for an attachment, and keeps showing the file after saving', async () => {
    vi.mocked(uploadMediaApi).mockReset().mockResolvedValue({
      id: 4, media_id: 'VIDEO_1', type: 'video', filename: '新品.mp4', size: 2 * 1024 * 1024, expires_at: 1_800_000_000_000,
    })
    const saved = message(22, { title: '新品视频', content: { text: '', attachments: [{ type: 'video', media_id: 'VIDEO_1' }] }, target: { customer_ids: ['wmA'] } })
    vi.mocked(createMessageApi).mockResolvedValueOnce(saved)
    vi.mocked(getMessageApi).mockResolvedValue(saved)
    await mountAt('/scrm/messages/new')
    await type('composer-title', '新品视频')
    await click('attachment-add-button')
    await click('attachment-add-video')
    expect(all('attachment')).toHaveLength(1)
    const input = q('attachment-upload-input') as HTMLInputElement
    const video = new File([new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x6d, 0x70, 0x34, 0x32])], '新品.mp4', { type: 'video/mp4' })
    Object.defineProperty(input, 'files', { value: [video], configurable: true })
    input.dispatchEvent(new Event('change'))
    await vi.waitFor(() => expect(q('attachment-upload-done')).not.toBeNull())
    expect(vi.mocked(uploadMediaApi).mock.calls[0].slice(0, 4)).toEqual([video, 'video', '新品.mp4', 'video/mp4'])
    expect(text(q('attachment-upload-name'))).toBe('新品.mp4')
    expect(text(q('preview-video'))).toContain('新品.mp4')
    await click('content-next')
    await click('mode-selection')
    await type('target-paste', 'wmA')
    await click('target-paste-add')
    await click('composer-save')
    expect(createMessageApi).toHaveBeenCalledWith({
      kind: 'enterprise', title: '新品视频', content: { text: '', attachments: [{ type: 'video', media_id: 'VIDEO_1' }] }, target: { customer_ids: ['wmA'] },
    })
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/messages/22/edit'))
    await settle()
    // The saved draft holds the same media id: the file uploaded is still shown.
    expect(text(q('attachment-upload-name'))).toBe('新品.mp4')
  })

  it('keeps what was typed when the server refuses, and shows its message', async () => {
    const { ApiError } = await import('@/api/request')
    vi.mocked(createMessageApi).mockRejectedValueOnce(new ApiError(400, 'message_target_empty', 'target: matches no customer'))
    await mountAt('/scrm/messages/new')
    await type('composer-title', '秋季上新')
    await type('composer-text', '新品到店')
    await click('content-next')
    await click('mode-selection')
    await type('target-paste', 'wmZ')
    await click('target-paste-add')
    await click('composer-save')
    expect(text(q('composer-save-error'))).toBe('发送对象中没有客户（target: matches no customer）')
    expect((q('composer-title') as HTMLInputElement).value).toBe('秋季上新')
    expect((q('composer-text') as HTMLTextAreaElement).value).toBe('新品到店')
    expect(router.currentRoute.value.path).toBe('/scrm/messages/new')
  })
})

describe('the message detail', () => {
  it('shows the counts, the employees\' confirmations, the chart and the export link', async () => {
    const h = Date.UTC(2026, 10, 11, 2)
    vi.mocked(getMessageApi).mockResolvedValue(message(30, {
      state: 'sent', templates: 2, chunks_submitted: 2, sent: 5, not_friend: 1, over_limit: 1, pending: 1, reminders_left: 2,
      senders: [sender('zhangsan', { recipients: 6, templates: 1, confirmed_templates: 1, sent: 5 }), sender('lisi', { recipients: 2, templates: 1 })],
      delivery: [{ hour: h, sent: 3 }, { hour: h + 3_600_000, sent: 2 }],
    }))
    vi.mocked(remindMessageApi).mockResolvedValueOnce(message(30, { state: 'sent', reminders_left: 1 }))
    await mountAt('/scrm/messages/30')
    expect(text(q('detail-state'))).toBe('已提交')
    expect(text(q('count-sent'))).toContain('5')
    expect(text(q('count-skipped'))).toContain('2')
    expect(all('sender-confirmed').map(text)).toEqual(['已确认 1/1', '已确认 0/1'])
    expect(all('delivery-bar')).toHaveLength(2)
    expect(q('detail-export')!.getAttribute('href')).toBe('/api/v1/scrm/messages/30/recipients.csv')
    expect(recipientsCsvUrl).toHaveBeenCalledWith(30)
    expect(text(q('detail-remind'))).toContain('(2)')
    await click('detail-remind')
    expect(remindMessageApi).toHaveBeenCalledWith(30)
    expect(text(q('detail-remind'))).toContain('(1)')
    expect(q('detail-progress')).toBeNull()
  })

  it('shows the progress while it is sent and follows it', async () => {
    vi.useFakeTimers()
    vi.mocked(getMessageApi)
      .mockResolvedValueOnce(message(31, { state: 'sending', templates: 4, chunks_submitted: 1 }))
      .mockResolvedValue(message(31, { state: 'sent', templates: 4, chunks_submitted: 4 }))
    await mountAt('/scrm/messages/31')
    expect(q('detail-progress')).not.toBeNull()
    expect(text(q('detail-progress'))).toContain('1 / 4')
    await vi.advanceTimersByTimeAsync(2000)
    await settle()
    expect(getMessageApi).toHaveBeenCalledTimes(2)
    expect(q('detail-progress')).toBeNull()
    expect(q('detail-waiting')).not.toBeNull()
  })

  it('cancels after asking', async () => {
    vi.mocked(getMessageApi).mockResolvedValue(message(32, { state: 'scheduled', send_at: 1_900_000_000_000 }))
    vi.mocked(cancelMessageApi).mockResolvedValueOnce(message(32, { state: 'cancelled' }))
    await mountAt('/scrm/messages/32')
    await click('detail-cancel')
    expect(cancelMessageApi).toHaveBeenCalledWith(32)
    expect(text(q('detail-state'))).toBe('已取消')
  })
})

describe('mass messages to customer groups', () => {
  const lastPreview = () => vi.mocked(previewMessagePlanApi).mock.lastCall?.[0]
  async function toTarget(textValue = '群里的朋友们好') {
    await type('composer-title', '群发通知')
    await type('composer-text', textValue)
    await click('content-next')
  }

  it('lists the audience of each message', async () => {
    vi.mocked(listMessagesApi).mockResolvedValue(page([message(2, { audience: 'groups' }), message(1)]))
    await mountAt('/scrm/messages')
    expect(all('message-audience').map(text)).toEqual(['客户群', '客户'])
  })

  it('switches the audience: groups by tag, by owner or picked, each previewed and saved as such; customers stay as they were', async () => {
    vi.mocked(previewMessagePlanApi).mockResolvedValue({ targeted: 3, recipients: 2, skipped: { owner_unavailable: 1 }, senders: [], took_us: 10 })
    await mountAt('/scrm/messages/new')
    await toTarget()
    await click('mode-selection')
    await type('target-paste', 'wmA')
    await click('target-paste-add')
    await vi.waitFor(() => expect(lastPreview()?.target).toEqual({ customer_ids: ['wmA'] }), { timeout: 2000 })
    expect(lastPreview()).not.toHaveProperty('audience')

    await click('audience-groups')
    expect(q('target-selection')).toBeNull()
    expect(text(q('target-problem'))).toBe('请至少选择一位群主')
    expect((q('composer-save') as HTMLButtonElement).disabled).toBe(true)
    expect(text(q('one-employee-rule'))).toContain('由它的群主发送')
    await click('group-mode-tag')
    await click('group-tag-option-2')
    await vi.waitFor(() => expect(lastPreview()?.target).toEqual({ group_tag_ids: [2] }), { timeout: 2000 })
    expect(lastPreview()).toEqual({
      kind: 'enterprise', audience: 'groups', title: '群发通知', content: { text: '群里的朋友们好', attachments: [] }, target: { group_tag_ids: [2] },
    })
    await vi.waitFor(() => expect(text(q('live-plan-summary'))).toBe('目标 3 个群：2 个将由 0 位群主发送，跳过 1 个'))
    expect(text(q('live-plan'))).toContain('群主不可用 1')

    await click('group-mode-chat')
    expect(text(q('target-problem'))).toBe('请至少选择一个客户群')
    expect(text(q('target-groups-count'))).toBe('已选 0 / 2,000 个群')
    await click('group-mode-owner')
    await click('employee-option-zhangsan')
    await vi.waitFor(() => expect(lastPreview()?.target).toEqual({ group_owners: ['zhangsan'] }), { timeout: 2000 })

    // the customers' target is still there
    await click('audience-customers')
    await vi.waitFor(() => expect(lastPreview()?.target).toEqual({ customer_ids: ['wmA'] }), { timeout: 2000 })
    expect(lastPreview()).not.toHaveProperty('audience')

    await click('audience-groups')
    vi.mocked(createMessageApi).mockResolvedValueOnce(message(40, { audience: 'groups', target: { group_owners: ['zhangsan'] } }))
    await click('composer-save')
    expect(createMessageApi).toHaveBeenCalledWith({
      kind: 'enterprise', audience: 'groups', title: '群发通知', content: { text: '群里的朋友们好', attachments: [] }, target: { group_owners: ['zhangsan'] },
    })
  })

  it('refuses the customer name for groups: the button is disabled and the text must lose the variable', async () => {
    await mountAt('/scrm/messages/new')
    await toTarget(`${NAME_VARIABLE}，您好`)
    await click('audience-groups')
    expect(text(q('target-name-problem'))).toContain(`发给客户群的消息不能包含 ${NAME_VARIABLE}`)
    await click('target-back-to-content')
    expect(q('composer-content')!.style.display).not.toBe('none')
    expect((q('insert-name') as HTMLButtonElement).disabled).toBe(true)
    expect(text(q('text-problem'))).toContain(`发给客户群的消息不能包含 ${NAME_VARIABLE}`)
    expect(q('personalised-note')).toBeNull()
    await click('content-next')
    expect(text(q('composer-save-error'))).toContain('发给客户群的消息不能包含')
    expect(createMessageApi).not.toHaveBeenCalled()
  })

  it('starts a member\'s personal message to groups from the groups of their own employee', async () => {
    await mountAt('/scrm/messages/new', 'member')
    await toTarget()
    await click('audience-groups')
    expect(q('target-personal-groups')).not.toBeNull()
    await vi.waitFor(() => expect(lastPreview()).toMatchObject({ kind: 'personal', audience: 'groups', target: { group_owners: ['zhangsan'] } }), { timeout: 2000 })
  })

  it('shows the plan in groups: owners, owner_unavailable, no duplicates, no customer links', async () => {
    const planned = message(41, {
      audience: 'groups', target: { chat_ids: ['wr1', 'wr2', 'wr3'] }, targeted: 3, recipients: 1, skipped: { owner_unavailable: 1, over_day_limit: 1 },
      senders: [sender('zhangsan', { recipients: 1 })],
    })
    vi.mocked(getMessageApi).mockResolvedValue(planned)
    vi.mocked(listRecipientsApi).mockResolvedValue(page([
      { external_userid: 'wr2', name: '老会员群', userid: 'lisi', employee_name: '李四', skip: 'owner_unavailable', status: -1, send_time: null },
    ]))
    await mountAt('/scrm/messages/41/edit')
    expect(q('composer-plan')!.style.display).not.toBe('none')
    // a saved message to picked groups comes back as such
    expect(q('audience-groups')!.classList.contains('is-active')).toBe(true)
    const plan = q('message-plan')!
    expect(text(plan)).toContain('目标群')
    expect(text(plan)).toContain('发送群主')
    expect(text(q('skip-owner_unavailable'))).toContain('群主已不是在职员工')
    expect(text(q('skip-owner_unavailable'))).toContain('1 个群')
    expect(text(q('skip-over_day_limit'))).toContain('每个客户群每天')
    expect(text(q('plan-senders-table'))).not.toContain('重复客户')
    expect(text(q('plan-senders-table'))).toContain('群主')
    expect(text(q('skipped-group'))).toBe('老会员群')
    expect(q('skipped-customer')).toBeNull()
    const options = [...document.body.querySelectorAll<HTMLElement>('.el-select-dropdown__item')].map(text)
    expect(options).toContain('全部被跳过的群')
    expect(options).not.toContain('已流失')
  })

  it('shows the recipient groups in the detail, without profile links, status 2 as a failure', async () => {
    vi.mocked(getMessageApi).mockResolvedValue(message(42, {
      audience: 'groups', state: 'sent', templates: 1, chunks_submitted: 1, sent: 1, not_friend: 1, senders: [sender('zhangsan', { recipients: 2, templates: 1 })],
    }))
    vi.mocked(listRecipientsApi).mockResolvedValue(page([
      { external_userid: 'wr1', name: '会员1群', userid: 'zhangsan', employee_name: '张三', skip: '', status: 2, send_time: null },
      { external_userid: 'wr2', name: '', userid: 'zhangsan', employee_name: '张三', skip: '', status: 1, send_time: 1_700_000_000_000 },
    ]))
    await mountAt('/scrm/messages/42')
    expect(text(q('detail-audience'))).toBe('客户群')
    expect(text(q('count-not_friend'))).toContain('群不可用')
    expect(text(q('count-targeted'))).toContain('目标群')
    expect(all('recipient-group').map(text)).toEqual(['会员1群', 'wr2'])
    expect(q('recipient-customer')).toBeNull()
    expect(all('recipient-status').map(text)).toEqual(['发送失败：群不可用', '已发送'])
    expect(text(q('detail-recipients'))).toContain('接收的客户群')
    expect(q('detail-export')!.getAttribute('href')).toBe('/api/v1/scrm/messages/42/recipients.csv')
  })
})
