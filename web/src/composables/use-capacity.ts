import { computed, ref } from 'vue'
import { getCapacityApi, setCorpVerifiedApi, type CustomersApi } from '@/api/customers'
import { useAction, useLatestLoad } from './use-async-action'

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
  const { loading, error, load, supersede } = useLatestLoad(
    () => getCapacityApi(),
    (c) => {
      data.value = c
    },
  )
  /** `saveError`: the last failed change of corp_verified, in the user's language */
  const { pending: saving, error: saveError, run } = useAction()

  /** States whether the corp is verified; true once saved (the capacity shown is the server's answer). */
  async function setVerified(verified: boolean): Promise<boolean> {
    const done = await run(async () => {
      const c = await setCorpVerifiedApi(verified)
      supersede() // an older answer must not undo the change shown
      data.value = c
      return true
    })
    return done ?? false
  }

  return {
    data, loading, error, saving, saveError, load, setVerified,
    percent: computed(() => (data.value ? capacityPercent(data.value) : 0)),
    warns: computed(() => !!data.value && capacityWarns(data.value.level)),
  }
}
