import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ref } from 'vue'
import { ApiError } from '@/api/request'
import {
  createPersonalTagApi, listPersonalTagsApi, listScrmTagsApi, markCustomerPersonalTagsApi, markCustomerTagsApi, type CustomersApi,
} from '@/api/customers'
import { i18n } from '@/locales'
import { personalTagLabel, useCorpTagEditor, usePersonalTagEditor, withFollowTags } from './use-customer-tags'

vi.mock('@/api/customers', () => ({
  listScrmTagsApi: vi.fn(), markCustomerTagsApi: vi.fn(), listPersonalTagsApi: vi.fn(), createPersonalTagApi: vi.fn(),
  deletePersonalTagApi: vi.fn(), markCustomerPersonalTagsApi: vi.fn(),
}))

const ref_ = (tag_id: string, name: string, group_name = '等级'): CustomersApi.TagRef => ({ tag_id, name, group_name })
const GOLD = ref_('et1', '金卡')
const SILVER = ref_('et2', '银卡')
const HIGH = ref_('et3', '高意向', '意向')
const GONE = ref_('et9', '旧标签', '旧组')

function follow(userid: string, tags: CustomersApi.TagRef[], active = true): CustomersApi.Follow {
  return {
    userid, employee_name: userid === 'zhangsan' ? '张三' : '', remark: '', description: '', add_time: 1, add_way: 1, state: '',
    remark_mobiles: [], remark_corp_name: '', active, deleted_by: active ? '' : 'customer', deleted_at: active ? null : 2, tags,
  }
}
const personal = (id: number, name: string, account_id = 7, owner_name = '王小锦'): CustomersApi.PersonalTag =>
  ({ id, name, account_id, owner_name, customers: 0, created_at: 1 })

function profile(): CustomersApi.Profile {
  return {
    external_userid: 'wm1', name: '陈总', type: 1, gender: 1, corp_name: '', last_add_time: 1, active_follows: 2,
    follows: [follow('zhangsan', [GOLD, GONE]), follow('lisi', [HIGH])], tags: [GOLD, GONE, HIGH],
    position: '', unionid: '', groups: [], notes: [], timeline: [], stage_id: null, stage_name: '', linked_accounts: [], fields: [],
    personal_tags: [personal(1, '爱喝奶茶'), personal(5, '老客户', 9, '赵六')],
  }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listScrmTagsApi).mockReset().mockResolvedValue({
    items: [{ group_id: 'g1', name: '等级', tags: [GOLD, SILVER] }, { group_id: 'g2', name: '意向', tags: [HIGH] }],
  })
  vi.mocked(markCustomerTagsApi).mockReset()
  vi.mocked(listPersonalTagsApi).mockReset().mockResolvedValue({ items: [personal(1, '爱喝奶茶'), personal(2, '周末到店')] })
  vi.mocked(createPersonalTagApi).mockReset()
  vi.mocked(markCustomerPersonalTagsApi).mockReset()
})

describe('withFollowTags', () => {
  it('replaces one relationship’s tags and the customer’s tags follow', () => {
    const p = withFollowTags(profile(), 'zhangsan', [SILVER])
    expect(p.follows[0].tags).toEqual([SILVER])
    expect(p.follows[1].tags).toEqual([HIGH])
    expect(p.tags.map((t) => t.tag_id)).toEqual(['et2', 'et3'])
  })
})

describe('personalTagLabel', () => {
  it('shows whose a tag is when it is someone else’s', () => {
    expect(personalTagLabel(personal(1, '爱喝奶茶'), 7)).toBe('爱喝奶茶')
    expect(personalTagLabel(personal(5, '老客户', 9, '赵六'), 7)).toBe('老客户 · 赵六')
    expect(personalTagLabel(personal(5, '老客户', 9, ''), 7)).toBe('老客户')
  })
})

