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
  export type PersonalTag = components['schemas']['PersonalTag']
  export type CreateTagsRequest = components['schemas']['CreateTagsRequest']
  /** GET /api/v1/scrm/customers's query (lists are comma-separated) */
  export type ListQuery = NonNullable<operations['listCustomers']['parameters']['query']>
  export type BulkTagRequest = components['schemas']['BulkTagRequest']
  export type BulkTagState = components['schemas']['BulkTagState']
  export type BulkTagFailure = components['schemas']['BulkTagFailure']
  /** POST /api/v1/scrm/customers/bulk-tags's query: the list's filters (without paging) */
  export type BulkTagQuery = NonNullable<operations['startBulkTag']['parameters']['query']>
  export type Stage = components['schemas']['Stage']
  export type StageBoard = components['schemas']['StageBoard']
  export type Capacity = components['schemas']['Capacity']
  export type CapacityLevel = components['schemas']['CapacityLevel']
  export type BusyEmployee = components['schemas']['BusyEmployee']
  export type EditRelationshipRequest = components['schemas']['EditRelationshipRequest']
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

/** Creates enterprise tags in the group `group_id`, or in the group named `group_name` (admin only). */
export function createScrmTagsApi(body: CustomersApi.CreateTagsRequest) {
  return requestClient.post<CustomersApi.TagGroup>('/api/v1/scrm/tags', body)
}

export function renameScrmTagApi(tagId: string, name: string) {
  return requestClient.put<{ id: string }>(`/api/v1/scrm/tags/${encodeURIComponent(tagId)}`, { name })
}

export function renameScrmTagGroupApi(groupId: string, name: string) {
  return requestClient.put<{ id: string }>(`/api/v1/scrm/tag-groups/${encodeURIComponent(groupId)}`, { name })
}

export function deleteScrmTagApi(tagId: string) {
  return requestClient.delete<{ id: string }>(`/api/v1/scrm/tags/${encodeURIComponent(tagId)}`)
}

/** Deletes the group and all its tags (they are taken off every customer). */
export function deleteScrmTagGroupApi(groupId: string) {
  return requestClient.delete<{ id: string }>(`/api/v1/scrm/tag-groups/${encodeURIComponent(groupId)}`)
}

/** Adds and removes enterprise tags on the relationship of employee `userid` with the customer; its tags afterwards. */
export function markCustomerTagsApi(externalUserid: string, userid: string, add: string[], remove: string[]) {
  return requestClient.post<{ tags: CustomersApi.TagRef[] }>(
    `/api/v1/scrm/customers/${encodeURIComponent(externalUserid)}/tags`,
    { userid, add, remove },
  )
}

/**
 * Edits the remark, description, remark company (WeChat customers only) and remark mobiles of the relationship of
 * employee `userid` with the customer (fields left out stay unchanged); the relationship afterwards.
 */
export function editRelationshipApi(externalUserid: string, userid: string, body: CustomersApi.EditRelationshipRequest) {
  return requestClient.put<CustomersApi.Follow>(
    `/api/v1/scrm/customers/${encodeURIComponent(externalUserid)}/relationships/${encodeURIComponent(userid)}`,
    body,
  )
}

/**
 * Starts a bulk tagging (a background job): the picked customers (`external_userids`), or, without them, every active
 * relationship matching the list's `filter`. The job as queued, with its total of target relationships.
 */
export function startBulkTagApi(filter: CustomersApi.BulkTagQuery, body: CustomersApi.BulkTagRequest) {
  return requestClient.post<CustomersApi.BulkTagState>(`/api/v1/scrm/customers/bulk-tags${query(filter)}`, body)
}

/** A bulk tagging's progress and one page of its failures. */
export function getBulkTagApi(jobId: number, page = 1, pageSize = 20) {
  return requestClient.get<CustomersApi.BulkTagState>(`/api/v1/scrm/bulk-tags/${jobId}${query({ page, page_size: pageSize })}`)
}

/**
 * Cancels a bulk tagging that is queued or running (the owner or an admin): what is tagged stays tagged, the rest is
 * not processed. The job afterwards (a running one stays `running` until it stops) with the first page of failures.
 */
export function cancelBulkTagApi(jobId: number) {
  return requestClient.post<CustomersApi.BulkTagState>(`/api/v1/scrm/bulk-tags/${jobId}/cancel`)
}

/** The caller's own personal tags, or (`team`, admins) every member's, with how many customers carry each. */
export function listPersonalTagsApi(scope: 'own' | 'team' = 'own') {
  return requestClient.get<{ items: CustomersApi.PersonalTag[] }>(
    scope === 'team' ? '/api/v1/scrm/personal-tags?scope=team' : '/api/v1/scrm/personal-tags',
  )
}

export function createPersonalTagApi(name: string) {
  return requestClient.post<CustomersApi.PersonalTag>('/api/v1/scrm/personal-tags', { name })
}

export function deletePersonalTagApi(id: number) {
  return requestClient.delete<{ id: number }>(`/api/v1/scrm/personal-tags/${id}`)
}

/** Adds and removes the caller's personal tags on a customer; the customer's personal tags as the profile shows them. */
export function markCustomerPersonalTagsApi(externalUserid: string, add: number[], remove: number[]) {
  return requestClient.post<{ personal_tags: CustomersApi.PersonalTag[] }>(
    `/api/v1/scrm/customers/${encodeURIComponent(externalUserid)}/personal-tags`,
    { add, remove },
  )
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

/** The team's customer stages in pipeline order, with the visible customers in each and in none. */
export function listStagesApi() {
  return requestClient.get<CustomersApi.StageBoard>('/api/v1/scrm/stages')
}

/** Adds a stage at the end of the pipeline (admin only). */
export function createStageApi(name: string) {
  return requestClient.post<CustomersApi.Stage>('/api/v1/scrm/stages', { name })
}

export function renameStageApi(id: number, name: string) {
  return requestClient.put<{ id: number }>(`/api/v1/scrm/stages/${id}`, { name })
}

/** Deletes a stage; its customers are left in no stage. */
export function deleteStageApi(id: number) {
  return requestClient.delete<{ id: number }>(`/api/v1/scrm/stages/${id}`)
}

/** The new pipeline order: every stage's id exactly once. */
export function reorderStagesApi(ids: number[]) {
  return requestClient.put<{ ids: number[] }>('/api/v1/scrm/stage-order', { ids })
}

/** Puts the customer in stage `stageId` (0: in none); the stage afterwards (null for none). */
export function setCustomerStageApi(externalUserid: string, stageId: number) {
  return requestClient.put<{ stage: CustomersApi.Stage | null }>(
    `/api/v1/scrm/customers/${encodeURIComponent(externalUserid)}/stage`,
    { stage_id: stageId },
  )
}

/** The corp's customers against its limit, and the employees close to theirs. */
export function getCapacityApi() {
  return requestClient.get<CustomersApi.Capacity>('/api/v1/scrm/capacity')
}

/** States whether the corp is verified (admin only; WeCom's API does not say); the capacity afterwards. */
export function setCorpVerifiedApi(corpVerified: boolean) {
  return requestClient.put<CustomersApi.Capacity>('/api/v1/scrm/capacity', { corp_verified: corpVerified })
}
