// The one HTTP client of the console: unwraps Koi's envelope {code, data} and turns failures into ApiError.
// Sends the CSRF token on every non-GET request and tells the app (through the hooks below) when the session is
// gone or an app is not activated, so that pages need not handle those themselves. JSON goes through fetch; a file's
// raw bytes (upload) through XMLHttpRequest, which tells how much of the body went out.
import { i18n } from '@/locales'
import { humanizeSeconds } from '@/composables/format'

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly reason: string,
    message: string,
    /** seconds to wait, on rate limits and lockouts */
    public readonly retryAfter: number | null = null,
    /** the envelope's `details`, on the reasons that carry some (e.g. `fan_rows_invalid`: the bad rows); else null */
    public readonly details: Record<string, unknown> | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** reason used when the server could not be reached or did not answer with an envelope */
export const NETWORK_REASON = 'network'
/** reason used when the server did not answer within the timeout (see setRequestTimeout) */
export const TIMEOUT_REASON = 'timeout'
/** how long a request may take, answer body included, before it is aborted */
export const DEFAULT_TIMEOUT_MS = 20_000

export const CSRF_COOKIE = 'koi_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'
export const SESSION_PATH = '/api/v1/auth/session'

const base: string = import.meta.env.VITE_API_BASE ?? ''

/** The address of an API path for a plain link (a download the browser fetches itself, with the session cookie). */
export const apiUrl = (path: string): string => base + path

interface Envelope<T> {
  code: number
  data?: T
  reason?: string
  message?: string
  retry_after?: number
  details?: unknown
}

/** Called by request() after the server answered; the app installs them (main.ts), tests may too. */
export interface RequestHooks {
  /** a 401 `unauthenticated` from any call but GET /auth/session */
  onUnauthenticated?: (error: ApiError, method: string, path: string) => void
  /** any failure, after the hooks above; e.g. 403 `app_not_activated` or `admin_only` */
  onError?: (error: ApiError, method: string, path: string) => void
}
let hooks: RequestHooks = {}
export function setRequestHooks(next: RequestHooks): void {
  hooks = next
}

/** The value of a cookie readable by the page, or '' */
export function readCookie(name: string, cookies: string = document.cookie): string {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return ''
}

let timeoutMs = DEFAULT_TIMEOUT_MS
/** Changes the request timeout (tests; 0 or less restores the default). */
export function setRequestTimeout(ms: number): void {
  timeoutMs = ms > 0 ? ms : DEFAULT_TIMEOUT_MS
}

const isMutation = (method: string) => method !== 'GET' && method !== 'HEAD'

interface Exchange<T> {
  status: number
  /** the Retry-After header, or null */
  retryAfter: string | null
  envelope: Envelope<T>
}

/**
 * One request and its JSON answer. Gives up after `timeoutMs` (waiting for the headers or for the body) with ApiError
 * `timeout`; an unreachable server or an answer that is not JSON (but a 204 No Content) is ApiError `network`.
 */
