import type { components, operations } from './generated/schema'
import { ApiError, query, requestClient, upload, type UploadOptions } from './request'

export namespace FansApi {
  export type AccountType = components['schemas']['FanAccountType']
  export type Fan = components['schemas']['Fan']
  export type Page = components['schemas']['FanPage']
  export type Account = components['schemas']['FanAccount']
  export type ImportResult = components['schemas']['FanImportResult']
  export type RowError = components['schemas']['FanRowError']
  export type RowReason = RowError['reason']
  export type LinkedAccount = components['schemas']['LinkedAccount']
  /** GET /api/v1/scrm/fans's query */
  export type ListQuery = NonNullable<operations['listFans']['parameters']['query']>
  export type Matched = NonNullable<ListQuery['matched']>
}

/** The corp's verified entity name (主体名称) fans are matched within ('' until an admin set it). */
export function getFanSubjectApi() {
  return requestClient.get<{ subject: string }>('/api/v1/scrm/fans/subject')
}

export function setFanSubjectApi(subject: string) {
  return requestClient.put<{ subject: string }>('/api/v1/scrm/fans/subject', { subject })
}

/**
 * Imports the fans of an official account or mini program from a CSV file (粉丝匹配): the file's bytes are the body
 * (text/csv, not multipart), the account in the address; all or nothing. `options` follow the progress and cancel it.
 */
export function importFansApi(file: Blob, accountName: string, accountType: FansApi.AccountType, options: UploadOptions = {}) {
  return upload<FansApi.ImportResult>(
    `/api/v1/scrm/fans/import${query({ account_name: accountName, account_type: accountType })}`, file, 'text/csv', options,
  )
}

/** One page of the team's fans, each with the customer it matches or null; `fans`/`matched` are the team's totals. */
export function listFansApi(params: FansApi.ListQuery) {
  return requestClient.get<FansApi.Page>(`/api/v1/scrm/fans${query(params)}`)
}

/** The accounts the team imported fans of, with their counts. */
export function listFanAccountsApi() {
  return requestClient.get<{ items: FansApi.Account[] }>('/api/v1/scrm/fan-accounts')
}

/** Forgets every fan of the account; how many went. */
export function deleteFanAccountApi(accountName: string) {
  return requestClient.delete<{ deleted: number }>(`/api/v1/scrm/fan-accounts${query({ account_name: accountName })}`)
}

/** The bad rows of a `fan_rows_invalid` error (its `details.rows`), or [] for any other error. */
export function fanRowErrors(error: unknown): FansApi.RowError[] {
  if (!(error instanceof ApiError) || error.reason !== 'fan_rows_invalid') return []
  const rows = error.details?.rows
  if (!Array.isArray(rows)) return []
  return rows.filter((r): r is FansApi.RowError =>
    !!r && typeof r === 'object' && typeof (r as FansApi.RowError).row === 'number' && typeof (r as FansApi.RowError).reason === 'string')
    .map((r) => ({ row: r.row, reason: r.reason, value: typeof r.value === 'string' ? r.value : '' }))
}
