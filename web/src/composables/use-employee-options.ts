import { listWecomEmployeesApi, type WecomApi } from '@/api/wecom'
import { useRemoteOptions } from './use-remote-options'

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
  return useRemoteOptions({
    fetch: (q) => listWecomEmployeesApi(1, pageSize, q),
    toOption: employeeOption,
    idOf: (o) => o.userid,
    missing: (userid, name): EmployeeOption => ({ userid, name, detail: '', resigned: false }),
  })
}
