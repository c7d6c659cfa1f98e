import { afterEach, describe, expect, it, vi } from 'vitest'
import { progressPercent, useSystemJobs } from './use-system-jobs'

afterEach(() => vi.unstubAllGlobals())

describe('progressPercent', () => {
  it('is null without a known size, 100 once succeeded, else floor of done/total', () => {
    expect(progressPercent({ state: 'running', progress_done: 3, progress_total: 0 })).toBeNull()
    expect(progressPercent({ state: 'succeeded', progress_done: 0, progress_total: 0 })).toBe(100)
    expect(progressPercent({ state: 'running', progress_done: 1, progress_total: 3 })).toBe(33)
    expect(progressPercent({ state: 'running', progress_done: 9, progress_total: 3 })).toBe(100)
  })
})

describe('useSystemJobs', () => {
  it('asks the server for the page and keeps its total', async () => {
    const fetchMock = vi.fn(async () =>
      new Response(JSON.stringify({ code: 0, data: { items: [], total: 42, page: 2, page_size: 10 } })),
    )
    vi.stubGlobal('fetch', fetchMock)
    const jobs = useSystemJobs(10)
    await jobs.load(2)
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/system/jobs?page=2&page_size=10')
    expect(jobs.total.value).toBe(42)
    expect(jobs.page.value).toBe(2)
    expect(jobs.error.value).toBe('')
  })

  it('shows a localised error when the page cannot be loaded', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ code: 400, reason: 'invalid_paging', message: 'x' }), { status: 400 })))
    const jobs = useSystemJobs(10)
    await jobs.load(0)
    expect(jobs.error.value).toBe('分页参数有误')
  })
})
