import { onScopeDispose, ref } from 'vue'
import { ElMessage } from 'element-plus'
import { getReadinessApi, getSystemStatusApi, type SystemApi } from '@/api/system'
import { ApiError, errorText } from '@/api/request'

/**
 * Loads the node status (and readiness); optional auto-refresh while the page is open.
 * A failed first load is the page's to show (`error` with no `status`); a refresh that starts failing while
 * data is on screen pops one ElMessage, not one every auto-refresh.
 */
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
      const text = errorText(e)
      if (status.value && text !== error.value) ElMessage.error(text)
      error.value = text
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
  onScopeDispose(() => timer && clearInterval(timer))

  return { status, ready, readyReason, loading, error, load }
}