describe('useCorpTagEditor', () => {
  it('opens checked as the relationship is tagged, with tags gone from the library apart', async () => {
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = useCorpTagEditor(p)
    await e.start(p.value!.follows[0])
    expect(e.open.value).toBe(true)
    expect(e.employeeName.value).toBe('张三')
    expect(e.library.value).toHaveLength(2)
    expect(e.isSelected('et1')).toBe(true)
    expect(e.isSelected('et2')).toBe(false)
    expect(e.others.value).toEqual([GONE])
    expect(e.changed.value).toBe(false)
  })

  it('sends only what changed and shows the relationship as the server answers', async () => {
    vi.mocked(markCustomerTagsApi).mockResolvedValueOnce({ tags: [SILVER, HIGH] })
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = useCorpTagEditor(p)
    await e.start(p.value!.follows[0])
    e.toggle('et1') // off
    e.toggle('et2') // on
    e.toggle('et3') // on
    e.toggle('et9') // off
    expect(e.diff.value).toEqual({ add: ['et2', 'et3'], remove: ['et1', 'et9'] })
    expect(await e.save()).toBe(true)
    expect(markCustomerTagsApi).toHaveBeenCalledWith('wm1', 'zhangsan', ['et2', 'et3'], ['et1', 'et9'])
    expect(p.value!.follows[0].tags).toEqual([SILVER, HIGH])
    expect(p.value!.tags.map((t) => t.tag_id)).toEqual(['et2', 'et3'])
    expect(e.open.value).toBe(false)
  })

  it('closes without asking when nothing changed', async () => {
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = useCorpTagEditor(p)
    await e.start(p.value!.follows[1])
    e.toggle('et1')
    e.toggle('et1')
    expect(await e.save()).toBe(true)
    expect(markCustomerTagsApi).not.toHaveBeenCalled()
    expect(e.open.value).toBe(false)
  })

  it('keeps the dialog open with the refusal', async () => {
    vi.mocked(markCustomerTagsApi).mockRejectedValueOnce(new ApiError(404, 'relationship_not_found', 'x'))
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = useCorpTagEditor(p)
    await e.start(p.value!.follows[0])
    e.toggle('et2')
    expect(await e.save()).toBe(false)
    expect(e.error.value).toBe('该员工已不再跟进这位客户，这段跟进关系不能再修改')
    expect(e.open.value).toBe(true)
    expect(e.saving.value).toBe(false)
    expect(p.value!.follows[0].tags).toEqual([GOLD, GONE])
  })

  it('says so when the library cannot be loaded', async () => {
    vi.mocked(listScrmTagsApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = useCorpTagEditor(p)
    await e.start(p.value!.follows[0])
    expect(e.error.value).toBe('无法连接服务器，请检查网络后重试')
    expect(e.libraryLoading.value).toBe(false)
  })
})

describe('usePersonalTagEditor', () => {
  it('lists the caller’s tags checked as the customer carries them; others’ tags are left alone', async () => {
    vi.mocked(markCustomerPersonalTagsApi).mockResolvedValueOnce({ personal_tags: [personal(2, '周末到店'), personal(5, '老客户', 9, '赵六')] })
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = usePersonalTagEditor(p)
    await e.start()
    expect(e.own.items.value.map((t) => t.id)).toEqual([1, 2])
    expect(e.selected.value).toEqual([1])
    e.selected.value = [2]
    expect(await e.save()).toBe(true)
    expect(markCustomerPersonalTagsApi).toHaveBeenCalledWith('wm1', [2], [1])
    expect(p.value!.personal_tags.map((t) => t.id)).toEqual([2, 5])
    expect(e.open.value).toBe(false)
  })

  it('creates a tag from the quick box and checks it', async () => {
    vi.mocked(createPersonalTagApi).mockResolvedValueOnce(personal(3, '价格敏感'))
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = usePersonalTagEditor(p)
    await e.start()
    e.own.name.value = '周末到店'
    expect(await e.quickCreate()).toBe(false)
    expect(e.own.createError.value).toBe('你已经有个人标签「周末到店」了')
    e.own.name.value = '价格敏感'
    expect(await e.quickCreate()).toBe(true)
    expect(e.selected.value).toEqual([1, 3])
    expect(e.diff.value).toEqual({ add: [3], remove: [] })
  })

  it('shows a refusal and lists the caller’s tags again when one went', async () => {
    vi.mocked(markCustomerPersonalTagsApi).mockRejectedValueOnce(new ApiError(404, 'personal_tag_not_found', 'x'))
    const p = ref<CustomersApi.Profile | null>(profile())
    const e = usePersonalTagEditor(p)
    await e.start()
    e.selected.value = [1, 2]
    expect(await e.save()).toBe(false)
    expect(e.error.value).toBe('个人标签不存在，可能已被删除')
    expect(listPersonalTagsApi).toHaveBeenCalledTimes(2)
    expect(e.open.value).toBe(true)
  })
})
