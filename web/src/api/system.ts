import type { components } from './generated/schema'
import { requestClient } from './request'

export namespace SystemApi {
  export type Status = components['schemas']['SystemStatus']
  export type Ready = components['schemas']['ReadyEnvelope']['data']
}

export function getSystemStatusApi() {
  return requestClient.get<SystemApi.Status>('/api/v1/system/status')
}

export function getReadinessApi() {
  return requestClient.get<SystemApi.Ready>('/readyz')
}
