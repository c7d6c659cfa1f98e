import { ref } from 'vue'
import { errorText } from '@/api/request'
import { listGroupChatsApi, type SegmentsApi } from '@/api/segments'

export interface GroupChatOption {
  chat_id: string
  name: string
  /** owner and size, to tell groups of the same name apart */
  owner: string
  members: number
}

export const groupChatOption = (g: SegmentsApi.GroupChat): GroupChatOption =>
  ({ chat_id: g.chat_id, name: g.name || g.chat_id, owner: g.owner_name, members: g.member_count })

/**
 * The choices of a customer group chat picker, searched on the server by name as the user types; only the answer to
 * the latest search is kept. The names of every group seen are kept too, so that a picked group keeps its label when
 * a later search no longer lists it (a group known only by its id, e.g. in a saved rule, shows its id).
 */
export function useGroupChatOptions(pageSize = 20) {
  const options = ref<GroupChatOption[]>([])
  const loading = ref(false)
  const error = ref('')
  const names = ref<Record<string, string>>({})
  let latest = 0

  async function search(q = ''): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const page = await listGroupChatsApi(1, pageSize, q.trim())
      if (ticket !== latest) return
      options.value = page.items.map(groupChatOption)
      for (const o of options.value) names.value[o.chat_id] = o.name
      error.value = ''
    } catch (e) {
      if (ticket !== latest) return
      options.value = []
      error.value = errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** The choices followed by the picked groups the latest search did not return. */
  function withSelected(selected: readonly string[]): GroupChatOption[] {
    const listed = new Set(options.value.map((o) => o.chat_id))
    const missing = selected
      .filter((id) => id && !listed.has(id))
      .map((id) => ({ chat_id: id, name: names.value[id] ?? id, owner: '', members: 0 }))
    return [...options.value, ...missing]
  }

  return { options, loading, error, search, withSelected }
}
