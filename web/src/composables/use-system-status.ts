import { onBeforeUnmount, ref } from 'vue'
import { getReadinessApi, getSystemStatusApi, type SystemApi } from '@/api/system'
import { ApiError, errorText } from '@/api/request'

/** Loads the node status (and readiness); optional auto-refresh while the page is open. */
export function useSystemStatus(options: { autoRefreshMs?: number } = {}) {
  const status = ref<SystemApi.Status | null>(null)
  const ready = ref<boolean | null>(null)
  const readyReason = ref('')
  const loading = ref(false)
  const error = ref('')

  async function load() {
    loading.value = true
    try {
      const [s] = await Promise.all([getSystemStatusApi(), loadReadiness()])
      status.value = s
      error.value = ''
    } catch (e) {
      error.value = errorText(e)
    } finally {
      loading.value = false
    }
  }

  async function loadReadiness() {
    try {
      await getReadinessApi()
      ready.value = true
      readyReason.value = ''
    } catch (e) {
      ready.value = false
      readyReason.value = e instanceof ApiError ? errorText(e) : ''
    }
  }

  let timer: ReturnType<typeof setInterval> | undefined
  if (options.autoRefreshMs) timer = setInterval(load, options.autoRefreshMs)
  onBeforeUnmount(() => timer && clearInterval(timer))

  return { status, ready, readyReason, loading, error, load }
}
