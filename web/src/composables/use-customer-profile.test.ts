import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/request'
import { addCustomerNoteApi, getCustomerApi, type CustomersApi } from '@/api/customers'
import { i18n } from '@/locales'
import zhCN from '@/locales/langs/zh-CN.json'
import enUS from '@/locales/langs/en-US.json'
import { codePoints, NOTE_MAX, noteProblem, timelineText, trimNote, useCustomerProfile } from './use-customer-profile'

vi.mock('@/api/customers', () => ({ getCustomerApi: vi.fn(), addCustomerNoteApi: vi.fn() }))

function profile(over: Partial<CustomersApi.Profile> = {}): CustomersApi.Profile {
  return {
    external_userid: 'wm1', name: '王小锦', type: 1, gender: 2, corp_name: '', last_add_time: 1000, active_follows: 1, follows: [], tags: [],
    position: '', unionid: '', groups: [], personal_tags: [], stage_id: null, stage_name: '', linked_accounts: [], fields: [],
    notes: [{ id: 1, account_id: 7, author_name: '张三', body: '旧的记录', created_at: 3000 }],
    timeline: [
      { at: 3000, kind: 'note', userid: '', employee_name: '张三', detail: '旧的记录' },
      { at: 1000, kind: 'added', userid: 'zhangsan', employee_name: '张三', detail: '' },
    ],
    ...over,
  }
}
const note = (id: number, body: string, at: number): CustomersApi.Note => ({ id, account_id: 7, author_name: '李四', body, created_at: at })

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getCustomerApi).mockReset().mockResolvedValue(profile())
  vi.mocked(addCustomerNoteApi).mockReset()
})

describe('note checks', () => {
  it('counts characters as code points, as the server does', () => {
    expect(codePoints('跟进')).toBe(2)
    expect(codePoints('😀😀')).toBe(2)
    expect('😀😀'.length).toBe(4)
    expect(codePoints('')).toBe(0)
  })

  it('refuses an empty note and one over 2000 characters, after trimming like the server', () => {
    expect(trimNote(' \n\t记录\r\n ')).toBe('记录')
    expect(noteProblem(' \n\t ')).toBe('note_empty')
    expect(noteProblem('好'.repeat(NOTE_MAX))).toBe('')
    expect(noteProblem(`  ${'好'.repeat(NOTE_MAX)}\n`)).toBe('')
    expect(noteProblem('好'.repeat(NOTE_MAX + 1))).toBe('note_too_long')
    // 2000 emoji are 4000 UTF-16 units but only 2000 characters
    expect(noteProblem('😀'.repeat(NOTE_MAX))).toBe('')
    expect(noteProblem('😀'.repeat(NOTE_MAX + 1))).toBe('note_too_long')
  })
})

