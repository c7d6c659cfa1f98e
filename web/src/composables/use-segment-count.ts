import { computed, onScopeDispose, ref, watch } from 'vue'
import { countSegmentApi, type SegmentsApi } from '@/api/segments'
import { ApiError, errorText } from '@/api/request'
import { rulePathOf } from './segment-rule'

/** how long the rule must stay unchanged before it is counted */
export const COUNT_DEBOUNCE_MS = 300

/** What the preview shows: nothing to count yet, a count under way, the count, or why there is none. */
export type CountState = 'incomplete' | 'counting' | 'counted' | 'failed'

/**
 * The editor's live preview: how many customers the rule matches and the first few of them, counted on the server
 * once the rule stayed unchanged for `debounceMs` (so not at every keystroke), and only the answer to the latest
 * rule is kept (an older, slower answer never replaces it). `rule()` is null while the rule is unfinished: nothing is
 * sent then. A rule the server refuses (invalid_segment_rule) keeps the server's message, whose path names the node
 * at fault (`rulePath`); any other failure is said in the user's language.
 */
export function useSegmentCount(rule: () => SegmentsApi.Rule | null, options: { debounceMs?: number } = {}) {
  const debounceMs = options.debounceMs ?? COUNT_DEBOUNCE_MS
  const customers = ref<number | null>(null)
  const sample = ref<SegmentsApi.SampleCustomer[]>([])
  /** the server's microseconds for the count shown */
  const tookUs = ref(0)
  /** the server's message for a refused rule ('' otherwise) */
  const ruleError = ref('')
  /** the path of the node that message is about ('' for none) */
  const rulePath = ref('')
  /** any other failure, in the user's language */
  const error = ref('')
  /** a count is waiting for the typing to pause, or under way */
  const loading = ref(false)
  const incomplete = ref(false)

  const key = computed(() => {
    const r = rule()
    return r ? JSON.stringify(r) : ''
  })

  let latest = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const stopTimer = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
  }

  async function count(text: string): Promise<void> {
    stopTimer()
    const ticket = ++latest
    loading.value = true
    try {
      const res = await countSegmentApi({ rule: JSON.parse(text) as SegmentsApi.Rule })
      if (ticket !== latest) return
      customers.value = res.customers
      sample.value = res.sample
      tookUs.value = res.took_us
      ruleError.value = ''
      rulePath.value = ''
      error.value = ''
    } catch (e) {
      if (ticket !== latest) return
      // The count said nothing of this rule: no count is better than the last rule's.
      customers.value = null
      sample.value = []
      const refused = e instanceof ApiError && e.reason === 'invalid_segment_rule'
      ruleError.value = refused ? e.message : ''
      rulePath.value = refused ? rulePathOf(e.message) : ''
      error.value = refused ? '' : errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  function schedule(text: string) {
    stopTimer()
    if (!text) {
      // Unfinished: nothing is sent, and an answer under way (for an earlier rule) is dropped.
      latest++
      incomplete.value = true
      loading.value = false
      customers.value = null
      sample.value = []
      ruleError.value = ''
      rulePath.value = ''
      error.value = ''
      return
    }
    incomplete.value = false
    loading.value = true
    timer = setTimeout(() => void count(text), debounceMs)
  }
  watch(key, schedule, { immediate: true })

  /** Counts the rule again now (e.g. after the segment was saved, or to retry). */
  async function refresh(): Promise<void> {
    if (key.value) await count(key.value)
  }

  onScopeDispose(() => {
    stopTimer()
    latest++
  })

  const state = computed<CountState>(() => {
    if (incomplete.value) return 'incomplete'
    if (ruleError.value || error.value) return 'failed'
    if (customers.value === null) return 'counting'
    return 'counted'
  })

  return { customers, sample, tookUs, ruleError, rulePath, error, loading, incomplete, state, refresh }
}
