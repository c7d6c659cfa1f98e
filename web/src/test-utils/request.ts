// Helpers for the tests of the API client: failed requests and the cookies they leave.
import type { ApiError } from '@/api/request'

/** The ApiError a request fails with; fails the test if it succeeds. */
export async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    return e as ApiError
  }
  throw new Error('expected the request to fail')
}

/** Expires every cookie of the document (the CSRF token among them). */
export function clearCookies() {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0].trim()
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`
  }
}
