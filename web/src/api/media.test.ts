import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, DEFAULT_TIMEOUT_MS, errorText, setRequestHooks, upload } from './request'
import { uploadMediaApi } from './media'
import { FakeXhr } from '@/test-utils/fake-xhr'
import { clearCookies, failure } from '@/test-utils/request'

const MEDIA = { id: 5, media_id: 'MEDIA_1', type: 'image', filename: '海报 1.png', size: 6, expires_at: 1_700_000_000_000 }
const png = () => new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])], '海报 1.png', { type: 'image/png' })

beforeEach(() => {
  FakeXhr.reset()
  vi.stubGlobal('XMLHttpRequest', FakeXhr)
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  setRequestHooks({})
  clearCookies()
})

describe('uploadMediaApi', () => {
  it('POSTs the raw file with its MIME type, the kind and the encoded name in the address, and the CSRF token', async () => {
    document.cookie = 'koi_csrf=tok; path=/'
    const file = png()
    const pending = uploadMediaApi(file, 'image', file.name, 'image/png')
    const xhr = FakeXhr.last
    expect(xhr.method).toBe('POST')
    expect(xhr.url).toBe(`/api/v1/scrm/media?type=image&filename=${encodeURIComponent('海报 1.png')}`)
    expect(xhr.url).toContain('filename=%E6%B5%B7%E6%8A%A5%201.png')
    // The bytes themselves: not JSON, not multipart.
    expect(xhr.body).toBe(file)
    expect(xhr.headers['Content-Type']).toBe('image/png')
    expect(xhr.headers['X-CSRF-Token']).toBe('tok')
    expect(xhr.headers.Accept).toBe('application/json')
    xhr.respond(201, { code: 0, data: MEDIA })
    await expect(pending).resolves.toEqual(MEDIA)
  })
})

describe('upload', () => {
  it('tells the progress of the body, then that all of it went out', async () => {
    const seen: [number, number][] = []
    const body = new Blob(['x'.repeat(1000)], { type: 'video/mp4' })
    const pending = upload('/api/v1/scrm/media?type=video&filename=a.mp4', body, 'video/mp4', { onProgress: (l, t) => seen.push([l, t]) })
    FakeXhr.last.progress(250, 1000)
    FakeXhr.last.progress(1000, 1000)
    FakeXhr.last.respond(201, { code: 0, data: { media_id: 'V' } })
    await expect(pending).resolves.toEqual({ media_id: 'V' })
    expect(seen).toEqual([[250, 1000], [1000, 1000], [1000, 1000]])
  })

  it('turns an error envelope into ApiError with its reason, and tells the hooks', async () => {
    const onError = vi.fn()
    setRequestHooks({ onError })
    const pending = failure(upload('/api/v1/scrm/media?type=image&filename=a.png', png(), 'image/png'))
    FakeXhr.last.respond(413, { code: 413, reason: 'media_too_large', message: 'image: at most 10 MB' })
    const err = await pending
    expect(err).toBeInstanceOf(ApiError)
    expect([err.status, err.reason, err.message]).toEqual([413, 'media_too_large', 'image: at most 10 MB'])
    expect(onError).toHaveBeenCalledWith(err, 'POST', '/api/v1/scrm/media?type=image&filename=a.png')
  })

  it('reports a failed connection or an answer that is not JSON as network errors', async () => {
    let pending = failure(upload('/x', png(), 'image/png'))
    FakeXhr.last.fail()
    expect((await pending).reason).toBe('network')
    pending = failure(upload('/x', png(), 'image/png'))
    FakeXhr.last.respond(502, '<html>bad gateway</html>')
    const err = await pending
    expect([err.status, err.reason]).toEqual([502, 'network'])
    expect(errorText(err)).toBe(errorText(new ApiError(0, 'network', '')))
  })

  it('stops when its signal aborts, with reason aborted', async () => {
    const controller = new AbortController()
    const pending = failure(upload('/x', png(), 'image/png', { signal: controller.signal }))
    const xhr = FakeXhr.last
    controller.abort()
    expect(xhr.aborted).toBe(true)
    expect((await pending).reason).toBe('aborted')
    // Already aborted: nothing is sent.
    expect((await failure(upload('/x', png(), 'image/png', { signal: controller.signal }))).reason).toBe('aborted')
    expect(FakeXhr.made).toHaveLength(1)
  })

  it('gives up when nothing moved for the timeout, but not while the body keeps going out', async () => {
    vi.useFakeTimers()
    const pending = failure(upload('/x', png(), 'image/png'))
    const xhr = FakeXhr.last
    await vi.advanceTimersByTimeAsync(DEFAULT_TIMEOUT_MS - 1)
    xhr.progress(1, 8)
    await vi.advanceTimersByTimeAsync(DEFAULT_TIMEOUT_MS - 1)
    expect(xhr.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(xhr.aborted).toBe(true)
    expect((await pending).reason).toBe('timeout')
  })

  it('without a CSRF cookie gets one from GET /auth/session and sends the file once more', async () => {
    const fetchMock = vi.fn(async () => {
      document.cookie = 'koi_csrf=fresh; path=/'
      return new Response(JSON.stringify({ code: 401, reason: 'unauthenticated', message: '' }), { status: 401 })
    })
    vi.stubGlobal('fetch', fetchMock)
    const file = png()
    const pending = upload<typeof MEDIA>('/api/v1/scrm/media?type=image&filename=a.png', file, 'image/png')
    expect(FakeXhr.last.headers['X-CSRF-Token']).toBeUndefined()
    FakeXhr.last.respond(403, { code: 403, reason: 'csrf_failed', message: '' })
    await vi.waitFor(() => expect(FakeXhr.made).toHaveLength(2))
    expect(fetchMock).toHaveBeenCalledTimes(1)
    const again = FakeXhr.last
    expect(again.headers['X-CSRF-Token']).toBe('fresh')
    expect(again.body).toBe(file)
    again.respond(201, { code: 0, data: MEDIA })
    await expect(pending).resolves.toEqual(MEDIA)
  })
})
