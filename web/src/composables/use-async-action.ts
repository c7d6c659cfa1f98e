import { ref, type Ref } from 'vue'
import { errorText } from '@/api/request'

/**
 * A load of which only the latest answer counts: `apply` gets it, `loading` is set while the latest is under way,
 * `error` holds its failure in the user's language ('' after one succeeded) and `loaded` is set once one succeeded.
 * `supersede()` drops the answers under way (when a change shown must not be undone by an older answer). `fail` is
 * called when the latest load fails (after `error` was set).
 */
export function useLatestLoad<T>(fetch: () => Promise<T>, apply: (value: T) => void, fail?: () => void) {
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref('')
  let latest = 0

  async function load(): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const value = await fetch()
      if (ticket !== latest) return
      apply(value)
      error.value = ''
      loaded.value = true
    } catch (e) {
      if (ticket !== latest) return
      error.value = errorText(e)
      fail?.()
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  function supersede() {
    latest++
    loading.value = false
  }

  return { loading, loaded, error, load, supersede }
}

/**
 * One action at a time: `pending` while it runs, `error` its failure in the user's language (cleared as one starts;
 * pass a ref to share it with other actions). `run` returns what the action returned, or null when it failed or
 * another was under way; `onError` then sees the failure (after `error` was set).
 */
export function useAction(error: Ref<string> = ref('')) {
  const pending = ref(false)

  async function run<T>(action: () => Promise<T>, onError?: (e: unknown) => void): Promise<T | null> {
    if (pending.value) return null
    pending.value = true
    error.value = ''
    try {
      return await action()
    } catch (e) {
      error.value = errorText(e)
      onError?.(e)
      return null
    } finally {
      pending.value = false
    }
  }

  return { pending, error, run }
}

/**
 * Actions on the items of a list, by id, several at once: which items are busy, and the last failure in the user's
 * language ('' once another starts). `run` says whether the action succeeded; `onError` sees a failure.
 */
export function useItemActions<K>() {
  const busyIds = ref(new Set<K>()) as Ref<Set<K>>
  const actionError = ref('')

  async function run(id: K, action: () => Promise<unknown>, onError?: (e: unknown) => void): Promise<boolean> {
    busyIds.value.add(id)
    actionError.value = ''
    try {
      await action()
      return true
    } catch (e) {
      actionError.value = errorText(e)
      onError?.(e)
      return false
    } finally {
      busyIds.value.delete(id)
    }
  }

  const isBusy = (id: K) => busyIds.value.has(id)

  return { busyIds, actionError, run, isBusy }
}
