import type { components, operations } from './generated/schema'
import { apiUrl, query, requestClient } from './request'

export namespace ExportsApi {
  export type CustomerExport = components['schemas']['CustomerExport']
  export type Page = components['schemas']['CustomerExportPage']
  export type Request = components['schemas']['CustomerExportRequest']
  export type Format = Request['format']
  export type Lang = Request['lang']
  export type State = CustomerExport['state']
  /** POST /api/v1/scrm/customer-exports's query: the customer list's filters (without paging) */
  export type Query = NonNullable<operations['startCustomerExport']['parameters']['query']>
}

/**
 * Starts an export (导出) of the customers (or, with mode=relationship, the relationships) the caller may see that
 * match the list's `filter`, as a CSV or Excel file headed in `lang`: a background job. The export as queued.
 */
export function startCustomerExportApi(filter: ExportsApi.Query, body: ExportsApi.Request) {
  return requestClient.post<ExportsApi.CustomerExport>(`/api/v1/scrm/customer-exports${query(filter)}`, body)
}

/** One page of the caller's own exports, newest first. */
export function listCustomerExportsApi(page = 1, pageSize = 20) {
  return requestClient.get<ExportsApi.Page>(`/api/v1/scrm/customer-exports${query({ page, page_size: pageSize })}`)
}

/** One of the caller's exports, with its progress. */
export function getCustomerExportApi(id: number) {
  return requestClient.get<ExportsApi.CustomerExport>(`/api/v1/scrm/customer-exports/${id}`)
}

/** Deletes one of the caller's exports and its file, cancelling it when it is still queued or running (204). */
export function deleteCustomerExportApi(id: number) {
  return requestClient.delete<void>(`/api/v1/scrm/customer-exports/${id}`)
}

/** The address of a succeeded export's file, for a download link (the browser sends the session cookie). */
export function customerExportFileUrl(id: number): string {
  return apiUrl(`/api/v1/scrm/customer-exports/${id}/file`)
}
