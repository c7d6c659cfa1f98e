import { computed, reactive, ref, type Ref } from 'vue'
import {
  createCustomFieldApi, deleteCustomFieldApi, listCustomFieldsApi, reorderCustomFieldsApi, setCustomerFieldsApi, updateCustomFieldApi,
  type FieldsApi,
} from '@/api/fields'
import type { CustomersApi } from '@/api/customers'
import { ApiError, errorText } from '@/api/request'
import { trimTagName } from './tag-rules'
import { movedOrder } from './use-stages'
import { useAction, useItemActions, useLatestLoad } from './use-async-action'

// The rules of custom fields (自定义字段) as the server checks them (src/domain/customers/fields.h).

/** The longest field name and option label, in characters (Unicode code points, as the server counts). */
export const FIELD_NAME_MAX = 30
export const FIELD_OPTION_MAX = 30
/** The most fields a team may have, and options a choice field may have. */
export const FIELDS_MAX = 50
export const FIELD_OPTIONS_MAX = 100
/** The longest value of a text field. */
export const FIELD_TEXT_MAX = 200
/** The kinds, in the order the kind select lists them. */
export const FIELD_KINDS: readonly FieldsApi.Kind[] = ['text', 'number', 'date', 'select', 'multi_select']

export type FieldReason =
  | 'field_name_empty'
  | 'field_name_too_long'
  | 'field_kind_invalid'
  | 'field_options_empty'
  | 'field_options_too_many'
  | 'field_option_invalid'
  | 'field_option_duplicate'
  | 'field_exists'
  | 'field_limit'

/** Whether a kind's values are options of the field (select: one, multi_select: any number). */
export const isChoice = (kind: string): boolean => kind === 'select' || kind === 'multi_select'

/** A name or label as the server stores it: without the ASCII whitespace around it. */
export const trimFieldText = trimTagName

