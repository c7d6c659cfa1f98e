import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'
import ElementPlus from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { addCustomerNoteApi, getCustomerApi, type CustomersApi } from '@/api/customers'
import { formatDateTime } from '@/composables/format'
import DetailPage from './customer-detail.vue'

vi.mock('@/api/customers', () => ({ getCustomerApi: vi.fn(), addCustomerNoteApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => ({
  ...(await importOriginal<typeof import('element-plus')>()),
  ElMessage: { success: vi.fn(), error: vi.fn() },
}))

const LOST_AT = 1_700_100_000_000
function profile(): CustomersApi.Profile {
  return {
    external_userid: 'wmA', name: '陈总', type: 2, gender: 1, corp_name: '锦鲤茶饮', last_add_time: 1_700_000_000_000, active_follows: 1,
    position: '采购经理', unionid: '',
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
    timeline: [
      { at: LOST_AT, kind: 'lost', userid: 'lisi', employee_name: '李四', detail: 'customer' },
      { at: 1_700_000_000_000, kind: 'added', userid: 'zhangsan', employee_name: '张三', detail: '' },
    ],
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
  app = createApp({ render: () => h(RouterView) })
  app.use(createPinia()).use(i18n).use(router).use(ElementPlus).mount(root)
  await settle()
}
async function settle() {
  for (let i = 0; i < 3; i++) await Promise.resolve()
  await nextTick()
}
const q = (test: string) => root.querySelector<HTMLElement>(`[data-test="${test}"]`)
const all = (test: string) => [...root.querySelectorAll<HTMLElement>(`[data-test="${test}"]`)]
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getCustomerApi).mockReset().mockResolvedValue(profile())
  vi.mocked(addCustomerNoteApi).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  root?.remove()
})

describe('a customer profile', () => {
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
})