describe('timelineText', () => {
  it('has a text for every kind, in both languages', () => {
    const items: CustomersApi.TimelineItem[] = [
      { at: 1, kind: 'added', userid: 'zhangsan', employee_name: '', detail: '' },
      ...(['customer', 'employee', 'transfer', 'sync', ''] as const).map((d) => ({ at: 1, kind: 'lost' as const, userid: 'u', employee_name: '张三', detail: d })),
      { at: 1, kind: 'joined_group', userid: '', employee_name: '', detail: 'VIP 群' },
      { at: 1, kind: 'note', userid: '', employee_name: '李四', detail: '聊了聊' },
      { at: 1, kind: 'tagged', userid: 'zhangsan', employee_name: '王小锦', detail: 'VIP、高意向' },
      { at: 1, kind: 'untagged', userid: 'lisi', employee_name: '王小锦', detail: '新客' },
      { at: 1, kind: 'stage_changed', userid: '', employee_name: '王小锦', detail: '意向 → 成交' },
      { at: 1, kind: 'field_changed', userid: '', employee_name: '王小锦', detail: '会员等级: 金卡 → 银卡' },
    ]
    for (const lang of ['zh-CN', 'en-US'] as const) {
      i18n.global.locale.value = lang
      for (const item of items) {
        const { key, values } = timelineText(item)
        expect(i18n.global.te(key), key).toBe(true)
        expect(i18n.global.t(key, values)).not.toContain('{')
      }
    }
    i18n.global.locale.value = 'zh-CN'
    const added = timelineText(items[0])
    expect(i18n.global.t(added.key, added.values)).toBe('zhangsan 添加了客户')
    const lost = timelineText(items[1])
    expect(i18n.global.t(lost.key, lost.values)).toBe('客户删除了员工 张三')
    expect(timelineText(items[5]).key).toBe('customers.timeline.lost.other')
    const group = timelineText(items[6])
    expect(i18n.global.t(group.key, group.values)).toBe('加入客户群「VIP 群」')
    expect(Object.keys(zhCN.customers.timeline)).toEqual(Object.keys(enUS.customers.timeline))
  })

  it('says who tagged, through whose relationship, and which tags', () => {
    const tagged: CustomersApi.TimelineItem = { at: 1, kind: 'tagged', userid: 'zhangsan', employee_name: '王小锦', detail: 'VIP、高意向' }
    const untagged: CustomersApi.TimelineItem = { at: 1, kind: 'untagged', userid: 'lisi', employee_name: '王小锦', detail: '新客' }
    const names = { zhangsan: '张三' }
    const line = (item: CustomersApi.TimelineItem) => {
      const { key, values } = timelineText(item, names)
      return i18n.global.t(key, values)
    }
    expect(line(tagged)).toBe('王小锦 为 张三 的客户打上标签：VIP、高意向')
    // an employee the profile does not name is shown by userid
    expect(line(untagged)).toBe('王小锦 移除了 lisi 的客户的标签：新客')
    i18n.global.locale.value = 'en-US'
    expect(line(tagged)).toBe('王小锦 tagged (via 张三): VIP、高意向')
    expect(line(untagged)).toBe('王小锦 untagged (via lisi): 新客')
  })

  it('says who changed a custom field, from which value to which; an empty side is no value', () => {
    const change = (detail: string, names: string[] = []): string => {
      const { key, values } = timelineText({ at: 1, kind: 'field_changed', userid: '', employee_name: '王小锦', detail }, {}, names)
      return i18n.global.t(key, values)
    }
    expect(change('会员等级: 金卡 → 银卡')).toBe('王小锦 将「会员等级」从「金卡」改为「银卡」')
    expect(change('生日:  → 1990-05-01')).toBe('王小锦 将「生日」设为「1990-05-01」')
    expect(change('兴趣: 茶饮、甜品 → ')).toBe('王小锦 清除了「兴趣」（原为「茶饮、甜品」）')
    expect(change('备注: 时间: 周末 → 工作日', ['备注'])).toBe('王小锦 将「备注」从「时间: 周末」改为「工作日」')
    expect(change('会员等级:  → ')).toBe('其他动态')
    i18n.global.locale.value = 'en-US'
    expect(change('Level: Gold → Silver')).toBe('王小锦 changed "Level" from "Gold" to "Silver"')
    expect(change('Birthday:  → 1990-05-01')).toBe('王小锦 set "Birthday" to "1990-05-01"')
    expect(change('Level: Gold → ')).toBe('王小锦 cleared "Level" (was "Gold")')
  })

  it('says who changed the stage, from which to which; an empty side is no stage', () => {
    const change = (detail: string, employee_name = '王小锦'): string => {
      const { key, values } = timelineText({ at: 1, kind: 'stage_changed', userid: '', employee_name, detail })
      return i18n.global.t(key, values)
    }
    expect(change('意向 → 成交')).toBe('王小锦 将客户阶段从「意向」改为「成交」')
    expect(change(' → 意向')).toBe('王小锦 将客户阶段设为「意向」')
    expect(change('意向 → ')).toBe('王小锦 清除了客户阶段（原为「意向」）')
    expect(change('意向 → 成交', '')).toBe('— 将客户阶段从「意向」改为「成交」')
    expect(change(' → ')).toBe('其他动态')
    i18n.global.locale.value = 'en-US'
    expect(change('Interested → Paid')).toBe('王小锦 moved the customer from the stage "Interested" to "Paid"')
    expect(change(' → New')).toBe('王小锦 put the customer in the stage "New"')
    expect(change('Paid → ')).toBe('王小锦 took the customer out of the stage "Paid"')
  })
})

