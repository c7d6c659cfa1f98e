import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/request'
import { listGroupChatsApi, type SegmentsApi } from '@/api/segments'
import { i18n } from '@/locales'
import { listGroupsApi } from '@/api/groups'
import { nameUnknownGroups, useGroupChatOptions } from './use-group-chat-options'

vi.mock('@/api/segments', () => ({ listGroupChatsApi: vi.fn() }))
vi.mock('@/api/groups', () => ({ listGroupsApi: vi.fn() }))

const chat = (id: string, name: string): SegmentsApi.GroupChat => ({
  chat_id: id, name, owner: 'zhangsan', owner_name: '张三', member_count: 30, status: 0, create_time: 1_700_000_000_000, tags: [],
})
const page = (items: SegmentsApi.GroupChat[]): SegmentsApi.GroupChatPage => ({ items, total: items.length, page: 1, page_size: 20 })

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listGroupChatsApi).mockReset().mockResolvedValue(page([chat('wr1', '锦鲤会员群')]))
})

describe('useGroupChatOptions', () => {
  it('searches group chats by name on the server', async () => {
    const o = useGroupChatOptions(20)
    await o.search(' 会员 ')
    expect(listGroupChatsApi).toHaveBeenCalledWith(1, 20, '会员')
    expect(o.options.value).toEqual([{ chat_id: 'wr1', name: '锦鲤会员群', owner: '张三', members: 30 }])
  })

  it('keeps only the answer to the latest search', async () => {
    let releaseSlow!: (v: SegmentsApi.GroupChatPage) => void
    vi.mocked(listGroupChatsApi)
      .mockImplementationOnce(() => new Promise((r) => (releaseSlow = r)))
      .mockResolvedValueOnce(page([chat('wr2', '上海店群')]))
    const o = useGroupChatOptions()
    const slow = o.search('锦')
    await o.search('上海')
    releaseSlow(page([chat('wr1', '锦鲤会员群')]))
    await slow
    expect(o.options.value.map((x) => x.chat_id)).toEqual(['wr2'])
    expect(o.loading.value).toBe(false)
  })

  it('keeps the names of picked groups a later search no longer lists; an unknown one shows its id', async () => {
    const o = useGroupChatOptions()
    await o.search('锦')
    vi.mocked(listGroupChatsApi).mockResolvedValueOnce(page([]))
    await o.search('没有')
    expect(o.withSelected(['wr1', 'wr9']).map((x) => [x.chat_id, x.name])).toEqual([['wr1', '锦鲤会员群'], ['wr9', 'wr9']])
  })

  it('says why it found nothing', async () => {
    vi.mocked(listGroupChatsApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    const o = useGroupChatOptions()
    await o.search('')
    expect(o.options.value).toEqual([])
    expect(o.error.value).toBe('无法连接服务器，请检查网络后重试')
  })

  it('names picked groups no search has shown by asking for just those ids, a hundred at a time', async () => {
    const o = useGroupChatOptions()
    await o.search('锦')
    const ids = ['wr1', ...Array.from({ length: 101 }, (_, i) => `wx${i}`)]
    vi.mocked(listGroupsApi).mockReset()
      .mockResolvedValueOnce(page([chat('wx0', '徐汇店群')]))
      .mockResolvedValueOnce(page([]))
    await nameUnknownGroups(o, ids)
    expect(listGroupsApi).toHaveBeenCalledTimes(2)
    const first = vi.mocked(listGroupsApi).mock.calls[0][0]
    expect(first.chat_ids?.split(',')).toHaveLength(100)
    expect(first.chat_ids?.startsWith('wx0,')).toBe(true)  // wr1 is known from the search
    expect(vi.mocked(listGroupsApi).mock.calls[1][0].chat_ids).toBe('wx100')
    expect(o.withSelected(['wx0', 'wx5']).map((x) => x.name)).toEqual(['锦鲤会员群', '徐汇店群', 'wx5'])
    vi.mocked(listGroupsApi).mockReset()
    await nameUnknownGroups(o, ['wr1', 'wx0'])
    expect(listGroupsApi).not.toHaveBeenCalled()
  })
})
