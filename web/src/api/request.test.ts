import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, DEFAULT_TIMEOUT_MS, errorText, readCookie, request, requestClient, setRequestHooks, setRequestTimeout } from './request'
import { i18n } from '@/locales'
import { clearCookies, failure } from '@/test-utils/request'

function mockFetch(impl: () => Promise<Response>) {
  vi.stubGlobal('fetch', vi.fn(impl))
}

afterEach(() => {
  vi.unstubAllGlobals()
  i18n.global.locale.value = 'zh-CN'
  setRequestHooks({})
  clearCookies()
})

type Call = [string, RequestInit]
const ok = () => new Response(JSON.stringify({ code: 0, data: {} }))
const headersOf = (call: unknown) => ((call as Call)[1].headers ?? {}) as Record<string, string>

describe('request', () => {
  it('unwraps the success envelope', async () => {
    mockFetch(async () => new Response(JSON.stringify({ code: 0, data: { status: 'ok' } }), { status: 200 }))
    await expect(request('GET', '/healthz')).resolves.toEqual({ status: 'ok' })
  })

  it('takes 204 No Content as a success without data', async () => {
    mockFetch(async () => new Response(null, { status: 204 }))
    await expect(requestClient.delete('/api/v1/scrm/customer-exports/3')).resolves.toBeUndefined()
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
    expect(err.details).toBeNull()
  })

  it('keeps the details of an error envelope (e.g. the bad rows of an imported file)', async () => {
    const rows = [{ row: 3, reason: 'fan_openid_invalid', value: 'x' }]
    mockFetch(async () =>
      new Response(JSON.stringify({ code: 400, reason: 'fan_rows_invalid', message: '1 rows are not valid', details: { rows } }), { status: 400 }),
    )
    const err = await failure(request('POST', '/api/v1/x'))
    expect([err.status, err.reason]).toEqual([400, 'fan_rows_invalid'])
    expect(err.details).toEqual({ rows })
    // details that are not an object are not kept
    mockFetch(async () => new Response(JSON.stringify({ code: 400, reason: 'x', message: '', details: [1] }), { status: 400 }))
    expect((await failure(request('GET', '/api/v1/x'))).details).toBeNull()
  })

  it('gives up after the timeout with reason timeout, also while the body is read', async () => {
    vi.useFakeTimers()
    try {
      // fetch that never answers unless aborted, as a browser does
      const hang = vi.fn((_url: string, init: RequestInit) =>
        new Promise<Response>((_resolve, reject) =>
          init.signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError'))),
        ),
      )
      vi.stubGlobal('fetch', hang)
      const pending = failure(request('GET', '/api/v1/members'))
      await vi.advanceTimersByTimeAsync(DEFAULT_TIMEOUT_MS - 1)
      expect((hang.mock.calls[0][1] as RequestInit).signal?.aborted).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      const err = await pending
      expect(err.reason).toBe('timeout')
      expect(err.status).toBe(0)
      expect(errorText(err)).toBe('请求超时，请重试')

      setRequestTimeout(5000)
      mockFetch(async () => ({ status: 200, headers: new Headers(), json: () => new Promise(() => undefined) }) as unknown as Response)
      const slowBody = failure(request('GET', '/api/v1/members'))
      await vi.advanceTimersByTimeAsync(5000)
      expect((await slowBody).reason).toBe('timeout')
    } finally {
      setRequestTimeout(0)
      vi.useRealTimers()
    }
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
    const e = new ApiError(429, 'rate_limited', 'too many requests', 119)
    expect(errorText(e)).toBe('操作太频繁，请 2 分钟 后再试')
    expect(errorText(new ApiError(400, 'wrong_password', 'the current password is wrong'))).toBe('密码错误')
    i18n.global.locale.value = 'en-US'
    expect(errorText(e)).toBe('Too many attempts. Try again in 2 min.')
    expect(errorText(new ApiError(503, 'database_busy', 'x'))).toBe('The system is busy; try again shortly')
  })

  it('does not show a wait of 0 s when the server did not say how long', () => {
    expect(errorText(new ApiError(429, 'rate_limited', 'too many requests'))).toBe('操作太频繁，请稍后再试')
    expect(errorText(new ApiError(429, 'account_locked', 'x'))).toBe('密码错误次数过多，账号已锁定，请稍后再试')
  })

  it('shows the generic text for a reason without one, and tells developers the server\'s message', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    expect(errorText(new ApiError(422, 'some_new_reason', 'server says why'))).toBe('出错了，请稍后重试')
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0][0])).toContain('some_new_reason')
    expect(String(warn.mock.calls[0][0])).toContain('server says why')
    warn.mockRestore()
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

