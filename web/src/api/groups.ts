import type { components, operations } from './generated/schema'
import { query, requestClient } from './request'

export namespace GroupsApi {
  export type Group = components['schemas']['GroupChat']
  export type Page = components['schemas']['GroupChatPage']
  export type TagRef = components['schemas']['GroupTagRef']
  export type Tag = components['schemas']['GroupTag']
  export type MarkTagsRequest = components['schemas']['MarkGroupTagsRequest']
  /** GET /api/v1/scrm/groups's query */
  export type ListQuery = NonNullable<operations['listScrmGroupChats']['parameters']['query']>
}

/** One page of the corp's customer group chats (by name), with their group tags; filtered by name, owner and tag. */
export function listGroupsApi(params: GroupsApi.ListQuery) {
  return requestClient.get<GroupsApi.Page>(`/api/v1/scrm/groups${query(params)}`)
}

/** Adds and removes group tags on up to 1,000 groups; how many groups changed. */
export function markGroupTagsApi(body: GroupsApi.MarkTagsRequest) {
  return requestClient.post<{ updated: number }>('/api/v1/scrm/groups/tags', body)
}

/** The team's group tags (Koi's own), by name, with how many groups carry each. */
export function listGroupTagsApi() {
  return requestClient.get<{ items: GroupsApi.Tag[] }>('/api/v1/scrm/group-tags')
}

/** Creates a group tag (admin only). */
export function createGroupTagApi(name: string) {
  return requestClient.post<GroupsApi.Tag>('/api/v1/scrm/group-tags', { name })
}

export function renameGroupTagApi(id: number, name: string) {
  return requestClient.put<GroupsApi.Tag>(`/api/v1/scrm/group-tags/${id}`, { name })
}

/** Deletes a group tag; it is removed from every group. */
export function deleteGroupTagApi(id: number) {
  return requestClient.delete<{ id: number }>(`/api/v1/scrm/group-tags/${id}`)
}
