import type { components } from './generated/schema'
import { query, requestClient } from './request'

export namespace MembersApi {
  export type Member = components['schemas']['Member']
  export type Page = components['schemas']['MemberPage']
  export type Action = 'disable' | 'enable' | 'unlock' | 'reset-password'
}

export function listMembersApi(page: number, pageSize: number, q = '') {
  return requestClient.get<MembersApi.Page>(`/api/v1/members${query({ page, page_size: pageSize, q })}`)
}

export function addMemberApi(phone: string, name: string) {
  return requestClient.post<MembersApi.Member>('/api/v1/members', { phone, name })
}

export function memberActionApi(id: number, action: MembersApi.Action) {
  return requestClient.post<MembersApi.Member>(`/api/v1/members/${id}/${action}`)
}

export function removeMemberApi(id: number) {
  return requestClient.delete<Record<string, never>>(`/api/v1/members/${id}`)
}
