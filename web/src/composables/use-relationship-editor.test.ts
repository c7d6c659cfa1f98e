import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ref } from 'vue'
import { ApiError } from '@/api/request'
import { editRelationshipApi, type CustomersApi } from '@/api/customers'
import { i18n } from '@/locales'
import { timelineText } from './use-customer-profile'
import { parseMobiles, remarkChanges, remarkForm, remarkProblem, useRelationshipEditor, type RemarkForm } from './use-relationship-editor'

vi.mock('@/api/customers', () => ({ editRelationshipApi: vi.fn(), getCustomerApi: vi.fn(), addCustomerNoteApi: vi.fn() }))

function follow(over: Partial<CustomersApi.Follow> = {}): CustomersApi.Follow {
  return {
    userid: 'zhangsan', employee_name: '张三', remark: '陈总', description: '大客户', add_time: 1, add_way: 1, state: '',
    remark_mobiles: ['13800000000'], remark_corp_name: '锦鲤', active: true, deleted_by: '', deleted_at: null, tags: [], ...over,
  }
}
function profile(type: 1 | 2 = 1): CustomersApi.Profile {
  return {
    external_userid: 'wm1', name: '陈总', type, gender: 1, corp_name: '', last_add_time: 1, active_follows: 1,
    follows: [follow(), follow({ userid: 'lisi', employee_name: '李四', remark: '' })], tags: [],
    position: '', unionid: '', groups: [], notes: [], timeline: [], stage_id: null, stage_name: '', personal_tags: [],
    linked_accounts: [], fields: [],
  }
}
const form = (over: Partial<RemarkForm> = {}): RemarkForm => ({ ...remarkForm(follow()), ...over })

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(editRelationshipApi).mockReset()
})

describe('remarkChanges', () => {
  it('has nothing when the form is as prefilled', () => {
    expect(remarkChanges(follow(), form(), 1)).toEqual({})
  })

  it('has only the fields that changed; the mobiles are compared without blank lines and spaces around', () => {
    expect(remarkChanges(follow(), form({ remark: '陈总-茶饮', mobiles: ' 13800000000 \n\n' }), 1)).toEqual({ remark: '陈总-茶饮' })
    expect(remarkChanges(follow(), form({ description: '', remarkCorpName: '' }), 1)).toEqual({ description: '', remark_corp_name: '' })
    expect(remarkChanges(follow(), form({ mobiles: '13800000000\n+86 139-0000-0000' }), 1))
      .toEqual({ remark_mobiles: ['13800000000', '+86 139-0000-0000'] })
    // emptied: cleared
    expect(remarkChanges(follow(), form({ mobiles: '' }), 1)).toEqual({ remark_mobiles: [] })
  })

  it('leaves the remark company out for a WeCom customer', () => {
    expect(remarkChanges(follow(), form({ remarkCorpName: '别的' }), 2)).toEqual({})
  })
})

describe('remarkProblem', () => {
  it('checks the lengths as the server counts them', () => {
    expect(remarkProblem(form({ remark: '一'.repeat(20) }), 1)).toBe('')
    expect(remarkProblem(form({ remark: '😀'.repeat(20) }), 1)).toBe('')
    expect(remarkProblem(form({ remark: '一'.repeat(21) }), 1)).toBe('remark_too_long')
    expect(remarkProblem(form({ description: 'a'.repeat(151) }), 1)).toBe('description_too_long')
    expect(remarkProblem(form({ remarkCorpName: 'a'.repeat(21) }), 1)).toBe('remark_company_too_long')
    expect(remarkProblem(form({ remarkCorpName: '锦鲤' }), 2)).toBe('remark_company_wechat_only')
  })

  it('takes at most 5 mobiles of digits, +, - and spaces', () => {
    expect(parseMobiles(' 1\n\n2 \r\n')).toEqual(['1', '2'])
    expect(remarkProblem(form({ mobiles: '1\n2\n3\n4\n+86 5-6' }), 1)).toBe('')
    expect(remarkProblem(form({ mobiles: '1\n2\n3\n4\n5\n6' }), 1)).toBe('invalid_remark_mobile')
    expect(remarkProblem(form({ mobiles: '138x' }), 1)).toBe('invalid_remark_mobile')
  })
})

describe('useRelationshipEditor', () => {
  it('sends only what changed and shows the relationship as answered', async () => {
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = useRelationshipEditor(p)
    e.start(p.value!.follows[0])
    expect(e.open.value).toBe(true)
    expect(e.form.value).toEqual({ remark: '陈总', description: '大客户', remarkCorpName: '锦鲤', mobiles: '13800000000' })
    e.form.value.remark = '陈总-茶饮'
    vi.mocked(editRelationshipApi).mockResolvedValueOnce(follow({ remark: '陈总-茶饮' }))
    expect(await e.save()).toBe(true)
    expect(editRelationshipApi).toHaveBeenCalledWith('wm1', 'zhangsan', { remark: '陈总-茶饮' })
    expect(p.value!.follows.map((f) => f.remark)).toEqual(['陈总-茶饮', ''])
    expect(e.open.value).toBe(false)
  })

  it('just closes when nothing changed, and refuses what the server would refuse without asking', async () => {
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = useRelationshipEditor(p)
    e.start(p.value!.follows[0])
    expect(await e.save()).toBe(true)
    expect(e.open.value).toBe(false)
    e.start(p.value!.follows[0])
    e.form.value.mobiles = 'abc'
    expect(await e.save()).toBe(false)
    expect(e.error.value).toBe(i18n.global.t('errors.invalid_remark_mobile'))
    expect(editRelationshipApi).not.toHaveBeenCalled()
  })

  it('keeps the dialog open with the failure', async () => {
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = useRelationshipEditor(p)
    e.start(p.value!.follows[0])
    e.form.value.description = '新的'
    vi.mocked(editRelationshipApi).mockRejectedValueOnce(new ApiError(400, 'description_too_long', 'x'))
    expect(await e.save()).toBe(false)
    expect(e.error.value).toBe('描述最多 150 个字')
    expect(e.open.value).toBe(true)
    expect(p.value!.follows[0].description).toBe('大客户')
  })
})

describe('timelineText remark_changed', () => {
  it('says who changed whose remark from what to what; an empty side is none', () => {
    const line = (detail: string) => {
      const { key, values } = timelineText(
        { at: 1, kind: 'remark_changed', userid: 'zhangsan', employee_name: '王小锦', detail }, { zhangsan: '张三' },
      )
      return i18n.global.t(key, values)
    }
    expect(line('旧 → 新')).toBe('王小锦 将 张三 的备注从「旧」改为「新」')
    expect(line(' → 新')).toBe('王小锦 将 张三 的备注设为「新」')
    expect(line('旧 → ')).toBe('王小锦 清除了 张三 的备注（原为「旧」）')
    i18n.global.locale.value = 'en-US'
    expect(line('Old → New')).toBe('王小锦 changed 张三\'s remark from "Old" to "New"')
  })
})
