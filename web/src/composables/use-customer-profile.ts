import { ref } from 'vue'
import { addCustomerNoteApi, getCustomerApi, type CustomersApi } from '@/api/customers'
import { ApiError, errorText } from '@/api/request'
import { stageChange } from './use-stages'
import { fieldChange } from './use-custom-fields'

/** The longest follow-up note, in characters (Unicode code points, as the server counts). */
export const NOTE_MAX = 2000

/** Characters as the server counts them: code points, so that an emoji is one, not two UTF-16 units. */
export function codePoints(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/** The note as the server stores it: without the spaces, tabs and line breaks around it. */
export function trimNote(text: string): string {
  return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '')
}

/** The reason the server would refuse the note with, or '' when it is fine. */
export function noteProblem(text: string): '' | 'note_empty' | 'note_too_long' {
  const body = trimNote(text)
  if (!body) return 'note_empty'
  if (codePoints(body) > NOTE_MAX) return 'note_too_long'
  return ''
}

/**
 * The locale key (under customers.timeline) and values of a timeline entry's text. `employees` names the
 * relationships' employees (userid → name, e.g. from the profile's follows) for the entries that give only the userid;
 * `fieldNames` are the team's custom fields' names, to tell a field_changed entry's field name from its values.
 */
export function timelineText(
  item: CustomersApi.TimelineItem,
  employees: Record<string, string> = {},
  fieldNames: readonly string[] = [],
): { key: string; values: Record<string, string> } {
  const who = item.employee_name || item.userid
  switch (item.kind) {
    case 'tagged':
    case 'untagged':
      // employee_name is who did it in Koi; userid the employee whose relationship was (un)tagged.
      return {
        key: `customers.timeline.${item.kind}`,
        values: { actor: item.employee_name || '—', employee: employees[item.userid] || item.userid, tags: item.detail },
      }
    case 'added':
      return { key: 'customers.timeline.added', values: { employee: who } }
    case 'lost': {
      const by = ['customer', 'employee', 'transfer', 'sync'].includes(item.detail) ? item.detail : 'other'
      return { key: `customers.timeline.lost.${by}`, values: { employee: who } }
    }
    case 'joined_group':
      return { key: 'customers.timeline.joinedGroup', values: { group: item.detail } }
    case 'note':
      return { key: 'customers.timeline.note', values: { author: who } }
    case 'stage_changed': {
      // employee_name is who changed it in Koi; a side without a name is no stage.
      const { from, to } = stageChange(item.detail)
      const actor = item.employee_name || '—'
      if (!from && !to) return { key: 'customers.timeline.other', values: {} }
      const key = !from ? 'set' : !to ? 'cleared' : 'changed'
      return { key: `customers.timeline.stage.${key}`, values: { actor, from, to } }
    }
    case 'remark_changed': {
      // employee_name is who changed it in Koi; userid the employee whose relationship it is; a side may be empty.
      const { from, to } = stageChange(item.detail)
      const values = { actor: item.employee_name || '—', employee: employees[item.userid] || item.userid, from, to }
      if (!from && !to) return { key: 'customers.timeline.other', values: {} }
      const key = !from ? 'set' : !to ? 'cleared' : 'changed'
      return { key: `customers.timeline.remark.${key}`, values }
    }
    case 'field_changed': {
      // employee_name is who changed it in Koi; detail "<field name>: old → new", a side empty for no value.
      const { field, from, to } = fieldChange(item.detail, fieldNames)
      if (!field || (!from && !to)) return { key: 'customers.timeline.other', values: {} }
      const key = !from ? 'set' : !to ? 'cleared' : 'changed'
      return { key: `customers.timeline.field.${key}`, values: { actor: item.employee_name || '—', field, from, to } }
    }
  }
  return { key: 'customers.timeline.other', values: {} }
}

/**
 * One customer's profile (GET /scrm/customers/{id}) and its follow-up notes. `notFound` is set when the customer
 * does not exist or is not one the account may see. Only the answer for the latest customer asked for is kept.
 */
export function useCustomerProfile() {
  const profile = ref<CustomersApi.Profile | null>(null)
  const loading = ref(false)
  const error = ref('')
  const notFound = ref(false)
  const note = ref('')
  const noteError = ref('')
  const adding = ref(false)
  let latest = 0

  async function load(externalUserid: string): Promise<void> {
    const ticket = ++latest
    loading.value = true
    try {
      const p = await getCustomerApi(externalUserid)
      if (ticket !== latest) return
      profile.value = p
      error.value = ''
      notFound.value = false
    } catch (e) {
      if (ticket !== latest) return
      const missing = e instanceof ApiError && (e.reason === 'customer_not_found' || e.status === 404)
      notFound.value = missing
      if (missing) profile.value = null
      error.value = missing ? '' : errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /**
   * Asks for the profile shown again, quietly (e.g. for the timeline after tagging): a failure keeps what is shown,
   * and any load started meanwhile wins.
   */
  async function refresh(): Promise<void> {
    const current = profile.value
    if (!current || loading.value) return
    const ticket = latest
    try {
      const p = await getCustomerApi(current.external_userid)
      if (ticket === latest && profile.value?.external_userid === p.external_userid) profile.value = p
    } catch {
      // what is shown stays
    }
  }

  /**
   * Adds the note typed in `note` (checked here first as the server would); on success it is shown at the top of
   * the notes and of the timeline and the box is emptied. Returns whether it was added.
   */
  async function addNote(): Promise<boolean> {
    const customer = profile.value
    if (!customer || adding.value) return false
    const problem = noteProblem(note.value)
    if (problem) {
      noteError.value = errorText(new ApiError(0, problem, ''))
      return false
    }
    adding.value = true
    noteError.value = ''
    try {
      const added = await addCustomerNoteApi(customer.external_userid, trimNote(note.value))
      if (profile.value?.external_userid === customer.external_userid) {
        const entry: CustomersApi.TimelineItem = { at: added.created_at, kind: 'note', userid: '', employee_name: added.author_name, detail: added.body }
        profile.value = {
          ...profile.value,
          notes: [added, ...profile.value.notes],
          timeline: [entry, ...profile.value.timeline].sort((a, b) => b.at - a.at),
        }
      }
      note.value = ''
      return true
    } catch (e) {
      noteError.value = errorText(e)
      if (e instanceof ApiError && e.reason === 'customer_not_found') notFound.value = true
      return false
    } finally {
      adding.value = false
    }
  }

  return { profile, loading, error, notFound, note, noteError, adding, load, refresh, addNote }
}
