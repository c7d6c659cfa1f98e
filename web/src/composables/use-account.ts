import { ref } from 'vue'
import { changePasswordApi, changePhoneApi, logoutAllApi, updateProfileApi, type AuthApi } from '@/api/auth'
import { errorText } from '@/api/request'
import { useSessionStore } from '@/stores/use-session-store'
import { cleanPhone } from './validation'

/** My account: profile, password, bound phone, logging out everywhere. Each returns true on success. */
export function useAccount() {
  const session = useSessionStore()
  const busy = ref<'profile' | 'password' | 'phone' | 'logoutAll' | null>(null)
  const errors = ref({ profile: '', password: '', phone: '', logoutAll: '' })

  async function run(what: NonNullable<typeof busy.value>, call: () => Promise<void>): Promise<boolean> {
    busy.value = what
    errors.value[what] = ''
    try {
      await call()
      return true
    } catch (e) {
      errors.value[what] = errorText(e)
      return false
    } finally {
      busy.value = null
    }
  }

  const setSession = (s: AuthApi.Session) => session.set(s)

  return {
    busy,
    errors,
    saveProfile: (name: string) => run('profile', async () => setSession(await updateProfileApi(name.trim()))),
    /** the server ends every session and gives this browser a new one */
    changePassword: (oldPassword: string, newPassword: string) =>
      run('password', async () => setSession(await changePasswordApi({ old_password: oldPassword, new_password: newPassword }))),
    /**
     * needs the current password; like a password change, the server ends every session and gives this browser a
     * new one (its cookies come with the answer), so the user stays logged in here
     */
    changePhone: (phone: string, code: string, password: string) =>
      run('phone', async () => setSession(await changePhoneApi({ phone: cleanPhone(phone), code: code.trim(), password }))),
    /** resolves to the number of sessions ended, or null */
    logoutAll: async (): Promise<number | null> => {
      let revoked = 0
      const ok = await run('logoutAll', async () => {
        revoked = (await logoutAllApi()).revoked
        session.clear()
      })
      return ok ? revoked : null
    },
  }
}
