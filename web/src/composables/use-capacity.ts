import { computed, ref } from 'vue'
import { getCapacityApi, setCorpVerifiedApi, type CustomersApi } from '@/api/customers'
import { errorText } from '@/api/request'

/** How full the corp is, in whole percent for el-progress (0–100; a limit of 0 or less counts as none). */
export function capacityPercent(c: Pick<CustomersApi.Capacity, 'customers' | 'limit'>): number {
  if (c.limit <= 0) return 0
  return Math.min(100, Math.floor((c.customers * 100) / c.limit))
}

/** el-progress's status (its colour) for a level. */
export function capacityStatus(level: CustomersApi.CapacityLevel): '' | 'warning' | 'exception' {
  return level === 'critical' ? 'exception' : level === 'warning' ? 'warning' : ''
}

/** Whether the level asks for a warning. */
export const capacityWarns = (level: CustomersApi.CapacityLevel) => level === 'warning' || level === 'critical'

/**
 * The corp's capacity (容量预警): its customers against its limit and the employees close to theirs; the admin states
 * whether the corp is verified (WeCom's API does not say), which sets the limit.
 */
export function useCapacity() {
  const data = ref<CustomersApi.Capacity | null>(null)
  const loading = ref(false)
  const error = ref('')
  const saving = ref(false)
  /** the last failed change of corp_verified, in the user's language */
  const saveError = ref('')
  let latest = 0

  async function load(): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const c = await getCapacityApi()
      if (ticket !== latest) return
      data.value = c
      error.value = ''
    } catch (e) {
      if (ticket === latest) error.value = errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** States whether the corp is verified; true once saved (the capacity shown is the server's answer). */
  async function setVerified(verified: boolean): Promise<boolean> {
    if (saving.value) return false
    saving.value = true
    saveError.value = ''
    try {
      const c = await setCorpVerifiedApi(verified)
      latest++ // an older answer must not undo the change shown
      loading.value = false
      data.value = c
      return true
    } catch (e) {
      saveError.value = errorText(e)
      return false
    } finally {
      saving.value = false
    }
  }

  return {
    data, loading, error, saving, saveError, load, setVerified,
    percent: computed(() => (data.value ? capacityPercent(data.value) : 0)),
    warns: computed(() => !!data.value && capacityWarns(data.value.level)),
  }
}