describe('CSRF', () => {
  it('sends the koi_csrf cookie as X-CSRF-Token on every non-GET request, never on GET', async () => {
    document.cookie = 'koi_csrf=tok%2Fen-1; path=/'
    const fetchMock = vi.fn(async () => ok())
    vi.stubGlobal('fetch', fetchMock)
    await requestClient.post('/api/v1/auth/login', { phone: '1' })
    await requestClient.put('/api/v1/account/profile', { name: 'x' })
    await requestClient.delete('/api/v1/members/3')
    await requestClient.get('/api/v1/members')
    expect(fetchMock).toHaveBeenCalledTimes(4)
    expect(headersOf(fetchMock.mock.calls[0])['X-CSRF-Token']).toBe('tok/en-1')
    expect((fetchMock.mock.calls[1] as unknown as Call)[1].method).toBe('PUT')
    expect(headersOf(fetchMock.mock.calls[1])['X-CSRF-Token']).toBe('tok/en-1')
    expect((fetchMock.mock.calls[2] as unknown as Call)[1].method).toBe('DELETE')
    expect(headersOf(fetchMock.mock.calls[2])['X-CSRF-Token']).toBe('tok/en-1')
    expect(headersOf(fetchMock.mock.calls[3])['X-CSRF-Token']).toBeUndefined()
  })

  it('without a cookie (first visit, after logout) gets one from GET /auth/session and tries once more', async () => {
    const fetchMock = vi.fn(async (url: string, init: RequestInit) => {
      if (url === '/api/v1/auth/session') {
        document.cookie = 'koi_csrf=fresh; path=/'
        return new Response(JSON.stringify({ code: 401, reason: 'unauthenticated', message: '' }), { status: 401 })
      }
      if (!(init.headers as Record<string, string>)['X-CSRF-Token']) {
        return new Response(JSON.stringify({ code: 403, reason: 'csrf_failed', message: '' }), { status: 403 })
      }
      return new Response(JSON.stringify({ code: 0, data: { ok: true } }))
    })
    vi.stubGlobal('fetch', fetchMock)
    await expect(requestClient.post('/api/v1/auth/login', {})).resolves.toEqual({ ok: true })
    expect(fetchMock.mock.calls.map((c) => (c as unknown as Call)[0])).toEqual(['/api/v1/auth/login', '/api/v1/auth/session', '/api/v1/auth/login'])
    expect(headersOf(fetchMock.mock.calls[2])['X-CSRF-Token']).toBe('fresh')
  })

  it('does not retry a csrf failure when a token was sent', async () => {
    document.cookie = 'koi_csrf=stale; path=/'
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ code: 403, reason: 'csrf_failed', message: '' }), { status: 403 }))
    vi.stubGlobal('fetch', fetchMock)
    expect((await failure(requestClient.post('/api/v1/members', {}))).reason).toBe('csrf_failed')
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('readCookie finds one cookie among several', () => {
    expect(readCookie('koi_csrf', 'a=1; koi_csrf=abc; koi_csrf_x=2')).toBe('abc')
    expect(readCookie('koi_csrf', 'a=1')).toBe('')
  })
})

describe('retry_after', () => {
  it('is kept from the body, else from the Retry-After header', async () => {
    document.cookie = 'koi_csrf=t; path=/'
    mockFetch(async () => new Response(JSON.stringify({ code: 429, reason: 'sms_too_frequent', message: 'wait', retry_after: 42 }), { status: 429 }))
    expect((await failure(requestClient.post('/api/v1/auth/sms-codes', {}))).retryAfter).toBe(42)
    mockFetch(async () => new Response(JSON.stringify({ code: 429, reason: 'rate_limited', message: 'wait' }), { status: 429, headers: { 'Retry-After': '7' } }))
    expect((await failure(requestClient.post('/api/v1/auth/login', {}))).retryAfter).toBe(7)
    mockFetch(async () => new Response(JSON.stringify({ code: 400, reason: 'invalid_phone', message: 'x' }), { status: 400 }))
    expect((await failure(requestClient.post('/api/v1/auth/login', {}))).retryAfter).toBeNull()
  })

  it('is interpolated into the localised text, in seconds or in words', () => {
    const tooFrequent = new ApiError(429, 'sms_too_frequent', 'x', 42)
    expect(errorText(tooFrequent)).toBe('验证码发送太频繁，请 42 秒后再试')
    const locked = new ApiError(429, 'account_locked', 'x', 900)
    expect(errorText(locked)).toBe('密码错误次数过多，账号已锁定，请 15 分钟 后再试')
    i18n.global.locale.value = 'en-US'
    expect(errorText(tooFrequent)).toBe('Codes are sent at most once a minute. Try again in 42 s.')
    expect(errorText(locked)).toBe('Too many wrong passwords; the account is locked. Try again in 15 min.')
  })
})

describe('hooks', () => {
  const unauthenticated = () => new Response(JSON.stringify({ code: 401, reason: 'unauthenticated', message: '' }), { status: 401 })

  it('reports a 401 unauthenticated from any call but GET /auth/session', async () => {
    const onUnauthenticated = vi.fn()
    const onError = vi.fn()
    setRequestHooks({ onUnauthenticated, onError })
    mockFetch(async () => unauthenticated())
    await failure(requestClient.get('/api/v1/auth/session'))
    expect(onUnauthenticated).not.toHaveBeenCalled()
    await failure(requestClient.get('/api/v1/members?page=1'))
    expect(onUnauthenticated).toHaveBeenCalledTimes(1)
    expect(onUnauthenticated.mock.calls[0][2]).toBe('/api/v1/members?page=1')
    expect(onError).toHaveBeenCalledTimes(2)
  })

  it('does not treat a wrong password (401 invalid_credentials) as a lost session', async () => {
    document.cookie = 'koi_csrf=t; path=/'
    const onUnauthenticated = vi.fn()
    setRequestHooks({ onUnauthenticated })
    mockFetch(async () => new Response(JSON.stringify({ code: 401, reason: 'invalid_credentials', message: '' }), { status: 401 }))
    expect((await failure(requestClient.post('/api/v1/auth/login', {}))).reason).toBe('invalid_credentials')
    expect(onUnauthenticated).not.toHaveBeenCalled()
  })
})
