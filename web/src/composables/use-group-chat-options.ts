import { listGroupsApi } from '@/api/groups'
import { listGroupChatsApi, type SegmentsApi } from '@/api/segments'
import { useRemoteOptions } from './use-remote-options'

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
  return useRemoteOptions({
    fetch: (q) => listGroupChatsApi(1, pageSize, q),
    toOption: groupChatOption,
    idOf: (o) => o.chat_id,
    missing: (chat_id, name): GroupChatOption => ({ chat_id, name, owner: '', members: 0 }),
  })
}

/** the most ids one request names (the server's limit) */
export const GROUPS_NAMED_MAX = 100

/**
 * Learns the names of the picked groups `picker` does not know yet, by asking for just those ids (at most
 * GROUPS_NAMED_MAX at a time); a failure leaves them shown by id.
 */
export async function nameUnknownGroups(picker: ReturnType<typeof useGroupChatOptions>, ids: readonly string[]) {
  const unknown = ids.filter((id) => id && !picker.isKnown(id))
  for (let i = 0; i < unknown.length; i += GROUPS_NAMED_MAX) {
    const chunk = unknown.slice(i, i + GROUPS_NAMED_MAX)
    try {
      const page = await listGroupsApi({ chat_ids: chunk.join(','), page: 1, page_size: GROUPS_NAMED_MAX })
      for (const g of page.items) picker.remember(g.chat_id, g.name || g.chat_id)
    } catch {
      return
    }
  }
}
