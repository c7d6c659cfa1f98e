import { ref } from 'vue'
import { listSystemJobsApi, type SystemApi } from '@/api/system'
import { errorText } from '@/api/request'

/** One server-side page of system jobs; the caller decides when to (re)load. */
export function useSystemJobs(pageSize = 10) {
  const items = ref<SystemApi.Job[]>([])
  const total = ref(0)
  const page = ref(1)
  const loading = ref(false)
  const error = ref('')

  async function load(p = page.value) {
    loading.value = true
    try {
      const res = await listSystemJobsApi(p, pageSize)
      items.value = res.items
      total.value = res.total
      page.value = res.page
      error.value = ''
    } catch (e) {
      error.value = errorText(e)
    } finally {
      loading.value = false
    }
  }

  return { items, total, page, pageSize, loading, error, load }
}

/** Percentage for a progress bar, or null when the job does not know its size. */
export function progressPercent(job: Pick<SystemApi.Job, 'progress_done' | 'progress_total' | 'state'>): number | null {
  if (job.state === 'succeeded') return 100
  if (job.progress_total <= 0) return null
  return Math.min(100, Math.floor((job.progress_done * 100) / job.progress_total))
}
