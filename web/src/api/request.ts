// The one HTTP client of the console: unwraps Koi's envelope {code, data} and turns failures into ApiError.
import { i18n } from '@/locales'

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly reason: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** reason used when the server could not be reached or did not answer with an envelope */
export const NETWORK_REASON = 'network'

const base: string = import.meta.env.VITE_API_BASE ?? ''

interface Envelope<T> {
  code: number
  data?: T
  reason?: string
  message?: string
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response
  try {
    response = await fetch(base + path, {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (e) {
    throw new ApiError(0, NETWORK_REASON, e instanceof Error ? e.message : String(e))
  }
  let envelope: Envelope<T>
  try {
    envelope = (await response.json()) as Envelope<T>
  } catch {
    throw new ApiError(response.status, NETWORK_REASON, `HTTP ${response.status} without a JSON body`)
  }
  if (envelope.code !== 0) {
    throw new ApiError(response.status, envelope.reason ?? 'unknown', envelope.message ?? '')
  }
  return envelope.data as T
}

export const requestClient = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
}

/** The error in the user's language: the locale's text for the reason, else the server's message. */
export function errorText(error: unknown, t: (key: string) => string = i18n.global.t, has = (key: string) => i18n.global.te(key)): string {
  if (error instanceof ApiError) {
    const key = `errors.${error.reason}`
    if (has(key)) return t(key)
    return error.message || t('errors.unknown')
  }
  return t('errors.unknown')
}
