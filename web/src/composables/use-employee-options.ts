import { ref } from 'vue'
import { errorText } from '@/api/request'
import { listWecomEmployeesApi, type WecomApi } from '@/api/wecom'

/** WeCom's status of a member who left the company (a resigned employee cannot be bound). */
export const RESIGNED = 5

export interface EmployeeOption {
  userid: string
  name: string
  /** department and position, to tell namesakes apart */
  detail: string
  resigned: boolean
}

export function employeeOption(e: WecomApi.Employee): EmployeeOption {
  return {
    userid: e.userid,
    name: e.name || e.userid,
    detail: [e.main_department_name, e.position].filter((x) => x).join(' · '),
    resigned: e.status === RESIGNED,
  }
}

/**
 * The choices of an employee picker, searched on the server (name or userid) as the user types; only the answer to
 * the latest search is kept. The names of every employee seen (or remembered) are kept too, so that a selected
 * employee keeps its label when a later search no longer lists it.
 */
export function useEmployeeOptions(pageSize = 20) {
  const options = ref<EmployeeOption[]>([])
  const loading = ref(false)
  const error = ref('')
  const names = ref<Record<string, string>>({})
  let latest = 0

  async function search(q = ''): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const page = await listWecomEmployeesApi(1, pageSize, q.trim())
      if (ticket !== latest) return
      options.value = page.items.map(employeeOption)
      for (const o of options.value) names.value[o.userid] = o.name
      error.value = ''
    } catch (e) {
      if (ticket !== latest) return
      options.value = []
      error.value = errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /** Records an employee's name learnt elsewhere (e.g. a binding being changed). */
  function remember(userid: string, name: string) {
    if (userid && name) names.value[userid] = name
  }

  /** The choices followed by the selected employees the latest search did not return (labelled by name when known). */
  function withSelected(selected: readonly string[]): EmployeeOption[] {
    const listed = new Set(options.value.map((o) => o.userid))
    const missing = selected
      .filter((u) => u && !listed.has(u))
      .map((u) => ({ userid: u, name: names.value[u] ?? u, detail: '', resigned: false }))
    return [...options.value, ...missing]
  }

  return { options, loading, error, search, remember, withSelected }
}