describe('useCustomerProfile', () => {
  it('loads a customer; a missing one (or one out of scope) is not found, not an error', async () => {
    const c = useCustomerProfile()
    await c.load('wm1')
    expect(getCustomerApi).toHaveBeenCalledWith('wm1')
    expect(c.profile.value?.name).toBe('王小锦')
    vi.mocked(getCustomerApi).mockRejectedValueOnce(new ApiError(404, 'customer_not_found', 'x'))
    await c.load('wm404')
    expect(c.notFound.value).toBe(true)
    expect(c.profile.value).toBeNull()
    expect(c.error.value).toBe('')
    vi.mocked(getCustomerApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    await c.load('wm1')
    expect(c.notFound.value).toBe(false)
    expect(c.error.value).toBe('无法连接服务器，请检查网络后重试')
  })

  it('keeps only the latest customer asked for', async () => {
    let releaseSlow!: (p: CustomersApi.Profile) => void
    vi.mocked(getCustomerApi)
      .mockImplementationOnce(() => new Promise((r) => (releaseSlow = r)))
      .mockResolvedValueOnce(profile({ external_userid: 'wm2', name: '新' }))
    const c = useCustomerProfile()
    const slow = c.load('wm1')
    await c.load('wm2')
    releaseSlow(profile({ name: '旧' }))
    await slow
    expect(c.profile.value?.name).toBe('新')
    expect(c.loading.value).toBe(false)
  })

  it('refreshes quietly: a failure keeps what is shown', async () => {
    const c = useCustomerProfile()
    await c.load('wm1')
    vi.mocked(getCustomerApi).mockResolvedValueOnce(profile({ name: '王小锦（新）' }))
    await c.refresh()
    expect(c.profile.value?.name).toBe('王小锦（新）')
    vi.mocked(getCustomerApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    await c.refresh()
    expect(c.profile.value?.name).toBe('王小锦（新）')
    expect(c.error.value).toBe('')
    expect(c.loading.value).toBe(false)
  })

  it('a refresh does not override a customer loaded meanwhile', async () => {
    const c = useCustomerProfile()
    await c.load('wm1')
    let releaseRefresh!: (p: CustomersApi.Profile) => void
    vi.mocked(getCustomerApi)
      .mockImplementationOnce(() => new Promise((r) => (releaseRefresh = r)))
      .mockResolvedValueOnce(profile({ external_userid: 'wm2', name: '新' }))
    const refreshing = c.refresh()
    await c.load('wm2')
    releaseRefresh(profile({ name: '旧' }))
    await refreshing
    expect(c.profile.value?.name).toBe('新')
  })

  it('checks a note before sending it', async () => {
    const c = useCustomerProfile()
    await c.load('wm1')
    c.note.value = '   '
    expect(await c.addNote()).toBe(false)
    expect(c.noteError.value).toBe('请填写跟进记录')
    c.note.value = '好'.repeat(NOTE_MAX + 1)
    expect(await c.addNote()).toBe(false)
    expect(c.noteError.value).toBe('跟进记录最多 2000 个字')
    expect(addCustomerNoteApi).not.toHaveBeenCalled()
  })

  it('adds a note at the top of the notes and the timeline and empties the box', async () => {
    vi.mocked(addCustomerNoteApi).mockResolvedValueOnce(note(2, '约了周五到店', 5000))
    const c = useCustomerProfile()
    await c.load('wm1')
    c.note.value = '  约了周五到店\n'
    expect(await c.addNote()).toBe(true)
    expect(addCustomerNoteApi).toHaveBeenCalledWith('wm1', '约了周五到店')
    expect(c.profile.value?.notes.map((n) => n.id)).toEqual([2, 1])
    expect(c.profile.value?.timeline.map((x) => x.kind)).toEqual(['note', 'note', 'added'])
    expect(c.profile.value?.timeline[0]).toMatchObject({ at: 5000, employee_name: '李四', detail: '约了周五到店' })
    expect(c.note.value).toBe('')
    expect(c.noteError.value).toBe('')
  })

  it('shows a refused note in the user language and keeps the text', async () => {
    vi.mocked(addCustomerNoteApi).mockRejectedValueOnce(new ApiError(400, 'note_too_long', 'x'))
    const c = useCustomerProfile()
    await c.load('wm1')
    c.note.value = '记录'
    i18n.global.locale.value = 'en-US'
    expect(await c.addNote()).toBe(false)
    expect(c.noteError.value).toBe('A note has at most 2000 characters')
    expect(c.note.value).toBe('记录')
    expect(c.adding.value).toBe(false)
  })
})
