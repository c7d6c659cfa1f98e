import type { components } from './generated/schema'
import { query, requestClient } from './request'

export namespace WecomApi {
  export type State = components['schemas']['WecomLinkState']
  export type Corp = components['schemas']['WecomCorp']
  export type Sync = components['schemas']['WecomSync']
  export type SyncState = components['schemas']['WecomSyncState']
  export type SyncPhase = components['schemas']['WecomSyncPhase']
  export type Counts = components['schemas']['WecomCounts']
  export type Callbacks = components['schemas']['WecomCallbacks']
  export type LinkRequest = components['schemas']['WecomLinkRequest']
  export type Install = components['schemas']['WecomInstall']
  export type InstallLink = components['schemas']['WecomInstallLink']
  export type Employee = components['schemas']['WecomEmployee']
  export type EmployeePage = components['schemas']['WecomEmployeePage']
}

export function getWecomStateApi() {
  return requestClient.get<WecomApi.State>('/api/v1/scrm/wecom')
}

/** Links the corp (self-built app); the server queues the first full sync at once. */
export function linkWecomApi(body: WecomApi.LinkRequest) {
  return requestClient.post<WecomApi.State>('/api/v1/scrm/wecom/link', body)
}

/** Starts a full sync, or returns the one already queued or running. */
export function startWecomSyncApi() {
  return requestClient.post<WecomApi.Sync>('/api/v1/scrm/wecom/sync')
}

/**
 * Starts the third-party install (前往授权): the WeCom authorisation page to open (on WeCom's origin), whose one-time
 * state expires at `expires_at`. WeCom sends the admin back to /scrm/setup with `installed=1` or `install_error`.
 */
export function startWecomInstallApi() {
  return requestClient.post<WecomApi.InstallLink>('/api/v1/scrm/wecom/install', {})
}

export function listWecomEmployeesApi(page: number, pageSize: number, q = '') {
  return requestClient.get<WecomApi.EmployeePage>(`/api/v1/scrm/wecom/employees${query({ page, page_size: pageSize, q })}`)
}
