import { computed, onScopeDispose, ref, watch } from 'vue'
import { getDevSmsInboxApi, type AuthApi } from '@/api/auth'
import { ApiError, errorText } from '@/api/request'
import { cleanPhone, isValidPhone } from './validation'

let availability: Promise<boolean> | null = null

/** Whether this server has the development SMS inbox (console SMS provider): asked once per page load. */
export function devInboxAvailable(): Promise<boolean> {
  availability ??= getDevSmsInboxApi().then(
    () => true,
    () => false,
  )
  return availability
}

/** for tests */
export function forgetDevInboxAvailability() {
  availability = null
}

/** Newest first, whatever order the server used. */
export function newestFirst(items: AuthApi.DevSms[]): AuthApi.DevSms[] {
  return [...items].sort((a, b) => b.created_at - a.created_at || b.id - a.id)
}

/** The development SMS inbox page: messages (optionally for one phone), refreshed every few seconds. */
export function useDevSmsInbox(options: { autoRefreshMs?: number } = {}) {
  const all = ref<AuthApi.DevSms[]>([])
  const phone = ref('')
  // A whole number is filtered by the server; while it is being typed, the digits so far filter what is loaded.
  const items = computed(() => {
    const digits = cleanPhone(phone.value)
    return digits ? all.value.filter((m) => m.phone.includes(digits)) : all.value
  })
  const loading = ref(false)
  const error = ref('')
  /** null until the first answer; false when the server has no inbox (404) */
  const available = ref<boolean | null>(null)

  async function load() {
    loading.value = true
    try {
      const res = await getDevSmsInboxApi(isValidPhone(phone.value) ? cleanPhone(phone.value) : '')
      all.value = newestFirst(res.items)
      available.value = true
      error.value = ''
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) available.value = false
      else error.value = errorText(e)
    } finally {
      loading.value = false
    }
  }

  watch(phone, (now, before) => {
    if (isValidPhone(now) || isValidPhone(before)) void load()
  })

  let timer: ReturnType<typeof setInterval> | undefined
  if (options.autoRefreshMs) {
    timer = setInterval(() => {
      if (available.value !== false) void load()
    }, options.autoRefreshMs)
  }
  onScopeDispose(() => timer && clearInterval(timer))

  return { items, phone, loading, error, available, load }
}
