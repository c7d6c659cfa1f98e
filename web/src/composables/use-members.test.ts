import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '@/api/request'
import { addMemberApi, listMembersApi, memberActionApi, removeMemberApi, type MembersApi } from '@/api/members'
import { isLocked, memberActions, useMembers } from './use-members'

vi.mock('@/api/members', () => ({ listMembersApi: vi.fn(), addMemberApi: vi.fn(), memberActionApi: vi.fn(), removeMemberApi: vi.fn() }))
const toast = vi.hoisted(() => vi.fn())
vi.mock('element-plus', () => ({ ElMessage: { error: toast } }))

function member(over: Partial<MembersApi.Member> = {}): MembersApi.Member {
  return {
    id: 2, phone: '13900000001', name: '李四', role: 'member', status: 'active', failed_logins: 0, locked_until: null,
    last_login_at: null, last_login_ip: '', created_at: 1, ...over,
  }
}
const page = (items: MembersApi.Member[], total = items.length, p = 1) => ({ items, total, page: p, page_size: 20 })

function setup() {
  let m!: ReturnType<typeof useMembers>
  effectScope().run(() => (m = useMembers({ pageSize: 20, debounceMs: 300 })))
  return m
}

beforeEach(() => {
  vi.useFakeTimers()
  vi.mocked(listMembersApi).mockReset().mockResolvedValue(page([member()]))
  vi.mocked(addMemberApi).mockReset()
  vi.mocked(memberActionApi).mockReset()
  vi.mocked(removeMemberApi).mockReset()
  toast.mockReset()
})
afterEach(() => vi.useRealTimers())

describe('useMembers', () => {
  it('searches on the server once the typing pauses, from page 1', async () => {
    const m = setup()
    await m.load(3)
    vi.mocked(listMembersApi).mockClear()
    m.q.value = '1'
    await vi.advanceTimersByTimeAsync(100)
    m.q.value = '13'
    await vi.advanceTimersByTimeAsync(100)
    m.q.value = ' 139 '
    await vi.advanceTimersByTimeAsync(299)
    expect(listMembersApi).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(listMembersApi).toHaveBeenCalledTimes(1)
    expect(listMembersApi).toHaveBeenCalledWith(1, 20, '139')
  })

  it('keeps only the answer to the latest request', async () => {
    let releaseSlow!: (v: ReturnType<typeof page>) => void
    vi.mocked(listMembersApi)
      .mockImplementationOnce(() => new Promise((r) => (releaseSlow = r)))
      .mockResolvedValueOnce(page([member({ id: 9, name: '新' })], 1))
    const m = setup()
    const slow = m.load(1)
    await m.load(1)
    releaseSlow(page([member({ id: 8, name: '旧' })], 50))
    await slow
    expect(m.items.value.map((x) => x.name)).toEqual(['新'])
    expect(m.total.value).toBe(1)
    expect(m.loading.value).toBe(false)
  })

  it('adds a member and reloads page 1; a refusal is shown in the dialog', async () => {
    vi.mocked(addMemberApi).mockResolvedValueOnce(member({ id: 5, status: 'invited' }))
    const m = setup()
    expect((await m.add('139 0000 0001', ' 李四 '))?.status).toBe('invited')
    expect(addMemberApi).toHaveBeenCalledWith('13900000001', '李四')
    expect(listMembersApi).toHaveBeenLastCalledWith(1, 20, '')
    vi.mocked(addMemberApi).mockRejectedValueOnce(new ApiError(409, 'phone_registered', 'x'))
    expect(await m.add('13900000001', '李四')).toBeNull()
    expect(m.addError.value).toBe('该手机号已注册')
  })

  it('shows the member as the server returns it after an action', async () => {
    const m = setup()
    await m.load(1)
    vi.mocked(memberActionApi).mockResolvedValueOnce(member({ status: 'disabled' }))
    expect(await m.act(m.items.value[0], 'disable')).toBe(true)
    expect(memberActionApi).toHaveBeenCalledWith(2, 'disable')
    expect(m.items.value[0].status).toBe('disabled')
    vi.mocked(memberActionApi).mockRejectedValueOnce(new ApiError(403, 'cannot_modify_admin', 'x'))
    expect(await m.act(m.items.value[0], 'enable')).toBe(false)
    expect(toast).toHaveBeenCalledWith('不能对管理员账号执行此操作')
  })

  it('keeps each row busy until its own action ends, whatever the other rows do', async () => {
    vi.mocked(listMembersApi).mockResolvedValue(page([member({ id: 2 }), member({ id: 3, phone: '13900000003' })], 2))
    const m = setup()
    await m.load(1)
    const answers: Record<number, (v: MembersApi.Member) => void> = {}
    vi.mocked(memberActionApi).mockImplementation((id) => new Promise((r) => (answers[id] = r)))
    const first = m.act(m.items.value[0], 'disable')
    const second = m.act(m.items.value[1], 'disable')
    expect([m.isBusy(2), m.isBusy(3)]).toEqual([true, true])
    answers[2](member({ id: 2, status: 'disabled' }))
    await first
    expect([m.isBusy(2), m.isBusy(3)]).toEqual([false, true])
    answers[3](member({ id: 3, status: 'disabled' }))
    await second
    expect(m.isBusy(3)).toBe(false)
    expect(m.items.value.map((x) => x.status)).toEqual(['disabled', 'disabled'])
  })

  it('after removing the last row of a page shows the page before', async () => {
    vi.mocked(listMembersApi).mockResolvedValueOnce(page([member()], 21, 2))
    const m = setup()
    await m.load(2)
    vi.mocked(removeMemberApi).mockResolvedValueOnce({})
    expect(await m.remove(m.items.value[0])).toBe(true)
    expect(listMembersApi).toHaveBeenLastCalledWith(1, 20, '')
  })
})

describe('memberActions', () => {
  const now = 1_000_000
  it('offers nothing on my own row or an admin row', () => {
    expect(memberActions(member({ id: 7 }), 7, now)).toEqual([])
    expect(memberActions(member({ role: 'admin' }), 7, now)).toEqual([])
  })

  it('depends on status and lockout', () => {
    expect(memberActions(member(), 7, now)).toEqual(['disable', 'reset-password', 'remove'])
    expect(memberActions(member({ status: 'disabled' }), 7, now)).toEqual(['enable', 'remove'])
    expect(memberActions(member({ locked_until: now + 1 }), 7, now)).toEqual(['disable', 'unlock', 'reset-password', 'remove'])
    expect(memberActions(member({ locked_until: now - 1 }), 7, now)).toEqual(['disable', 'reset-password', 'remove'])
    expect(isLocked(member({ locked_until: null }), now)).toBe(false)
  })
})