async function exchange<T>(method: string, path: string, body: unknown, extraHeaders?: Record<string, string>): Promise<Exchange<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (isMutation(method)) {
    const token = readCookie(CSRF_COOKIE)
    if (token) headers[CSRF_HEADER] = token
  }
  Object.assign(headers, extraHeaders)
  const controller = new AbortController()
  const limit = timeoutMs
  const timedOut = () => new ApiError(0, TIMEOUT_REASON, `no answer within ${limit} ms`)
  // Settles only at the timeout: raced against fetch and against reading the body, whether or not they honour the
  // abort signal.
  let expire!: () => void
  const expired = new Promise<never>((_resolve, reject) => (expire = () => reject(timedOut())))
  expired.catch(() => undefined)
  const timer = setTimeout(() => {
    controller.abort()
    expire()
  }, limit)
  try {
    let response: Response
    try {
      const sent = fetch(base + path, {
        method,
        credentials: 'same-origin',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      })
      response = await Promise.race([sent, expired])
    } catch (e) {
      if (e instanceof ApiError) throw e
      if (controller.signal.aborted) throw timedOut()
      throw new ApiError(0, NETWORK_REASON, e instanceof Error ? e.message : String(e))
    }
    // 204 No Content (e.g. a DELETE): a success without a body, hence without an envelope.
    if (response.status === 204) return { status: 204, retryAfter: null, envelope: { code: 0 } }
    try {
      const envelope = (await Promise.race([response.json(), expired])) as Envelope<T>
      return { status: response.status, retryAfter: response.headers.get('Retry-After'), envelope }
    } catch (e) {
      if (e instanceof ApiError) throw e
      if (controller.signal.aborted) throw timedOut()
      throw new ApiError(response.status, NETWORK_REASON, `HTTP ${response.status} without a JSON body`)
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Sends `send` (an exchange), and once more after fetching a CSRF cookie when the server refused for the lack of one;
 * unwraps the envelope or throws its ApiError, after telling the hooks.
 */
async function settle<T>(method: string, path: string, send: () => Promise<Exchange<T>>): Promise<T> {
  const hadToken = readCookie(CSRF_COOKIE) !== ''
  let exchanged = await send()
  if (exchanged.envelope.reason === 'csrf_failed' && !hadToken && isMutation(method)) {
    // No csrf cookie yet (first visit, or cleared by logout): GET /auth/session sets one, then try once more.
    await exchange('GET', SESSION_PATH, undefined).catch(() => undefined)
    if (readCookie(CSRF_COOKIE)) exchanged = await send()
  }
  const { status, envelope } = exchanged
  if (envelope.code !== 0) {
    const header = Number(exchanged.retryAfter)
    const retryAfter =
      typeof envelope.retry_after === 'number' ? envelope.retry_after : Number.isFinite(header) && header > 0 ? header : null
    const details = envelope.details && typeof envelope.details === 'object' && !Array.isArray(envelope.details)
      ? (envelope.details as Record<string, unknown>) : null
    const error = new ApiError(status, envelope.reason ?? 'unknown', envelope.message ?? '', retryAfter, details)
    const isSessionProbe = method === 'GET' && path.split('?')[0] === SESSION_PATH
    if (error.status === 401 && error.reason === 'unauthenticated' && !isSessionProbe) hooks.onUnauthenticated?.(error, method, path)
    hooks.onError?.(error, method, path)
    throw error
  }
  return envelope.data as T
}

/** `extraHeaders` go last (the chat sidebar sends its own session's CSRF token). */
export async function request<T>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<T> {
  return settle<T>(method, path, () => exchange<T>(method, path, body, extraHeaders))
}

/** reason of an upload stopped through its signal (the user cancelled it: nothing to show) */
export const ABORTED_REASON = 'aborted'

export interface UploadOptions {
  /** told the bytes of the body sent so far and their total, as they go out */
  onProgress?: (loaded: number, total: number) => void
  /** stops the upload: it fails with ApiError `aborted` */
  signal?: AbortSignal
}

/**
 * One POST of a raw body through XMLHttpRequest (fetch cannot tell how much of a body went out). Gives up when nothing
 * moved for the timeout: no progress while the body is sent, no answer after it (ApiError `timeout`). An unreachable
 * server or an answer that is not JSON is ApiError `network`.
 */
function uploadExchange<T>(path: string, body: Blob, contentType: string, options: UploadOptions): Promise<Exchange<T>> {
  return new Promise<Exchange<T>>((resolve, reject) => {
    const { onProgress, signal } = options
    if (signal?.aborted) {
      reject(new ApiError(0, ABORTED_REASON, 'upload aborted'))
      return
    }
    const xhr = new XMLHttpRequest()
    const limit = timeoutMs
    let timer: ReturnType<typeof setTimeout> | undefined
    let done = false
    const finish = (error: ApiError | null, value?: Exchange<T>) => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (error) reject(error)
      else resolve(value!)
    }
    const stop = (error: ApiError) => {
      finish(error)
      xhr.abort()
    }
    function onAbort() {
      stop(new ApiError(0, ABORTED_REASON, 'upload aborted'))
    }
    /** (re)starts the wait for the next sign of life */
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => stop(new ApiError(0, TIMEOUT_REASON, `nothing moved within ${limit} ms`)), limit)
    }
    xhr.open('POST', base + path)
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.setRequestHeader('Content-Type', contentType)
    const token = readCookie(CSRF_COOKIE)
    if (token) xhr.setRequestHeader(CSRF_HEADER, token)
    xhr.upload.onprogress = (e: ProgressEvent) => {
      arm()
      onProgress?.(e.loaded, e.lengthComputable && e.total > 0 ? e.total : body.size)
    }
    xhr.upload.onload = () => {
      arm()
      onProgress?.(body.size, body.size)
    }
    xhr.onload = () => {
      let envelope: Envelope<T>
      try {
        envelope = JSON.parse(xhr.responseText) as Envelope<T>
        if (!envelope || typeof envelope !== 'object') throw new Error('not an envelope')
      } catch {
        finish(new ApiError(xhr.status, NETWORK_REASON, `HTTP ${xhr.status} without a JSON body`))
        return
      }
      finish(null, { status: xhr.status, retryAfter: xhr.getResponseHeader('Retry-After'), envelope })
    }
    xhr.onerror = () => finish(new ApiError(0, NETWORK_REASON, 'the upload failed (network error)'))
    xhr.onabort = () => finish(new ApiError(0, ABORTED_REASON, 'upload aborted'))
    signal?.addEventListener('abort', onAbort)
    arm()
    xhr.send(body)
  })
}

/**
 * POSTs `body` as it is (a file's bytes: neither JSON nor multipart) with `contentType`, telling its progress; the
 * same envelope, CSRF token, hooks and errors as request().
 */
export function upload<T>(path: string, body: Blob, contentType: string, options: UploadOptions = {}): Promise<T> {
  return settle<T>('POST', path, () => uploadExchange<T>(path, body, contentType, options))
}

export const requestClient = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body),
  delete: <T>(path: string) => request<T>('DELETE', path),
}

/** `?a=1&b=x` from the defined, non-empty values (encoded) */
export function query(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  return parts.length ? `?${parts.join('&')}` : ''
}

type Translate = (key: string, values?: Record<string, unknown>) => string

/**
 * The error in the user's language: the locale's text for the reason. Texts may use `{n}`, the seconds of
 * retry_after (e.g. errors.sms_too_frequent "请 {n} 秒后再试"), or `{d}`, the same wait in words, rounded up
 * ("15 分钟"), for long waits such as a lockout; without retry_after, errorsNoWait.<reason> is used. A reason without a text shows errors.unknown (the server's message
 * is English and meant for developers; it goes to the browser console instead).
 */
export function errorText(
  error: unknown,
  t: Translate = i18n.global.t as Translate,
  has = (key: string) => i18n.global.te(key),
): string {
  if (error instanceof ApiError) {
    // A wait the server did not say (no retry_after) is not "0 s": errorsNoWait has those texts without one.
    if (error.retryAfter === null && has(`errorsNoWait.${error.reason}`)) return t(`errorsNoWait.${error.reason}`)
    const key = `errors.${error.reason}`
    if (has(key)) {
      const n = error.retryAfter ?? 0
      return t(key, { n, d: humanizeSeconds(n, t, 'up') })
    }
    console.warn(`[koi] no text for error reason "${error.reason}" (HTTP ${error.status}): ${error.message}`)
  }
  return t('errors.unknown')
}
