import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError } from '@/api/request'
import { loginApi, logoutApi, registerApi, resetPasswordApi, type AuthApi } from '@/api/auth'
import { useSessionStore } from '@/stores/use-session-store'
import { useAuth } from './use-auth'

vi.mock('@/api/auth', () => ({ loginApi: vi.fn(), registerApi: vi.fn(), resetPasswordApi: vi.fn(), logoutApi: vi.fn(), getSessionApi: vi.fn() }))

const body: AuthApi.Session = {
  account: { id: 1, phone: '13800000000', name: '王', role: 'admin', status: 'active' },
  team: { id: 1, name: 'T' },
  apps: [],
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.mocked(loginApi).mockReset()
  vi.mocked(registerApi).mockReset()
  vi.mocked(resetPasswordApi).mockReset()
  vi.mocked(logoutApi).mockReset()
})

describe('useAuth', () => {
  it('a successful login fills the session store', async () => {
    vi.mocked(loginApi).mockResolvedValue(body)
    const auth = useAuth()
    expect(await auth.login('+86 13800000000', 'abcd1234')).toBe('ok')
    expect(loginApi).toHaveBeenCalledWith({ phone: '13800000000', password: 'abcd1234' })
    expect(useSessionStore().account?.name).toBe('王')
  })

  it('an invited member without a password is sent on, not shown an error', async () => {
    vi.mocked(loginApi).mockRejectedValue(new ApiError(403, 'account_not_activated', 'x'))
    const auth = useAuth()
    expect(await auth.login('13800000000', 'whatever1')).toBe('not_activated')
    expect(auth.error.value).toBe('')
    expect(useSessionStore().loggedIn).toBe(false)
  })

  it('other failures are shown in the current language', async () => {
    vi.mocked(loginApi).mockRejectedValue(new ApiError(429, 'account_locked', 'x', 600))
    const auth = useAuth()
    expect(await auth.login('13800000000', 'abcd1234')).toBe('failed')
    expect(auth.error.value).toBe('密码错误次数过多，账号已锁定，请 10 分钟 后再试')
    expect(auth.submitting.value).toBe(false)
  })

  it('register and reset send trimmed, cleaned fields', async () => {
    vi.mocked(registerApi).mockResolvedValue(body)
    vi.mocked(resetPasswordApi).mockResolvedValue(body)
    const auth = useAuth()
    expect(await auth.register({ phone: '138 0000 0000', code: ' 123456 ', password: 'abcd1234', team_name: ' 锦鲤 ', name: ' 王 ' })).toBe(true)
    expect(registerApi).toHaveBeenCalledWith({ phone: '13800000000', code: '123456', password: 'abcd1234', team_name: '锦鲤', name: '王' })
    expect(await auth.resetPassword({ phone: '13800000000', code: '654321 ', password: 'abcd1234' })).toBe(true)
    expect(resetPasswordApi).toHaveBeenCalledWith({ phone: '13800000000', code: '654321', password: 'abcd1234' })
  })

  it('logout forgets the session even when the server is unreachable', async () => {
    vi.mocked(logoutApi).mockRejectedValue(new ApiError(0, 'network', 'down'))
    const s = useSessionStore()
    s.set(body)
    await useAuth().logout()
    expect(s.loggedIn).toBe(false)
  })
})
