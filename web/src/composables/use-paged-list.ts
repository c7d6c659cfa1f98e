import { ref } from 'vue'
import { errorText } from '@/api/request'

export interface Page<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

/** The last page of `total` rows (1 for none). */
export function lastPage(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize))
}

/**
 * One server-side page of a list. Only the answer to the latest load is kept, so a slow answer to an old search
 * cannot overwrite a newer one. A page past the end (rows removed elsewhere meanwhile) is replaced by the last one.
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
      const last = lastPage(res.total, res.page_size > 0 ? res.page_size : pageSize)
      if (res.items.length === 0 && res.page > 1 && last < res.page) {
        // The rows of this page vanished elsewhere (removed by another admin): show the last page there is
        // (page 1 when none are left).
        return await load(last)
      }
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
