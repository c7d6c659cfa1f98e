// The chat toolbar (聊天工具栏): the sidebar page's calls (its own session, cookie `koi_sidebar`, and CSRF token) and
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
}

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
