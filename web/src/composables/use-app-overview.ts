import { ref } from 'vue'
import { ApiError, errorText } from '@/api/request'

/**
 * An app's overview from its app-scoped API. A 403 app_not_activated is not shown here: the request hooks mark the
 * app as not activated and the layout shows "activate it first" instead of the page.
 */
export function useAppOverview<T>(fetch: () => Promise<T>) {
  const data = ref<T | null>(null)
  const loading = ref(false)
  const error = ref('')

  async function load() {
    loading.value = true
    try {
      data.value = await fetch()
      error.value = ''
    } catch (e) {
      error.value = e instanceof ApiError && e.reason === 'app_not_activated' ? '' : errorText(e)
    } finally {
      loading.value = false
    }
  }

  return { data, loading, error, load }
}
