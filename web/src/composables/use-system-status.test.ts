import { beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '@/api/request'
import { getReadinessApi, getSystemStatusApi, type SystemApi } from '@/api/system'
import { useSystemStatus } from './use-system-status'

vi.mock('@/api/system', () => ({ getSystemStatusApi: vi.fn(), getReadinessApi: vi.fn() }))
const toast = vi.hoisted(() => vi.fn())
vi.mock('element-plus', () => ({ ElMessage: { error: toast } }))

const sample: SystemApi.Status = {
  version: '0.1.0',
  started_at: 1_700_000_000,
  uptime_seconds: 90,
  database: { engine: 'sqlite', schema_version: 2, latest_schema_version: 3 },
  jobs: { queued: 1, running: 0, succeeded: 5, failed: 0, cancelled: 0 },
}

function setup() {
  // The composable stops its timer on scope dispose, so it runs in a bare effect scope as well as in a page.
  let result!: ReturnType<typeof useSystemStatus>
  effectScope().run(() => (result = useSystemStatus()))
  return result
}

beforeEach(() => {
  vi.mocked(getSystemStatusApi).mockReset()
  vi.mocked(getReadinessApi).mockReset().mockResolvedValue({ status: 'ready', schema_version: 3 })
  toast.mockReset()
})

describe('useSystemStatus', () => {
  it('loads the status and readiness', async () => {
    vi.mocked(getSystemStatusApi).mockResolvedValue(sample)
    const s = setup()
    await s.load()
    expect(s.status.value?.database.schema_version).toBe(2)
    expect(s.ready.value).toBe(true)
    expect(s.error.value).toBe('')
    expect(s.loading.value).toBe(false)
  })

  it('reports not ready with the localized reason', async () => {
    vi.mocked(getSystemStatusApi).mockResolvedValue(sample)
    vi.mocked(getReadinessApi).mockRejectedValue(new ApiError(503, 'migrations_pending', 'schema behind'))
    const s = setup()
    await s.load()
    expect(s.ready.value).toBe(false)
    expect(s.readyReason.value).toBe('数据库结构尚未升级完成')
  })

  it('leaves a failed first load to the page and toasts once when a refresh starts failing', async () => {
    vi.mocked(getSystemStatusApi).mockRejectedValueOnce(new ApiError(0, 'network', 'Failed to fetch'))
    const s = setup()
    await s.load()
    expect(s.status.value).toBeNull()
    expect(s.error.value).toBe('无法连接服务器，请检查网络后重试')
    expect(toast).not.toHaveBeenCalled()

    vi.mocked(getSystemStatusApi).mockResolvedValueOnce(sample)
    await s.load()
    expect(s.error.value).toBe('')

    vi.mocked(getSystemStatusApi).mockRejectedValue(new ApiError(503, 'database_unavailable', 'db down'))
    await s.load()
    await s.load()
    expect(s.error.value).toBe('数据库暂不可用')
    expect(s.status.value).not.toBeNull()
    expect(toast).toHaveBeenCalledTimes(1)
    expect(toast).toHaveBeenCalledWith('数据库暂不可用')
  })
})
