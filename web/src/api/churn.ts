import type { components, operations } from './generated/schema'
import { query, requestClient } from './request'

export namespace ChurnApi {
  export type Item = components['schemas']['ChurnItem']
  export type Page = components['schemas']['ChurnPage']
  export type Unread = components['schemas']['ChurnUnread']
  export type DeletedBy = components['schemas']['ChurnDeletedBy']
  export type Seen = components['schemas']['ChurnSeenEnvelope']['data']
  /** GET /api/v1/scrm/churn's query (userid is comma-separated) */
  export type ListQuery = NonNullable<operations['listChurn']['parameters']['query']>
}

/**
 * One page of churn (流失提醒): the lost customer–employee relationships the caller may see, newest loss first, with
 * the losses of the last 7 and 30 days in the caller's scope (whatever the filters).
 */
export function listChurnApi(params: ChurnApi.ListQuery) {
  return requestClient.get<ChurnApi.Page>(`/api/v1/scrm/churn${query(params)}`)
}

/** The churn the caller has not seen yet (the top bar's bell): its count and the newest ≤5. */
export function getChurnUnreadApi() {
  return requestClient.get<ChurnApi.Unread>('/api/v1/scrm/churn/unread')
}

/** Marks the caller's churn seen up to now; the new seen_at. */
export function markChurnSeenApi() {
  return requestClient.post<ChurnApi.Seen>('/api/v1/scrm/churn/seen')
}