function chars(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/** The reason in the user's language (errors.<reason>). */
export const fieldReasonText = (reason: string) => errorText(new ApiError(0, reason, ''))

/**
 * Why the server would refuse a field as the form holds it: a new one (`editing` unset) or field `editing`, given the
 * team's fields; null when it would take it.
 */
export function fieldFormProblem(
  form: { name: string; kind: string; options: readonly { label: string }[] },
  fields: readonly Pick<FieldsApi.Field, 'id' | 'name'>[],
  editing?: number,
): FieldReason | null {
  const name = trimFieldText(form.name)
  if (!name) return 'field_name_empty'
  if (chars(name) > FIELD_NAME_MAX) return 'field_name_too_long'
  if (!(FIELD_KINDS as readonly string[]).includes(form.kind)) return 'field_kind_invalid'
  if (isChoice(form.kind)) {
    const labels = form.options.map((o) => trimFieldText(o.label))
    if (!labels.length) return 'field_options_empty'
    if (labels.length > FIELD_OPTIONS_MAX) return 'field_options_too_many'
    if (labels.some((l) => !l || chars(l) > FIELD_OPTION_MAX)) return 'field_option_invalid'
    if (new Set(labels).size !== labels.length) return 'field_option_duplicate'
  }
  if (fields.some((f) => f.name === name && f.id !== editing)) return 'field_exists'
  if (editing === undefined && fields.length >= FIELDS_MAX) return 'field_limit'
  return null
}

// ----- values ---------------------------------------------------------------------------------------------------

const NUMBER = /^-?\d{1,15}(\.\d{1,6})?$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Whether "YYYY-MM-DD" is a real day between 1900 and 2100, as the server checks. */
export function isFieldDate(value: string): boolean {
  const m = DATE.exec(value)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (y < 1900 || y > 2100 || mo < 1 || mo > 12 || d < 1) return false
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate()
}

/**
 * Whether the server would refuse a value typed for a text, number or date field ('' clears it, which is fine); the
 * kind of problem, or null.
 */
export function fieldValueProblem(kind: FieldsApi.Kind, raw: string): 'text' | 'number' | 'date' | null {
  const v = trimFieldText(raw)
  if (!v) return null
  if (kind === 'text') return chars(v) > FIELD_TEXT_MAX ? 'text' : null
  if (kind === 'number') return NUMBER.test(v) ? null : 'number'
  if (kind === 'date') return isFieldDate(v) ? null : 'date'
  return null
}

/** A value as the profile shows it: the text, or the chosen options' labels (an unknown option as #id); '' for none. */
export function fieldValueText(field: Pick<FieldsApi.Field, 'kind' | 'options'>, value: FieldsApi.Value | undefined, separator = '、'): string {
  if (!value) return ''
  if (!isChoice(field.kind)) return value.value
  return value.option_ids.map((id) => field.options.find((o) => o.id === id)?.label ?? `#${id}`).join(separator)
}

/**
 * A field_changed timeline entry's detail ("<field name>: old → new", a side empty for no value) as its parts. A name
 * among `names` that the detail starts with wins (a name may hold ": " itself); otherwise the name ends at the first
 * ": ".
 */
export function fieldChange(detail: string, names: readonly string[] = []): { field: string; from: string; to: string } {
  const known = names.filter((n) => detail.startsWith(`${n}:`)).sort((a, b) => b.length - a.length)[0]
  const colon = known !== undefined ? known.length : detail.indexOf(':')
  const field = (colon < 0 ? '' : detail.slice(0, colon)).trim()
  const rest = colon < 0 ? detail : detail.slice(colon + 1)
  const at = rest.indexOf(' → ')
  if (at < 0) return { field, from: '', to: rest.trim() }
  return { field, from: rest.slice(0, at).trim(), to: rest.slice(at + 3).trim() }
}

// ----- the settings page ------------------------------------------------------------------------------------------

/** An option row of the form: `id` 0 for a new one; `key` tells rows apart while they are edited (never sent). */
export interface OptionRow {
  key: number
  id: number
  label: string
}

let lastKey = 0
const row = (id = 0, label = ''): OptionRow => ({ key: ++lastKey, id, label })

/**
 * The custom fields (自定义字段) of the team in their order, and the admin's changes: add, edit (name and, for a
 * choice field, its options), delete, move. After each change the list is loaded again, so that it shows what the
 * server holds.
 */
export function useCustomFields() {
  const items = ref<FieldsApi.Field[]>([])
  const { loading, loaded, error, load, supersede } = useLatestLoad(
    () => listCustomFieldsApi({ counts: true }),
    (res) => {
      items.value = res.items
    },
  )
  const { busyIds, actionError, run: runOn, isBusy } = useItemActions<number>()
  const full = computed(() => items.value.length >= FIELDS_MAX)

  // ----- the dialog: a new field, or a field's changes -------------------------------------------------------

  const form = reactive({ open: false, id: 0, name: '', kind: 'text' as FieldsApi.Kind, options: [] as OptionRow[] })
  const { pending: submitting, error: formError, run: runSubmit } = useAction()
  /** the field as it was when the dialog opened (null for a new one) */
  const original = ref<FieldsApi.Field | null>(null)

  function openCreate() {
    Object.assign(form, { open: true, id: 0, name: '', kind: 'text', options: [row()] })
    original.value = null
    formError.value = ''
  }

  function openEdit(field: FieldsApi.Field) {
    Object.assign(form, { open: true, id: field.id, name: field.name, kind: field.kind, options: field.options.map((o) => row(o.id, o.label)) })
    original.value = field
    formError.value = ''
  }

  function addOption(): OptionRow | null {
    if (form.options.length >= FIELD_OPTIONS_MAX) return null
    const r = row()
    form.options.push(r)
    return r
  }

  function removeOption(key: number) {
    const i = form.options.findIndex((o) => o.key === key)
    if (i >= 0) form.options.splice(i, 1)
  }

  function moveOption(key: number, delta: number) {
    const i = form.options.findIndex((o) => o.key === key)
    const order = movedOrder(form.options.map((o) => o.key), i, delta)
    if (!order) return
    const byKey = new Map(form.options.map((o) => [o.key, o]))
    form.options = order.map((k) => byKey.get(k)!)
  }

  /** The existing options the form leaves out (they would be taken off every customer). */
  const removedOptions = computed<FieldsApi.Option[]>(() => {
    const field = original.value
    if (!field || !form.open || !isChoice(field.kind)) return []
    const kept = new Set(form.options.map((o) => o.id).filter((id) => id !== 0))
    return field.options.filter((o) => !kept.has(o.id))
  })

  /** The edit request of the form against the field as it was: only what changed (an empty object: nothing). */
  function changes(field: FieldsApi.Field): FieldsApi.UpdateRequest {
    const body: FieldsApi.UpdateRequest = {}
    const name = trimFieldText(form.name)
    if (name !== field.name) body.name = name
    if (isChoice(field.kind)) {
      const options = form.options.map((o) => ({ id: o.id, label: trimFieldText(o.label) }))
      const same = options.length === field.options.length && options.every((o, i) => o.id === field.options[i].id && o.label === field.options[i].label)
      if (!same) body.options = options.map((o) => (o.id ? { id: o.id, label: o.label } : { label: o.label }))
    }
    return body
  }

  /**
   * Checks the form as the server would, then says what sending it would do: `invalid` (formError set), `unchanged`
   * (an edit changing nothing), or `ready`.
   */
  function check(): 'invalid' | 'unchanged' | 'ready' {
    const problem = fieldFormProblem(form, items.value, form.id || undefined)
    if (problem) {
      formError.value = fieldReasonText(problem)
      return 'invalid'
    }
    formError.value = ''
    if (original.value && !Object.keys(changes(original.value)).length) return 'unchanged'
    return 'ready'
  }

  /** Adds or changes the field as the dialog says (check() first); the field saved, or null with `formError` set. */
  async function submit(): Promise<FieldsApi.Field | null> {
    if (submitting.value) return null
    const state = check()
    if (state === 'invalid') return null
    if (state === 'unchanged') {
      form.open = false
      return null
    }
    const field = original.value
    return runSubmit(
      async () => {
        const saved = field
          ? await updateCustomFieldApi(field.id, changes(field))
          : await createCustomFieldApi({
            name: trimFieldText(form.name),
            kind: form.kind,
            ...(isChoice(form.kind) ? { options: form.options.map((o) => trimFieldText(o.label)) } : {}),
          })
        form.open = false
        await load()
        return saved
      },
      (e) => {
        if (e instanceof ApiError && e.reason === 'field_not_found') void load()
      },
    )
  }

  // ----- deleting and moving ---------------------------------------------------------------------------------

  async function withBusy(id: number, action: () => Promise<unknown>): Promise<boolean> {
    try {
      return await runOn(id, action)
    } finally {
      await load()
    }
  }

  /** Deletes a field (and every customer's value of it). */
  const remove = (field: FieldsApi.Field) => withBusy(field.id, () => deleteCustomFieldApi(field.id))

  /** Moves a field `delta` places (shown at once); sends the whole new order. */
  async function move(field: FieldsApi.Field, delta: number): Promise<boolean> {
    const index = items.value.findIndex((f) => f.id === field.id)
    const order = movedOrder(items.value.map((f) => f.id), index, delta)
    if (!order || busyIds.value.size) return false
    supersede()
    const byId = new Map(items.value.map((f) => [f.id, f]))
    items.value = order.map((id) => byId.get(id)!)
    return withBusy(field.id, () => reorderCustomFieldsApi(order))
  }

  return {
    items, loading, loaded, error, actionError, full, load,
    form, formError, submitting, original, removedOptions, openCreate, openEdit, addOption, removeOption, moveOption, check, submit,
    remove, move, isBusy,
  }
}

// ----- a customer's values on the profile -------------------------------------------------------------------------

/** The form's value of one field: text for text, number and date fields, option ids for choice fields. */
export type FieldDraft = { text: string; options: number[] }
/** Why a value would be refused: too long a text, not a number, not a date, more than one option of a select. */
export type FieldValueIssue = 'text' | 'number' | 'date' | 'select'

/**
 * The custom fields of a customer on the profile: the team's fields (loaded here), the customer's values, and the
 * edit dialog, which sends only the fields that changed and shows the customer's values as the server answers.
 */
export function useCustomerFields(profile: Ref<CustomersApi.Profile | null>) {
  const fields = ref<FieldsApi.Field[]>([])
  const { loading, loaded, error: loadError, load } = useLatestLoad(
    () => listCustomFieldsApi(),
    (res) => {
      fields.value = res.items
    },
  )
  const open = ref(false)
  const drafts = ref<Record<number, FieldDraft>>({})
  const { pending: saving, error, run } = useAction()

  const valueOf = (fieldId: number): FieldsApi.Value | undefined => profile.value?.fields?.find((v) => v.field_id === fieldId)

  /** each field of the team with the customer's value (undefined: none), in the team's order */
  const rows = computed(() => fields.value.map((field) => ({ field, value: valueOf(field.id) })))

  const draftOf = (field: FieldsApi.Field): FieldDraft => {
    const v = valueOf(field.id)
    return { text: isChoice(field.kind) ? '' : (v?.value ?? ''), options: isChoice(field.kind) ? [...(v?.option_ids ?? [])] : [] }
  }

  function start() {
    drafts.value = Object.fromEntries(fields.value.map((f) => [f.id, draftOf(f)]))
    error.value = ''
    open.value = true
  }

  /** The changed fields as the API takes them. */
  const edits = computed<FieldsApi.ValueEdit[]>(() => {
    const out: FieldsApi.ValueEdit[] = []
    for (const field of fields.value) {
      const draft = drafts.value[field.id]
      if (!draft) continue
      const was = draftOf(field)
      if (isChoice(field.kind)) {
        const a = [...draft.options].sort((x, y) => x - y)
        const b = [...was.options].sort((x, y) => x - y)
        if (a.length !== b.length || a.some((x, i) => x !== b[i])) out.push({ field_id: field.id, option_ids: [...draft.options] })
      } else {
        const text = trimFieldText(draft.text ?? '')
        if (text !== was.text) out.push({ field_id: field.id, value: text })
      }
    }
    return out
  })

  /** The values the server would refuse, by field id (none: all fine), in the team's order of fields. */
  const issues = computed(() => {
    const out = new Map<number, FieldValueIssue>()
    for (const field of fields.value) {
      const draft = drafts.value[field.id]
      if (!draft) continue
      if (field.kind === 'select' && draft.options.length > 1) out.set(field.id, 'select')
      else if (!isChoice(field.kind)) {
        const p = fieldValueProblem(field.kind, draft.text ?? '')
        if (p) out.set(field.id, p)
      }
    }
    return out
  })

  /**
   * Sends the changed fields; true once saved (the profile then shows the values the server answered), false when
   * nothing changed or it failed (`error` set).
   */
  async function save(): Promise<boolean> {
    const p = profile.value
    if (!p || saving.value || issues.value.size) return false
    const changed = edits.value
    if (!changed.length) {
      open.value = false
      return false
    }
    const done = await run(
      async () => {
        const res = await setCustomerFieldsApi(p.external_userid, changed)
        if (profile.value?.external_userid === p.external_userid) profile.value = { ...profile.value, fields: res.fields }
        open.value = false
        return true
      },
      (e) => {
        // A field went away meanwhile: offer the fields there are now.
        if (e instanceof ApiError && e.reason === 'field_not_found') void load()
      },
    )
    return done ?? false
  }

  return { fields, rows, loading, loaded, loadError, load, open, drafts, edits, saving, error, issues, start, save }
}
