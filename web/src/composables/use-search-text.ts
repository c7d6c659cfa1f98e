import { onScopeDispose, ref, watch } from 'vue'

/**
 * A list's search box: `q` as typed, `searched` the text applied to the list (q trimmed, once the typing paused for
 * `debounceMs`, or at once with `now()`).
 */
export function useSearchText(initial = '', debounceMs = 300) {
  const q = ref(initial)
  const searched = ref(initial.trim())
  let timer: ReturnType<typeof setTimeout> | undefined
  const stop = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
  }
  watch(q, () => {
    stop()
    timer = setTimeout(() => (searched.value = q.value.trim()), debounceMs)
  })
  onScopeDispose(stop)

  /** Applies what is typed now (Enter); false when that text was applied already. */
  function now(): boolean {
    stop()
    const next = q.value.trim()
    if (next === searched.value) return false
    searched.value = next
    return true
  }

  /** Types and applies `text` at once (a reset, an address). */
  function set(text: string) {
    stop()
    q.value = text
    searched.value = text.trim()
  }

  return { q, searched, now, set, stop }
}
