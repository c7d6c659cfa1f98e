import { ref } from 'vue'
import { loginApi, logoutApi, registerApi, resetPasswordApi, type AuthApi } from '@/api/auth'
import { ApiError, errorText } from '@/api/request'
import { useSessionStore } from '@/stores/use-session-store'
import { cleanPhone } from './validation'

export type LoginOutcome = 'ok' | 'not_activated' | 'failed'

/** Login, register, password reset and logout; a success puts the server's session into the session store. */
export function useAuth() {
  const session = useSessionStore()
  const submitting = ref(false)
  const error = ref('')

  async function run(call: () => Promise<AuthApi.Session>): Promise<ApiError | null> {
    submitting.value = true
    error.value = ''
    try {
      session.set(await call())
      return null
    } catch (e) {
      error.value = errorText(e)
      return e instanceof ApiError ? e : new ApiError(0, 'unknown', String(e))
    } finally {
      submitting.value = false
    }
  }

  /** 'not_activated': an invited member without a password, who sets one through the SMS code flow. */
  async function login(phone: string, password: string): Promise<LoginOutcome> {
    const failure = await run(() => loginApi({ phone: cleanPhone(phone), password }))
    if (!failure) return 'ok'
    if (failure.reason === 'account_not_activated') {
      error.value = ''
      return 'not_activated'
    }
    return 'failed'
  }

  async function register(form: AuthApi.RegisterRequest): Promise<boolean> {
    const body = { ...form, phone: cleanPhone(form.phone), code: form.code.trim(), team_name: form.team_name.trim(), name: form.name.trim() }
    return (await run(() => registerApi(body))) === null
  }

  async function resetPassword(form: AuthApi.PasswordResetRequest): Promise<boolean> {
    return (await run(() => resetPasswordApi({ ...form, phone: cleanPhone(form.phone), code: form.code.trim() }))) === null
  }

  /** Logs out here; the session is forgotten even when the server cannot be reached. */
  async function logout(): Promise<void> {
    try {
      await logoutApi()
    } catch {
      // the cookie stays until it expires; nothing more the console can do
    }
    session.clear()
  }

  return { submitting, error, login, register, resetPassword, logout }
}
