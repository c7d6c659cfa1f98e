import { ref } from 'vue'
import { errorText } from '@/api/request'

export interface Page<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

/**
 * One server-side page of a list. Only the answer to the latest load is kept, so a slow answer to an old search
 * cannot overwrite a newer one.
 */
export function usePagedList<T>(fetchPage: (page: number, pageSize: number) => Promise<Page<T>>, pageSize = 20) {
  const items = ref<T[]>([]) as { value: T[] }
  const total = ref(0)
  const page = ref(1)
  const loading = ref(false)
  const error = ref('')
  let latest = 0

  async function load(p = page.value): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const res = await fetchPage(p, pageSize)
      if (ticket !== latest) return
      items.value = res.items
      total.value = res.total
      page.value = res.page
      error.value = ''
    } catch (e) {
      if (ticket !== latest) return
      error.value = errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  return { items, total, page, pageSize, loading, error, load }
}
