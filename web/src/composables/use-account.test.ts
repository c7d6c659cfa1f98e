import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError } from '@/api/request'
import { changePasswordApi, changePhoneApi, logoutAllApi, updateProfileApi, type AuthApi } from '@/api/auth'
import { useSessionStore } from '@/stores/use-session-store'
import { useAccount } from './use-account'

vi.mock('@/api/auth', () => ({
  changePasswordApi: vi.fn(), changePhoneApi: vi.fn(), logoutAllApi: vi.fn(), updateProfileApi: vi.fn(), getSessionApi: vi.fn(),
}))

const session = (phone: string): AuthApi.Session => ({
  account: { id: 1, phone, name: '王', role: 'admin', status: 'active' },
  team: { id: 1, name: 'T' },
  apps: [],
})

beforeEach(() => {
  setActivePinia(createPinia())
  for (const f of [changePasswordApi, changePhoneApi, logoutAllApi, updateProfileApi]) vi.mocked(f).mockReset()
  useSessionStore().set(session('13800000000'))
})

describe('useAccount', () => {
  it('changes the phone with the code and the current password, and stays logged in with the new session', async () => {
    vi.mocked(changePhoneApi).mockResolvedValue(session('13900000009'))
    const account = useAccount()
    expect(await account.changePhone('+86 139-0000-0009', ' 123456 ', 'koi2026pass')).toBe(true)
    expect(changePhoneApi).toHaveBeenCalledWith({ phone: '13900000009', code: '123456', password: 'koi2026pass' })
    const s = useSessionStore()
    expect(s.loggedIn).toBe(true)
    expect(s.account?.phone).toBe('13900000009')
    expect(account.errors.value.phone).toBe('')
  })

  it('a wrong password is shown in the phone form, and nothing changes', async () => {
    vi.mocked(changePhoneApi).mockRejectedValue(new ApiError(400, 'wrong_password', 'the current password is wrong'))
    const account = useAccount()
    expect(await account.changePhone('13900000009', '123456', 'nope12345')).toBe(false)
    expect(account.errors.value.phone).toBe('密码错误')
    expect(useSessionStore().account?.phone).toBe('13800000000')
    expect(account.busy.value).toBeNull()
  })
})
