import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'
import ElementPlus from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import {
  addCustomerNoteApi, createPersonalTagApi, getCustomerApi, listPersonalTagsApi, listScrmTagsApi, markCustomerPersonalTagsApi,
  markCustomerTagsApi, listStagesApi, setCustomerStageApi, editRelationshipApi, type CustomersApi,
} from '@/api/customers'
import type { AuthApi } from '@/api/auth'
import { formatDateTime } from '@/composables/format'
import { useSessionStore } from '@/stores/use-session-store'
import { listCustomerMessagesApi } from '@/api/messages'
import { listCustomFieldsApi, setCustomerFieldsApi, type FieldsApi } from '@/api/fields'
import DetailPage from './customer-detail.vue'

vi.mock('@/api/customers', () => ({
  getCustomerApi: vi.fn(), addCustomerNoteApi: vi.fn(), listScrmTagsApi: vi.fn(), markCustomerTagsApi: vi.fn(),
  listPersonalTagsApi: vi.fn(), createPersonalTagApi: vi.fn(), deletePersonalTagApi: vi.fn(), markCustomerPersonalTagsApi: vi.fn(),
  listStagesApi: vi.fn(), setCustomerStageApi: vi.fn(), editRelationshipApi: vi.fn(),
}))
vi.mock('@/api/messages', () => ({ listCustomerMessagesApi: vi.fn(async () => ({ items: [] })) }))
vi.mock('@/api/fields', () => ({ listCustomFieldsApi: vi.fn(), setCustomerFieldsApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => ({
  ...(await importOriginal<typeof import('element-plus')>()),
  ElMessage: { success: vi.fn(), error: vi.fn() },
}))

const LOST_AT = 1_700_100_000_000
function profile(): CustomersApi.Profile {
  return {
    external_userid: 'wmA', name: '陈总', type: 2, gender: 1, corp_name: '锦鲤茶饮', last_add_time: 1_700_000_000_000, active_follows: 1,
    position: '采购经理', unionid: '', stage_id: 2, stage_name: '意向',
    follows: [
      {
        userid: 'zhangsan', employee_name: '张三', remark: '陈总-茶饮', description: '大客户', add_time: 1_700_000_000_000, add_way: 202,
        state: 'store_sh', remark_mobiles: ['13800000000'], remark_corp_name: '', active: true, deleted_by: '', deleted_at: null,
        tags: [{ tag_id: 'et1', name: '高意向', group_name: '意向' }],
      },
      {
        userid: 'lisi', employee_name: '李四', remark: '', description: '', add_time: 1_690_000_000_000, add_way: 7, state: '',
        remark_mobiles: [], remark_corp_name: '', active: false, deleted_by: 'customer', deleted_at: LOST_AT, tags: [],
      },
    ],
    tags: [{ tag_id: 'et1', name: '高意向', group_name: '意向' }],
    groups: [],
    notes: [],
    personal_tags: [],
    linked_accounts: [],
    fields: [],
    timeline: [
      { at: LOST_AT, kind: 'lost', userid: 'lisi', employee_name: '李四', detail: 'customer' },
      { at: 1_700_000_000_000, kind: 'added', userid: 'zhangsan', employee_name: '张三', detail: '' },
    ],
  }
}

const GOLD = { tag_id: 'et2', name: '金卡', group_name: '等级' }
const customField = (id: number, name: string, kind: FieldsApi.Kind, options: [number, string][] = []): FieldsApi.Field =>
  ({ id, name, kind, options: options.map(([oid, label]) => ({ id: oid, label })), sort: id, customers: 1 })
const FIELDS: FieldsApi.Field[] = [
  customField(1, '会员等级', 'select', [[11, '金卡'], [12, '银卡']]),
  customField(2, '生日', 'date'),
  customField(3, '口味偏好', 'text'),
  customField(4, '鞋码', 'number'),
  customField(5, '兴趣', 'multi_select', [[51, '茶饮'], [52, '甜品']]),
]
const personalTag = (id: number, name: string, account_id = 7, owner_name = '王小锦'): CustomersApi.PersonalTag =>
  ({ id, name, account_id, owner_name, customers: 0, created_at: 1 })
function session(): AuthApi.Session {
  return {
    account: { id: 7, phone: '13800000000', name: '王小锦', role: 'admin', status: 'active' },
    team: { id: 3, name: '锦鲤茶饮' },
    apps: [{ key: 'scrm', activated: true, activated_at: 1 }, { key: 'cloud_store', activated: false, activated_at: null }],
  }
}

let app: App | null = null
let root: HTMLElement
let router: Router

async function mountPage(path: string) {
  router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/scrm/customers/:id', component: DetailPage },
      { path: '/:any(.*)*', component: { render: () => null } },
    ],
  })
  await router.push(path)
  await router.isReady()
  root = document.createElement('div')
  document.body.appendChild(root)
  const pinia = createPinia()
  setActivePinia(pinia)
  useSessionStore().set(session())
  app = createApp({ render: () => h(RouterView) })
  app.use(pinia).use(i18n).use(router).use(ElementPlus).mount(root)
  await settle()
}
async function settle() {
  for (let i = 0; i < 3; i++) await Promise.resolve()
  await nextTick()
}
const q = (test: string, within: ParentNode = root) => within.querySelector<HTMLElement>(`[data-test="${test}"]`)
const all = (test: string, within: ParentNode = root) => [...within.querySelectorAll<HTMLElement>(`[data-test="${test}"]`)]
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getCustomerApi).mockReset().mockResolvedValue(profile())
  vi.mocked(addCustomerNoteApi).mockReset()
  vi.mocked(listStagesApi).mockReset().mockResolvedValue({ items: [{ id: 1, name: '新客', sort: 1, customers: 4 }, { id: 2, name: '意向', sort: 2, customers: 1 }, { id: 3, name: '成交', sort: 3, customers: 0 }], unstaged: 0 })
  vi.mocked(setCustomerStageApi).mockReset()
  vi.mocked(listScrmTagsApi).mockReset().mockResolvedValue({
    items: [
      { group_id: 'g1', name: '意向', tags: [{ tag_id: 'et1', name: '高意向', group_name: '意向' }] },
      { group_id: 'g2', name: '等级', tags: [GOLD] },
    ],
  })
  vi.mocked(markCustomerTagsApi).mockReset()
  vi.mocked(listPersonalTagsApi).mockReset().mockResolvedValue({ items: [personalTag(1, '爱喝奶茶'), personalTag(2, '周末到店')] })
  vi.mocked(createPersonalTagApi).mockReset()
  vi.mocked(markCustomerPersonalTagsApi).mockReset()
  vi.mocked(editRelationshipApi).mockReset()
  vi.mocked(listCustomFieldsApi).mockReset().mockResolvedValue({ items: FIELDS })
  vi.mocked(setCustomerFieldsApi).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  root?.remove()
  document.body.innerHTML = ''
})

