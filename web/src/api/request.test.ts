import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, errorText, request } from './request'
import { i18n } from '@/locales'

function mockFetch(impl: () => Promise<Response>) {
  vi.stubGlobal('fetch', vi.fn(impl))
}

/** The ApiError a request fails with; fails the test if it succeeds. */
async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    return e as ApiError
  }
  throw new Error('expected the request to fail')
}

afterEach(() => {
  vi.unstubAllGlobals()
  i18n.global.locale.value = 'zh-CN'
})

describe('request', () => {
  it('unwraps the success envelope', async () => {
    mockFetch(async () => new Response(JSON.stringify({ code: 0, data: { status: 'ok' } }), { status: 200 }))
    await expect(request('GET', '/healthz')).resolves.toEqual({ status: 'ok' })
  })

  it('sends JSON bodies with a content type', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ code: 0, data: null })))
    vi.stubGlobal('fetch', fetchMock)
    await request('POST', '/api/v1/x', { a: 1 })
    const init = (fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1]
    expect(init.body).toBe('{"a":1}')
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
  })

  it('turns an error envelope into ApiError with status and reason', async () => {
    mockFetch(async () =>
      new Response(JSON.stringify({ code: 404, reason: 'route_not_found', message: 'no such route' }), { status: 404 }),
    )
    const err = await failure(request('GET', '/api/v1/nope'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(404)
    expect(err.reason).toBe('route_not_found')
    expect(err.message).toBe('no such route')
  })

  it('reports network failures and non-JSON bodies as network errors', async () => {
    mockFetch(async () => Promise.reject(new TypeError('Failed to fetch')))
    expect((await failure(request('GET', '/x'))).reason).toBe('network')
    mockFetch(async () => new Response('<html>bad gateway</html>', { status: 502 }))
    const err = await failure(request('GET', '/x'))
    expect(err.reason).toBe('network')
    expect(err.status).toBe(502)
  })
})

describe('errorText', () => {
  it('uses the locale text for a known reason, in the current language', () => {
    const e = new ApiError(429, 'rate_limited', 'too many requests')
    expect(errorText(e)).toBe('操作太频繁，请稍后再试')
    i18n.global.locale.value = 'en-US'
    expect(errorText(e)).toBe('Too many attempts. Please wait and try again.')
  })

  it("falls back to the server's message for an unknown reason", () => {
    expect(errorText(new ApiError(422, 'some_new_reason', 'server says why'))).toBe('server says why')
  })

  it('localizes network failures', async () => {
    mockFetch(async () => Promise.reject(new TypeError('Failed to fetch')))
    const err = await failure(request('GET', '/x'))
    expect(errorText(err)).toBe('无法连接服务器，请检查网络后重试')
    i18n.global.locale.value = 'en-US'
    expect(errorText(err)).toBe('Cannot reach the server. Check your connection and try again.')
  })

  it('has a generic text for non-API errors', () => {
    expect(errorText(new Error('x'))).toBe('出错了，请稍后重试')
  })
})
