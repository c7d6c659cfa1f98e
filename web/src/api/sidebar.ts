// The chat toolbar (聊天工具栏): the sidebar pages' calls (its own session, cookie `koi_sidebar`, and CSRF token) and
// the setup page's (step 2: the URLs to configure and the checks).
import type { components } from './generated/schema'
import { CSRF_HEADER, query, request, requestClient } from './request'

export namespace SidebarApi {
  export type Session = components['schemas']['SidebarSession']
  export type AgentConfig = components['schemas']['SidebarAgentConfig']
  export type Customer = components['schemas']['SidebarCustomer']
  export type TagGroup = components['schemas']['TagGroup']
  export type TagRef = components['schemas']['TagRef']
  export type Toolbar = components['schemas']['WecomToolbar']
  export type Check = components['schemas']['WecomToolbarCheck']

  /** 群画像 (GET /sidebar/groups/{chat_id}): the group as a member in it sees it, with one page of its members */
  export type Group = components['schemas']['SidebarGroup']
  export type GroupMember = components['schemas']['SidebarGroupMember']
}

/** The members on one page of GET /sidebar/groups/{chat_id} unless told otherwise (the server allows up to 100). */
export const SIDEBAR_GROUP_PAGE_SIZE = 20

/** Where the page goes to sign in through WeCom (a full navigation; WeCom comes back to the page). */
export function sidebarSignInUrl(corp: string, page: string): string {
  return `/api/v1/sidebar/oauth/start${query({ corp, page })}`
}

export function getSidebarSessionApi() {
  return requestClient.get<SidebarApi.Session>('/api/v1/sidebar/session')
}

export function getSidebarAgentConfigApi(url: string) {
  return requestClient.get<SidebarApi.AgentConfig>(`/api/v1/sidebar/agent-config${query({ url })}`)
}

export function getSidebarCustomerApi(externalUserid: string) {
  return requestClient.get<SidebarApi.Customer>(`/api/v1/sidebar/customers/${encodeURIComponent(externalUserid)}`)
}

/** The group chat the member has open (the viewing member must be in it): its facts and one page of its members. */
export function getSidebarGroupApi(chatId: string, page = 1, pageSize = SIDEBAR_GROUP_PAGE_SIZE) {
  return requestClient.get<SidebarApi.Group>(
    `/api/v1/sidebar/groups/${encodeURIComponent(chatId)}${query({ page, page_size: pageSize })}`)
}

export function getSidebarTagGroupsApi() {
  return requestClient.get<{ items: SidebarApi.TagGroup[] }>('/api/v1/sidebar/tag-groups')
}

/** Tags the member's own relationship with the customer; answers its tags afterwards. */
export function markSidebarTagsApi(externalUserid: string, add: string[], remove: string[], csrf: string) {
  return request<{ tags: SidebarApi.TagRef[] }>(
    'POST', `/api/v1/sidebar/customers/${encodeURIComponent(externalUserid)}/tags`, { add, remove }, { [CSRF_HEADER]: csrf })
}

export function getWecomToolbarApi() {
  return requestClient.get<SidebarApi.Toolbar>('/api/v1/scrm/wecom/toolbar')
}

export function checkWecomToolbarApi() {
  return requestClient.post<{ checks: SidebarApi.Check[] }>('/api/v1/scrm/wecom/toolbar/check', {})
}
