import { onScopeDispose, ref, watch } from 'vue'
import { ElMessage } from 'element-plus'
import { addMemberApi, listMembersApi, memberActionApi, removeMemberApi, type MembersApi } from '@/api/members'
import { errorText } from '@/api/request'
import { usePagedList } from './use-paged-list'
import { cleanPhone } from './validation'

/** Account management: the server-paged member list, its search (debounced), and the admin's actions. */
export function useMembers(options: { pageSize?: number; debounceMs?: number } = {}) {
  const q = ref('')
  const list = usePagedList<MembersApi.Member>((page, size) => listMembersApi(page, size, q.value.trim()), options.pageSize ?? 20)
  const adding = ref(false)
  const addError = ref('')
  /** ids of the members whose action is running (several rows may be busy at once) */
  const busyIds = ref(new Set<number>())
  const isBusy = (id: number) => busyIds.value.has(id)

  /** Runs a row action with the row marked busy; other rows' marks are left alone. */
  async function withBusy<R>(id: number, run: () => Promise<R>): Promise<R> {
    busyIds.value.add(id)
    try {
      return await run()
    } finally {
      busyIds.value.delete(id)
    }
  }

  // Typing in the search box asks the server once the user pauses, from the first page.
  let timer: ReturnType<typeof setTimeout> | undefined
  watch(q, () => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => void list.load(1), options.debounceMs ?? 300)
  })
  onScopeDispose(() => timer && clearTimeout(timer))

  /** The new member (invited; the server sent the SMS invitation), or null with `addError` set. */
  async function add(phone: string, name: string): Promise<MembersApi.Member | null> {
    adding.value = true
    addError.value = ''
    try {
      const member = await addMemberApi(cleanPhone(phone), name.trim())
      await list.load(1)
      return member
    } catch (e) {
      addError.value = errorText(e)
      return null
    } finally {
      adding.value = false
    }
  }

  function replace(member: MembersApi.Member) {
    list.items.value = list.items.value.map((m) => (m.id === member.id ? member : m))
  }

  /** disable / enable / unlock / reset-password; the row shows the member as the server returns it */
  function act(member: MembersApi.Member, action: MembersApi.Action): Promise<boolean> {
    return withBusy(member.id, async () => {
      try {
        replace(await memberActionApi(member.id, action))
        return true
      } catch (e) {
        ElMessage.error(errorText(e))
        return false
      }
    })
  }

  function remove(member: MembersApi.Member): Promise<boolean> {
    return withBusy(member.id, async () => {
      try {
        await removeMemberApi(member.id)
        // The last row of a page went: show the page before it.
        const page = list.items.value.length === 1 && list.page.value > 1 ? list.page.value - 1 : list.page.value
        await list.load(page)
        return true
      } catch (e) {
        ElMessage.error(errorText(e))
        return false
      }
    })
  }

  return { ...list, q, adding, addError, busyIds, isBusy, add, act, remove }
}

export type MemberRowAction = MembersApi.Action | 'remove'

/**
 * What a row offers: nothing on the admin's own row or another admin's (the server refuses those too); enable or
 * disable by status; unlock only while locked; reset password unless disabled; remove.
 */
export function memberActions(member: MembersApi.Member, selfId: number | null, now = Date.now()): MemberRowAction[] {
  if (member.id === selfId || member.role === 'admin') return []
  const actions: MemberRowAction[] = [member.status === 'disabled' ? 'enable' : 'disable']
  if (isLocked(member, now)) actions.push('unlock')
  if (member.status !== 'disabled') actions.push('reset-password')
  actions.push('remove')
  return actions
}

export function isLocked(member: Pick<MembersApi.Member, 'locked_until'>, now = Date.now()): boolean {
  return member.locked_until !== null && member.locked_until > now
}
