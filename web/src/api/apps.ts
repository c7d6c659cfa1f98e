import type { components } from './generated/schema'
import { requestClient } from './request'

export namespace AppsApi {
  export type Key = components['schemas']['AppKey']
  export type Item = components['schemas']['AppItem']
  export type ScrmOverview = components['schemas']['ScrmOverview']
  export type StoreOverview = components['schemas']['StoreOverview']
}

export function listAppsApi() {
  return requestClient.get<{ items: AppsApi.Item[] }>('/api/v1/apps')
}

export function activateAppApi(key: AppsApi.Key) {
  return requestClient.post<AppsApi.Item>(`/api/v1/apps/${key}/activate`)
}

export function getScrmOverviewApi() {
  return requestClient.get<AppsApi.ScrmOverview>('/api/v1/scrm/overview')
}

export function getStoreOverviewApi() {
  return requestClient.get<AppsApi.StoreOverview>('/api/v1/store/overview')
}
