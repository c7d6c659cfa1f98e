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

export namespace SystemApi {
  export type Job = components['schemas']['Job']
  export type JobPage = components['schemas']['SystemJobPage']
}

export function listSystemJobsApi(page: number, pageSize: number) {
  return requestClient.get<SystemApi.JobPage>(`/api/v1/system/jobs?page=${page}&page_size=${pageSize}`)
}
