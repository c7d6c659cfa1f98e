import { computed, ref } from 'vue'
import { ElMessage } from 'element-plus'
import { getScrmOverviewApi } from '@/api/apps'
import { bindEmployeeApi, listBindingsApi, unbindEmployeeApi, type CustomersApi } from '@/api/customers'
import { ApiError, errorText } from '@/api/request'

/** Answers meaning there is nothing to bind to yet: the members page then hides its WeCom employee column. */
const UNAVAILABLE = new Set(['app_not_activated', 'wecom_not_linked'])

/**
 * Which WeCom employee each member account on the members page is bound to (its data scope for customers), and the
 * admin's bind / unbind. `available` is true once the corp is known to be linked (checkLink), and turns false when
 * an answer says SCRM is not activated or WeCom not linked: there is nothing to bind to then.
 */
export function useBindings() {
  const byAccount = ref<Record<number, CustomersApi.Binding>>({})
  /** whether the team linked its WeCom corp; null until known */
  const linked = ref<boolean | null>(null)
  const refused = ref(false)
  const available = computed(() => linked.value === true && !refused.value)
  const loading = ref(false)
  const error = ref('')
  const binding = ref(false)
  const bindError = ref('')
  const busyIds = ref(new Set<number>())
  const isBusy = (id: number) => busyIds.value.has(id)
  let latest = 0

  /** Whether the corp is linked (GET /scrm/overview). */
  async function checkLink(): Promise<void> {
    try {
      linked.value = (await getScrmOverviewApi()).wecom_authorized
    } catch (e) {
      if (e instanceof ApiError && UNAVAILABLE.has(e.reason)) refused.value = true
      // Otherwise unknown: the column stays hidden; the member list shows its own error when the server is away.
    }
  }

  /** The bindings of these accounts (the rows of the page shown); an older answer never replaces a newer one. */
  async function load(accountIds: number[]): Promise<void> {
    const ticket = ++latest
    if (!accountIds.length) {
      byAccount.value = {}
      loading.value = false
      return
    }
    loading.value = true
    try {
      const res = await listBindingsApi(accountIds)
      if (ticket !== latest) return
      byAccount.value = Object.fromEntries(res.items.map((b) => [b.account_id, b]))
      refused.value = false
      error.value = ''
    } catch (e) {
      if (ticket !== latest) return
      byAccount.value = {}
      if (e instanceof ApiError && UNAVAILABLE.has(e.reason)) {
        refused.value = true
        error.value = ''
      } else {
        error.value = errorText(e)
      }
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  const bindingOf = (accountId: number): CustomersApi.Binding | null => byAccount.value[accountId] ?? null

  /** Binds (or re-binds) the account; the binding, or null with `bindError` set (shown in the dialog). */
  async function bind(accountId: number, userid: string, dataScope: CustomersApi.DataScope): Promise<CustomersApi.Binding | null> {
    binding.value = true
    bindError.value = ''
    try {
      const b = await bindEmployeeApi(accountId, userid, dataScope)
      byAccount.value = { ...byAccount.value, [accountId]: b }
      return b
    } catch (e) {
      bindError.value = errorText(e)
      return null
    } finally {
      binding.value = false
    }
  }

  /** Removes the account's binding (and its row's); a binding already gone elsewhere counts as removed. */
  async function unbind(accountId: number): Promise<boolean> {
    busyIds.value.add(accountId)
    try {
      await unbindEmployeeApi(accountId)
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'binding_not_found')) {
        ElMessage.error(errorText(e))
        return false
      }
    } finally {
      busyIds.value.delete(accountId)
    }
    const next = { ...byAccount.value }
    delete next[accountId]
    byAccount.value = next
    return true
  }

  return {
    byAccount, linked, available, loading, error, binding, bindError, busyIds, isBusy, checkLink, load, bindingOf, bind, unbind,
  }
}
