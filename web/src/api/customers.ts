import type { components, operations } from './generated/schema'
import { query, requestClient } from './request'

export namespace CustomersApi {
  export type Customer = components['schemas']['Customer']
  export type Follow = components['schemas']['CustomerFollow']
  export type TagRef = components['schemas']['TagRef']
  export type Scope = components['schemas']['CustomerScope']
  export type Page = components['schemas']['CustomerPage']
  export type Mode = components['schemas']['CustomerListMode']
  export type StatusFilter = components['schemas']['CustomerStatusFilter']
  export type Sort = components['schemas']['CustomerSort']
  export type Profile = components['schemas']['CustomerProfile']
  export type Group = components['schemas']['CustomerGroup']
  export type Note = components['schemas']['CustomerNote']
  export type TimelineItem = components['schemas']['CustomerTimelineItem']
  export type Department = components['schemas']['ScrmDepartment']
  export type TagGroup = components['schemas']['TagGroup']
  export type MyScope = components['schemas']['ScrmScope']
  export type DataScope = components['schemas']['DataScope']
  export type Binding = components['schemas']['EmployeeBinding']
  /** GET /api/v1/scrm/customers's query (lists are comma-separated) */
  export type ListQuery = NonNullable<operations['listCustomers']['parameters']['query']>
}

/** One page of customers (or of relationships, with mode=relationship), as far as the caller may see them. */
export function listCustomersApi(params: CustomersApi.ListQuery) {
  return requestClient.get<CustomersApi.Page>(`/api/v1/scrm/customers${query(params)}`)
}

export function getCustomerApi(externalUserid: string) {
  return requestClient.get<CustomersApi.Profile>(`/api/v1/scrm/customers/${encodeURIComponent(externalUserid)}`)
}

export function addCustomerNoteApi(externalUserid: string, body: string) {
  return requestClient.post<CustomersApi.Note>(`/api/v1/scrm/customers/${encodeURIComponent(externalUserid)}/notes`, { body })
}

export function listScrmDepartmentsApi() {
  return requestClient.get<{ items: CustomersApi.Department[] }>('/api/v1/scrm/departments')
}

export function listScrmTagsApi() {
  return requestClient.get<{ items: CustomersApi.TagGroup[] }>('/api/v1/scrm/tags')
}

export function getScrmScopeApi() {
  return requestClient.get<CustomersApi.MyScope>('/api/v1/scrm/scope')
}

/** The bindings of these accounts (admin only); unbound accounts are left out. */
export function listBindingsApi(accountIds: number[]) {
  return requestClient.get<{ items: CustomersApi.Binding[] }>(`/api/v1/scrm/bindings${query({ account_ids: accountIds.join(',') })}`)
}

export function bindEmployeeApi(accountId: number, userid: string, dataScope: CustomersApi.DataScope) {
  return requestClient.put<CustomersApi.Binding>(`/api/v1/scrm/bindings/${accountId}`, { userid, data_scope: dataScope })
}

export function unbindEmployeeApi(accountId: number) {
  return requestClient.delete<{ account_id: number }>(`/api/v1/scrm/bindings/${accountId}`)
}