describe('a customer profile', () => {
  it('shows the mass messages the customer received on the timeline, linked to the message', async () => {
    vi.mocked(listCustomerMessagesApi).mockResolvedValueOnce({
      items: [{ message_id: 21, title: '秋季上新', userid: 'zhangsan', status: 1, at: 1_700_200_000_000 }],
    })
    await mountPage('/scrm/customers/wmA')
    expect(listCustomerMessagesApi).toHaveBeenCalledWith('wmA')
    const item = q('timeline-message')!
    expect(text(item.querySelector('.el-timeline-item__content'))).toBe('收到群发（张三） 秋季上新已发送')
    expect(q('timeline-message-link')!.getAttribute('href')).toBe('/scrm/messages/21')
    // newest first, among the profile's own entries
    expect(all('timeline-item')).toHaveLength(2)
  })

  it('changes the customer\'s stage, then shows the change on the timeline', async () => {
    await mountPage('/scrm/customers/wmA')
    expect(text(q('customer-stage-select'))).toContain('意向')
    const options = [...document.body.querySelectorAll<HTMLElement>('[data-test^="customer-stage-"][data-test$="none"], [data-test^="customer-stage-option-"]')]
    expect(options.map(text)).toEqual(['未设置', '新客', '意向', '成交'])
    vi.mocked(setCustomerStageApi).mockResolvedValueOnce({ stage: { id: 3, name: '成交', sort: 3, customers: 0 } })
    const changed: CustomersApi.Profile = {
      ...profile(), stage_id: 3, stage_name: '成交',
      timeline: [{ at: 1_800_000_000_000, kind: 'stage_changed', userid: '', employee_name: '王小锦', detail: '意向 → 成交' }, ...profile().timeline],
    }
    vi.mocked(getCustomerApi).mockResolvedValueOnce(changed)
    q('customer-stage-option-3', document.body)!.click()
    await settle()
    await settle()
    expect(setCustomerStageApi).toHaveBeenCalledWith('wmA', 3)
    expect(getCustomerApi).toHaveBeenCalledTimes(2)
    expect(text(all('timeline-item')[0].querySelector('.el-timeline-item__content'))).toBe('王小锦 将客户阶段从「意向」改为「成交」')
    expect(text(q('customer-stage-select'))).toContain('成交')
  })

  it('shows a refused stage change', async () => {
    await mountPage('/scrm/customers/wmA')
    vi.mocked(setCustomerStageApi).mockRejectedValueOnce(new ApiError(404, 'stage_not_found', 'gone'))
    q('customer-stage-none', document.body)!.click()
    await settle()
    expect(setCustomerStageApi).toHaveBeenCalledWith('wmA', 0)
    expect(text(q('customer-stage-error'))).toBe('客户阶段不存在，可能已被删除')
  })

  it('shows the customer, the follow employees with how each was added and stands, and the timeline', async () => {
    await mountPage('/scrm/customers/wmA')
    expect(getCustomerApi).toHaveBeenCalledWith('wmA')
    expect(text(q('customer-name'))).toBe('陈总')
    expect(text(q('customer-type'))).toBe('企业微信用户')
    expect(text(q('customer-header'))).toContain('采购经理')
    expect(all('follow-add-way').map(text)).toEqual(['管理员/负责人分配', '其他方式（7）'])
    const status = all('follow-status').map(text)
    expect(status[0]).toBe('跟进中')
    expect(status[1]).toContain(`客户于 ${formatDateTime(LOST_AT)} 删除了员工`)
    expect(all('timeline-item').map((el) => text(el.querySelector('.el-timeline-item__content')))).toEqual(['客户删除了员工 李四', '张三 添加了客户'])
    expect(q('customer-no-groups')).not.toBeNull()
    expect(q('customer-back')?.getAttribute('href')).toBe('/scrm/customers')
  })

  it('the same in English', async () => {
    i18n.global.locale.value = 'en-US'
    await mountPage('/scrm/customers/wmA')
    expect(all('follow-add-way').map(text)).toEqual(['Assigned by the admin', 'Other (7)'])
    expect(all('timeline-item').map((el) => text(el.querySelector('.el-timeline-item__content')))).toEqual(['The customer deleted 李四', 'Added by 张三'])
  })

  it('adds a follow-up note after checking it', async () => {
    await mountPage('/scrm/customers/wmA')
    q('note-add')!.click()
    await settle()
    expect(text(q('note-error'))).toBe('请填写跟进记录')
    expect(addCustomerNoteApi).not.toHaveBeenCalled()

    vi.mocked(addCustomerNoteApi).mockResolvedValueOnce({ id: 9, account_id: 7, author_name: '王小锦', body: '约了周五到店', created_at: 1_800_000_000_000 })
    const input = q('note-input') as HTMLTextAreaElement
    expect(input.tagName).toBe('TEXTAREA')
    input.value = '约了周五到店'
    input.dispatchEvent(new Event('input'))
    await nextTick()
    q('note-add')!.click()
    await settle()
    expect(addCustomerNoteApi).toHaveBeenCalledWith('wmA', '约了周五到店')
    const items = all('note-item')
    expect(items).toHaveLength(1)
    expect(text(items[0].querySelector('.author'))).toBe('王小锦')
    expect(text(items[0].querySelector('.note-meta .muted'))).toBe(formatDateTime(1_800_000_000_000))
    expect(text(items[0].querySelector('.note-body'))).toBe('约了周五到店')
    expect((q('note-input') as HTMLTextAreaElement).value).toBe('')
    expect(all('timeline-item')).toHaveLength(3)
    expect(q('note-error')).toBeNull()
  })

  it('shows a server refusal of the note', async () => {
    await mountPage('/scrm/customers/wmA')
    vi.mocked(addCustomerNoteApi).mockRejectedValueOnce(new ApiError(429, 'rate_limited', 'x', 30))
    const input = q('note-input') as HTMLTextAreaElement
    input.value = '记录'
    input.dispatchEvent(new Event('input'))
    await nextTick()
    q('note-add')!.click()
    await settle()
    expect(text(q('note-error'))).toBe('操作太频繁，请 30 秒 后再试')
  })

  it('a customer that does not exist (or is not visible) has a not-found state with a way back', async () => {
    vi.mocked(getCustomerApi).mockRejectedValueOnce(new ApiError(404, 'customer_not_found', 'x'))
    await mountPage('/scrm/customers/nobody')
    expect(text(q('customer-not-found'))).toContain('客户不存在，或不在你的可见范围内')
    expect(q('customer-header')).toBeNull()
  })

  it('edits the enterprise tags of an active relationship and shows them as the server answers', async () => {
    await mountPage('/scrm/customers/wmA')
    // only the active relationship can be tagged
    const rows = all('follow-employee').map((el) => el.closest('tr')!)
    expect(q('follow-edit-tags', rows[0])).not.toBeNull()
    expect(q('follow-edit-tags', rows[1])).toBeNull()

    q('follow-edit-tags', rows[0])!.click()
    await settle()
    const dialog = q('corp-tags-dialog', document.body)!
    expect(dialog).not.toBeNull()
    const options = all('tag-option', document.body)
    expect(options.map(text)).toEqual(['高意向', '金卡'])
    expect(options.map((o) => o.classList.contains('is-checked'))).toEqual([true, false])

    options[0].click()
    options[1].click()
    await settle()
    expect(text(q('corp-tags-changes', document.body))).toBe('添加 1 个，移除 1 个')
    vi.mocked(markCustomerTagsApi).mockResolvedValueOnce({ tags: [GOLD] })
    const after = profile()
    after.follows[0].tags = [GOLD]
    after.timeline.unshift({ at: 1_800_000_000_000, kind: 'tagged', userid: 'zhangsan', employee_name: '王小锦', detail: '金卡' })
    vi.mocked(getCustomerApi).mockResolvedValueOnce(after)
    q('corp-tags-save', document.body)!.click()
    await settle()
    await settle()
    expect(markCustomerTagsApi).toHaveBeenCalledWith('wmA', 'zhangsan', ['et2'], ['et1'])
    expect(all('follow-tag').map(text)).toEqual(['金卡'])
    // the timeline is asked for again and tells who tagged
    expect(getCustomerApi).toHaveBeenCalledTimes(2)
    expect(text(all('timeline-item')[0].querySelector('.el-timeline-item__content'))).toBe('王小锦 为 张三 的客户打上标签：金卡')
  })

  it('edits the remark of an active relationship: prefilled, only what changed is sent, the timeline tells', async () => {
    await mountPage('/scrm/customers/wmA')
    const rows = all('follow-employee').map((el) => el.closest('tr')!)
    expect(q('follow-edit-remark', rows[0])).not.toBeNull()
    expect(q('follow-edit-remark', rows[1])).toBeNull()

    q('follow-edit-remark', rows[0])!.click()
    await settle()
    const dialog = q('remark-dialog', document.body)!
    expect(dialog).not.toBeNull()
    // el-input puts the data-test on its native input
    const field = (test: string) => q(test, dialog) as HTMLInputElement | HTMLTextAreaElement | null
    expect(field('remark-input')!.value).toBe('陈总-茶饮')
    expect(field('description-input')!.value).toBe('大客户')
    expect(field('remark-mobiles-input')!.value).toBe('13800000000')
    // a WeCom customer has no remark company
    expect(q('remark-company-input', dialog)).toBeNull()

    const remark = field('remark-input')!
    remark.value = '陈总'
    remark.dispatchEvent(new Event('input'))
    await settle()
    vi.mocked(editRelationshipApi).mockResolvedValueOnce({ ...profile().follows[0], remark: '陈总' })
    const after = profile()
    after.follows[0].remark = '陈总'
    after.timeline.unshift({ at: 1_800_000_000_000, kind: 'remark_changed', userid: 'zhangsan', employee_name: '王小锦', detail: '陈总-茶饮 → 陈总' })
    vi.mocked(getCustomerApi).mockResolvedValueOnce(after)
    q('remark-save', dialog)!.click()
    await settle()
    await settle()
    expect(editRelationshipApi).toHaveBeenCalledWith('wmA', 'zhangsan', { remark: '陈总' })
    expect(text(rows[0].querySelectorAll('td')[1])).toBe('陈总')
    expect(getCustomerApi).toHaveBeenCalledTimes(2)
    expect(text(all('timeline-item')[0].querySelector('.el-timeline-item__content'))).toBe('王小锦 将 张三 的备注从「陈总-茶饮」改为「陈总」')
  })

  it('shows the remark company for a WeChat customer, and a refused or invalid edit in the dialog', async () => {
    const p = profile()
    p.type = 1
    p.follows[0].remark_corp_name = '锦鲤'
    vi.mocked(getCustomerApi).mockResolvedValue(p)
    await mountPage('/scrm/customers/wmA')
    q('follow-edit-remark')!.click()
    await settle()
    const dialog = q('remark-dialog', document.body)!
    const field = (test: string) => q(test, dialog) as HTMLInputElement | HTMLTextAreaElement
    expect(field('remark-company-input').value).toBe('锦鲤')

    const mobiles = field('remark-mobiles-input')
    mobiles.value = '1\n2\n3\n4\n5\n6'
    mobiles.dispatchEvent(new Event('input'))
    await settle()
    q('remark-save', dialog)!.click()
    await settle()
    expect(text(q('remark-error', dialog))).toBe('备注手机号最多 5 个，且只能包含数字、+、- 和空格')
    expect(editRelationshipApi).not.toHaveBeenCalled()

    mobiles.value = '13900000000'
    mobiles.dispatchEvent(new Event('input'))
    await settle()
    vi.mocked(editRelationshipApi).mockRejectedValueOnce(new ApiError(400, 'remark_company_wechat_only', 'x'))
    q('remark-save', dialog)!.click()
    await settle()
    expect(editRelationshipApi).toHaveBeenCalledWith('wmA', 'zhangsan', { remark_mobiles: ['13900000000'] })
    expect(text(q('remark-error', dialog))).toBe('只有微信客户可以设置备注企业名称')
  })

  it('shows a refused tagging in the dialog', async () => {
    await mountPage('/scrm/customers/wmA')
    q('follow-edit-tags')!.click()
    await settle()
    all('tag-option', document.body)[1].click()
    await settle()
    vi.mocked(markCustomerTagsApi).mockRejectedValueOnce(new ApiError(404, 'relationship_not_found', 'x'))
    q('corp-tags-save', document.body)!.click()
    await settle()
    expect(text(q('corp-tags-error', document.body))).toBe('该员工已不再跟进这位客户，这段跟进关系不能再修改')
    expect(all('follow-tag').map(text)).toEqual(['高意向'])
  })

  it('shows the personal tags (an admin sees whose the others are) and edits the caller’s own', async () => {
    const p = profile()
    p.personal_tags = [personalTag(1, '爱喝奶茶'), personalTag(5, '老客户', 9, '赵六')]
    vi.mocked(getCustomerApi).mockResolvedValue(p)
    await mountPage('/scrm/customers/wmA')
    expect(all('personal-tag').map(text)).toEqual(['爱喝奶茶', '老客户 · 赵六'])

    q('personal-tags-edit')!.click()
    await settle()
    expect(q('personal-tags-dialog', document.body)).not.toBeNull()
    const options = all('personal-tag-option', document.body)
    expect(options.map(text)).toEqual(['爱喝奶茶', '周末到店'])
    expect(options.map((o) => o.classList.contains('is-checked'))).toEqual([true, false])

    // a new tag from the quick box is created and checked
    vi.mocked(createPersonalTagApi).mockResolvedValueOnce(personalTag(3, '价格敏感'))
    const input = q('personal-tag-quick-input', document.body) as HTMLInputElement
    input.value = '价格敏感'
    input.dispatchEvent(new Event('input'))
    await nextTick()
    q('personal-tag-quick-create', document.body)!.click()
    await settle()
    expect(createPersonalTagApi).toHaveBeenCalledWith('价格敏感')
    const checked = () => all('personal-tag-option', document.body).filter((o) => o.classList.contains('is-checked')).map(text)
    expect(checked().sort()).toEqual(['价格敏感', '爱喝奶茶'].sort())

    vi.mocked(markCustomerPersonalTagsApi).mockResolvedValueOnce({
      personal_tags: [personalTag(1, '爱喝奶茶'), personalTag(3, '价格敏感'), personalTag(5, '老客户', 9, '赵六')],
    })
    q('personal-tags-save', document.body)!.click()
    await settle()
    expect(markCustomerPersonalTagsApi).toHaveBeenCalledWith('wmA', [3], [])
    expect(all('personal-tag').map(text)).toEqual(['爱喝奶茶', '价格敏感', '老客户 · 赵六'])
  })

  it('lists the official accounts and mini programs linked by unionid (粉丝匹配), in both languages', async () => {
    vi.mocked(getCustomerApi).mockResolvedValueOnce({
      ...profile(), type: 1, unionid: 'oUnion123456',
      linked_accounts: [
        { account_name: '锦鲤茶饮服务号', account_type: 'official', openid: 'oOpenA123456', nickname: '小锦' },
        { account_name: '锦鲤点单', account_type: 'miniprogram', openid: 'oOpenB123456', nickname: '' },
      ],
    })
    await mountPage('/scrm/customers/wmA')
    const card = q('customer-linked-card')!
    expect(text(card.querySelector('.el-card__header'))).toBe('关联公众号/小程序')
    expect(all('linked-account-name', card).map(text)).toEqual(['锦鲤茶饮服务号', '锦鲤点单'])
    expect(all('linked-account-type', card).map(text)).toEqual(['公众号', '小程序'])
    expect(all('linked-account-nickname', card).map(text)).toEqual(['小锦', '—'])
    expect(all('linked-account-openid', card).map(text)).toEqual(['oOpenA123456', 'oOpenB123456'])
    expect(q('customer-no-linked')).toBeNull()
    i18n.global.locale.value = 'en-US'
    await nextTick()
    expect(text(card.querySelector('.el-card__header'))).toBe('Linked accounts')
    expect(all('linked-account-type', card).map(text)).toEqual(['Official account', 'Mini program'])
  })

  it('shows every custom field with its value or a dash, and saves only the fields changed; the timeline tells', async () => {
    const p = profile()
    p.fields = [{ field_id: 1, value: '', option_ids: [11] }, { field_id: 3, value: '少糖', option_ids: [] }, { field_id: 5, value: '', option_ids: [51, 52] }]
    vi.mocked(getCustomerApi).mockResolvedValue(p)
    await mountPage('/scrm/customers/wmA')
    const card = q('customer-fields-card')!
    expect(text(card.querySelector('.card-title'))).toBe('自定义字段')
    expect(text(q('customer-fields-edit', card))).toBe('编辑')
    expect(all('customer-field-name', card).map(text)).toEqual(['会员等级', '生日', '口味偏好', '鞋码', '兴趣'])
    expect(all('customer-field-value', card).map(text)).toEqual(['金卡', '—', '少糖', '—', '茶饮甜品'])
    expect([...all('customer-field-value', card)[4].querySelectorAll('.el-tag')].map(text)).toEqual(['茶饮', '甜品'])

    q('customer-fields-edit')!.click()
    await settle()
    const dialog = q('customer-fields-dialog', document.body)!
    expect(dialog).not.toBeNull()
    // the right input for each kind, filled in with the values
    expect((q('customer-field-input-3', dialog) as HTMLInputElement).value).toBe('少糖')
    expect(text(q('customer-field-input-3', dialog)!.closest('.el-input')!.querySelector('.el-input__count'))).toBe('2 / 200')
    expect((q('customer-field-input-4', dialog) as HTMLInputElement).value).toBe('')
    expect(q('customer-field-input-2', dialog)!.querySelector('.el-date-editor')).not.toBeNull()
    expect(text(q('customer-field-input-1', dialog))).toContain('金卡')
    expect(q('customer-field-input-5', dialog)!.querySelector('.el-select__selection')).not.toBeNull()

    // 鞋码 typed, 会员等级 changed, the rest left as they were
    const size = q('customer-field-input-4', dialog) as HTMLInputElement
    size.value = ' 38.5 '
    size.dispatchEvent(new Event('input'))
    q('customer-field-option-12', document.body)!.click()
    await settle()
    const after: FieldsApi.Value[] = [
      { field_id: 1, value: '', option_ids: [12] }, { field_id: 3, value: '少糖', option_ids: [] }, { field_id: 4, value: '38.5', option_ids: [] },
      { field_id: 5, value: '', option_ids: [51, 52] },
    ]
    vi.mocked(setCustomerFieldsApi).mockResolvedValueOnce({ fields: after })
    vi.mocked(getCustomerApi).mockResolvedValueOnce({
      ...p,
      fields: after,
      timeline: [
        { at: 1_800_000_000_000, kind: 'field_changed', userid: '', employee_name: '王小锦', detail: '会员等级: 金卡 → 银卡' },
        { at: 1_800_000_000_000, kind: 'field_changed', userid: '', employee_name: '王小锦', detail: '鞋码:  → 38.5' },
        ...p.timeline,
      ],
    })
    q('customer-fields-save', dialog)!.click()
    await settle()
    await settle()
    expect(setCustomerFieldsApi).toHaveBeenCalledWith('wmA', [{ field_id: 1, option_ids: [12] }, { field_id: 4, value: '38.5' }])
    expect(all('customer-field-value', card).map(text)).toEqual(['银卡', '—', '少糖', '38.5', '茶饮甜品'])
    expect(getCustomerApi).toHaveBeenCalledTimes(2)
    const lines = all('timeline-item').map((el) => text(el.querySelector('.el-timeline-item__content')))
    expect(lines.slice(0, 2)).toEqual(['王小锦 将「会员等级」从「金卡」改为「银卡」', '王小锦 将「鞋码」设为「38.5」'])
  })

  it('clears a field with an empty value, and sends nothing when nothing changed', async () => {
    const p = profile()
    p.fields = [{ field_id: 3, value: '少糖', option_ids: [] }, { field_id: 5, value: '', option_ids: [51] }]
    vi.mocked(getCustomerApi).mockResolvedValue(p)
    await mountPage('/scrm/customers/wmA')
    q('customer-fields-edit')!.click()
    await settle()
    const dialog = q('customer-fields-dialog', document.body)!
    q('customer-fields-save', dialog)!.click()
    await settle()
    expect(setCustomerFieldsApi).not.toHaveBeenCalled()

    q('customer-fields-edit')!.click()
    await settle()
    const taste = q('customer-field-input-3', dialog) as HTMLInputElement
    taste.value = '  '
    taste.dispatchEvent(new Event('input'))
    // unpicking the only option of 兴趣
    q('customer-field-option-51', document.body)!.click()
    await settle()
    vi.mocked(setCustomerFieldsApi).mockResolvedValueOnce({ fields: [] })
    q('customer-fields-save', dialog)!.click()
    await settle()
    expect(setCustomerFieldsApi).toHaveBeenCalledWith('wmA', [{ field_id: 3, value: '' }, { field_id: 5, option_ids: [] }])
    expect(all('customer-field-value').map(text)).toEqual(['—', '—', '—', '—', '—'])
  })

  it('checks a number before sending, and shows a refused save in the dialog', async () => {
    await mountPage('/scrm/customers/wmA')
    q('customer-fields-edit')!.click()
    await settle()
    const dialog = q('customer-fields-dialog', document.body)!
    const size = q('customer-field-input-4', dialog) as HTMLInputElement
    size.value = '三十八'
    size.dispatchEvent(new Event('input'))
    // el-form-item shows its error a moment after it is set
    const fieldError = () => text(q('customer-field-item-4', dialog)!.querySelector('.el-form-item__error'))
    await vi.waitFor(() => expect(fieldError()).toBe('请填写数字：最多 15 位整数、6 位小数，例如 42 或 -3.5'), { timeout: 3000 })
    q('customer-fields-save', dialog)!.click()
    await settle()
    expect(text(q('customer-fields-error', dialog))).toBe('请先修改标红的字段')
    expect(setCustomerFieldsApi).not.toHaveBeenCalled()

    size.value = '-007.50'
    size.dispatchEvent(new Event('input'))
    await settle()
    expect(q('customer-field-item-4', dialog)!.classList.contains('is-error')).toBe(false)
    vi.mocked(setCustomerFieldsApi).mockRejectedValueOnce(new ApiError(404, 'field_not_found', 'x'))
    q('customer-fields-save', dialog)!.click()
    await settle()
    expect(setCustomerFieldsApi).toHaveBeenCalledWith('wmA', [{ field_id: 4, value: '-007.50' }])
    expect(text(q('customer-fields-error', dialog))).toBe('自定义字段不存在，可能已被删除')
    // the fields are asked for again (the one gone is no longer offered next time)
    expect(listCustomFieldsApi).toHaveBeenCalledTimes(2)
    expect(q('customer-fields-dialog', document.body)).not.toBeNull()
  })

  it('says when the team has no custom fields; an admin is pointed to the fields page', async () => {
    vi.mocked(listCustomFieldsApi).mockResolvedValue({ items: [] })
    await mountPage('/scrm/customers/wmA')
    expect(text(q('customer-no-fields'))).toContain('团队还没有自定义字段')
    expect(q('customer-manage-fields')!.getAttribute('href')).toBe('/scrm/fields')
    expect(q('customer-fields-edit')).toBeNull()
  })

  it('shows a cleared custom field on the timeline, in English too', async () => {
    vi.mocked(getCustomerApi).mockResolvedValue({
      ...profile(),
      timeline: [{ at: LOST_AT + 1, kind: 'field_changed', userid: '', employee_name: '王小锦', detail: '兴趣: 茶饮、甜品 → ' }, ...profile().timeline],
    })
    await mountPage('/scrm/customers/wmA')
    const first = () => text(all('timeline-item')[0].querySelector('.el-timeline-item__content'))
    expect(first()).toBe('王小锦 清除了「兴趣」（原为「茶饮、甜品」）')
    i18n.global.locale.value = 'en-US'
    await nextTick()
    expect(first()).toBe('王小锦 cleared "兴趣" (was "茶饮、甜品")')
  })

  it('says when no account is linked', async () => {
    await mountPage('/scrm/customers/wmA')
    expect(q('customer-linked-table')).toBeNull()
    expect(text(q('customer-no-linked'))).toBe('暂无关联的公众号/小程序（管理员导入粉丝后按 unionid 自动匹配）')
  })
})
