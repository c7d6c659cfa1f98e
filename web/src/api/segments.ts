import type { components } from './generated/schema'
import type { CustomersApi } from './customers'
import { listGroupsApi } from './groups'
import { query, requestClient } from './request'

export namespace SegmentsApi {
  export type Rule = components['schemas']['SegmentRule']
  export type Group = components['schemas']['SegmentGroup']
  export type TagMatch = components['schemas']['SegmentTagMatch']
  export type TagCondition = components['schemas']['SegmentTagCondition']
  export type PersonalTagCondition = components['schemas']['SegmentPersonalTagCondition']
  export type TextCondition = components['schemas']['SegmentTextCondition']
  export type NumberCondition = components['schemas']['SegmentNumberCondition']
  export type AddedCondition = components['schemas']['SegmentAddedCondition']
  export type StatusCondition = components['schemas']['SegmentStatusCondition']
  export type Segment = components['schemas']['Segment']
  export type SizePoint = components['schemas']['SegmentSizePoint']
  export type Page = components['schemas']['SegmentPage']
  export type CreateRequest = components['schemas']['CreateSegmentRequest']
  export type UpdateRequest = components['schemas']['UpdateSegmentRequest']
  /** a rule, or a saved segment's rule */
  export type Target = components['schemas']['SegmentTarget']
  export type BulkTagRequest = components['schemas']['SegmentBulkTagRequest']
  export type Count = components['schemas']['SegmentCount']
  export type SampleCustomer = components['schemas']['SegmentSampleCustomer']
  export type Senders = components['schemas']['SegmentSenders']
  export type Sender = components['schemas']['SegmentSender']
  export type GroupChat = components['schemas']['GroupChat']
  export type GroupChatPage = components['schemas']['GroupChatPage']
}

/** How many customers (that the caller may see) a rule matches now, with the first few of them. */
export function countSegmentApi(target: SegmentsApi.Target) {
  return requestClient.post<SegmentsApi.Count>('/api/v1/scrm/segments/count', target)
}

/** The team's saved segments, most recently changed first, each with its size now. */
export function listSegmentsApi(page: number, pageSize: number) {
  return requestClient.get<SegmentsApi.Page>(`/api/v1/scrm/segments${query({ page, page_size: pageSize })}`)
}

/** One segment with its daily sizes (the last 90 days). */
export function getSegmentApi(id: number) {
  return requestClient.get<SegmentsApi.Segment>(`/api/v1/scrm/segments/${id}`)
}

export function createSegmentApi(body: SegmentsApi.CreateRequest) {
  return requestClient.post<SegmentsApi.Segment>('/api/v1/scrm/segments', body)
}

/** Renames a segment and/or changes its rule (its creator or an admin); fields left out stay. */
export function updateSegmentApi(id: number, body: SegmentsApi.UpdateRequest) {
  return requestClient.put<SegmentsApi.Segment>(`/api/v1/scrm/segments/${id}`, body)
}

export function deleteSegmentApi(id: number) {
  return requestClient.delete<{ deleted: boolean }>(`/api/v1/scrm/segments/${id}`)
}

/** Who would send to the customers in a mass message: one employee per customer, the most recent relationship's. */
export function segmentSendersApi(target: SegmentsApi.Target) {
  return requestClient.post<SegmentsApi.Senders>('/api/v1/scrm/segments/senders', target)
}

/**
 * Starts a bulk tagging of the customers a rule (or a saved segment) matches: the same job as the customer list's,
 * followed with getBulkTagApi and cancelled with cancelBulkTagApi.
 */
export function startSegmentBulkTagApi(body: SegmentsApi.BulkTagRequest) {
  return requestClient.post<CustomersApi.BulkTagState>('/api/v1/scrm/segments/bulk-tags', body)
}

/** The corp's customer group chats whose name contains `q`, by name, one page (the pickers'). */
export function listGroupChatsApi(page: number, pageSize: number, q = '') {
  return listGroupsApi({ page, page_size: pageSize, q })
}
