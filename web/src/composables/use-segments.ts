import { computed, ref } from 'vue'
import {
  createSegmentApi, deleteSegmentApi, getSegmentApi, listSegmentsApi, segmentSendersApi, updateSegmentApi, type SegmentsApi,
} from '@/api/segments'
import {
  listPersonalTagsApi, listScrmDepartmentsApi, listScrmTagsApi, listStagesApi, type CustomersApi,
} from '@/api/customers'
import { listCustomFieldsApi, type FieldsApi } from '@/api/fields'
import { ApiError, errorText } from '@/api/request'
import { i18n } from '@/locales'
import { completeRule, emptyRule, fromRule, ruleKey, type EditorGroup } from './segment-rule'
import { trimTagName } from './tag-rules'
import { departmentTree } from './use-customers'
import { isChoice } from './use-custom-fields'
import { useAction, useItemActions, useLatestLoad } from './use-async-action'
import { usePagedList } from './use-paged-list'

// The rules of saved segments as the server checks them (src/domain/segments/segments.h).

/** The longest segment name, in characters (Unicode code points, as the server counts). */
export const SEGMENT_NAME_MAX = 30
/** The most segments a team keeps. */
export const SEGMENTS_MAX = 500

/** The name as the server stores it: without the ASCII whitespace around it. */
export const trimSegmentName = trimTagName

/** Why the server would refuse the name (invalid_segment_name), or null. */
export function segmentNameProblem(raw: string): 'invalid_segment_name' | null {
  const name = trimSegmentName(raw)
  const chars = [...name].length
  return chars === 0 || chars > SEGMENT_NAME_MAX ? 'invalid_segment_name' : null
}

/**
 * A failure in the user's language; a refused rule (invalid_segment_rule) also says the server's message, which names
 * the node at fault ("rule.children[1].values[0]: no such corp tag").
 */
export function segmentErrorText(e: unknown): string {
  if (e instanceof ApiError && e.reason === 'invalid_segment_rule' && e.message) {
    return i18n.global.t('segments.ruleRefused', { message: e.message })
  }
  return errorText(e)
}

/** Whether the caller may change or delete a segment: its creator or an admin (else 403 segment_not_yours). */
export function canChangeSegment(
  segment: Pick<SegmentsApi.Segment, 'created_by'> | null | undefined,
  who: { accountId: number | null | undefined; isAdmin: boolean },
): boolean {
  if (!segment) return true // a new one
  return who.isAdmin || (who.accountId !== null && who.accountId !== undefined && segment.created_by === who.accountId)
}

/**
 * The saved segments (客户分群), a page at a time from the server (most recently changed first), each with its size
 * now or the problem that keeps it from being counted; deleting one.
 */
export function useSegmentList(pageSize = 20) {
  const list = usePagedList<SegmentsApi.Segment>((page, size) => listSegmentsApi(page, size), pageSize)
  /** the list was loaded at least once (the empty state waits for it) */
  const loaded = ref(false)
  /** `actionError`: the last failed delete, in the user's language */
  const { actionError, run, isBusy } = useItemActions<number>()

  async function load(page?: number): Promise<void> {
    await list.load(page)
    if (!list.error.value) loaded.value = true
  }

  /** Deletes a segment (its history too); the list is loaded again either way. */
  async function remove(segment: SegmentsApi.Segment): Promise<boolean> {
    const done = await run(segment.id, () => deleteSegmentApi(segment.id))
    await list.load()
    return done
  }

  return { ...list, loaded, load, actionError, remove, isBusy }
}

/**
 * One segment in the editor: its name and rule tree as edited, the segment as saved (with its size history), and
 * saving (a new segment is created, a saved one changed: only what changed is sent). `dirty` says whether the name or
 * the rule differ from what is saved.
 */
export function useSegmentEditor() {
  const segment = ref<SegmentsApi.Segment | null>(null)
  const root = ref<EditorGroup>(emptyRule())
  const name = ref('')
  const savedName = ref('')
  const savedKey = ref(ruleKey(root.value))
  const loading = ref(false)
  const error = ref('')
  const notFound = ref(false)
  const { pending: saving, error: saveError, run: runSave } = useAction()
  let latest = 0

  const dirty = computed(() => trimSegmentName(name.value) !== savedName.value || ruleKey(root.value) !== savedKey.value)

  /** Shows a segment as saved: the editor takes its name and rule. */
  function apply(s: SegmentsApi.Segment) {
    segment.value = s
    root.value = fromRule(s.rule)
    name.value = s.name
    savedName.value = s.name
    savedKey.value = ruleKey(root.value)
  }

  /** Starts a new segment (everyone, unnamed). */
  function startNew() {
    latest++
    loading.value = false
    segment.value = null
    root.value = emptyRule()
    name.value = ''
    savedName.value = ''
    savedKey.value = ruleKey(root.value)
    error.value = ''
    saveError.value = ''
    notFound.value = false
  }

  /** Loads segment `id` into the editor (only the latest load counts). */
  async function load(id: number): Promise<void> {
    const ticket = ++latest
    loading.value = true
    notFound.value = false
    error.value = ''
    saveError.value = ''
    try {
      const s = await getSegmentApi(id)
      if (ticket === latest) apply(s)
    } catch (e) {
      if (ticket !== latest) return
      if (e instanceof ApiError && e.reason === 'segment_not_found') notFound.value = true
      else error.value = errorText(e)
    } finally {
      if (ticket === latest) loading.value = false
    }
  }

  /**
   * Loads the saved segment again (its size, history and problem) without touching the name and rule being edited;
   * e.g. after its customers were tagged.
   */
  async function refresh(): Promise<void> {
    const current = segment.value
    if (!current) return
    const ticket = latest
    try {
      const s = await getSegmentApi(current.id)
      if (ticket !== latest || segment.value?.id !== s.id) return
      segment.value = s
    } catch {
      // The editor keeps what it shows; the next save or load says what is wrong.
    }
  }

  /** Saves the name and the rule: the segment as the server answered, or null with `saveError` set. */
  async function save(): Promise<SegmentsApi.Segment | null> {
    if (saving.value) return null
    const problem = segmentNameProblem(name.value)
    if (problem) {
      saveError.value = errorText(new ApiError(0, problem, ''))
      return null
    }
    const rule = completeRule(root.value)
    if (!rule) {
      saveError.value = i18n.global.t('segments.editor.unfinishedSave')
      return null
    }
    const current = segment.value
    const trimmed = trimSegmentName(name.value)
    return runSave(
      async () => {
        let saved: SegmentsApi.Segment
        if (current) {
          const body: SegmentsApi.UpdateRequest = {}
          if (trimmed !== savedName.value) body.name = trimmed
          if (ruleKey(root.value) !== savedKey.value) body.rule = rule
          saved = await updateSegmentApi(current.id, body)
        } else {
          saved = await createSegmentApi({ name: trimmed, rule })
        }
        latest++
        loading.value = false
        apply(saved)
        return saved
      },
      (e) => {
        saveError.value = segmentErrorText(e)
      },
    )
  }

  return { segment, root, name, dirty, loading, error, notFound, saving, saveError, load, refresh, startNew, save }
}

/**
 * Who would send to a saved segment's customers in a mass message: one employee per customer, the one whose active
 * relationship was added most recently; asked for when wanted (it reads every matching relationship).
 */
export function useSegmentSenders(segmentId: () => number | null) {
  const plan = ref<SegmentsApi.Senders | null>(null)
  const { loading, loaded, error, load: loadLatest, supersede } = useLatestLoad(
    () => segmentSendersApi({ segment_id: segmentId() ?? 0 }),
    (res) => {
      plan.value = res
    },
  )

  async function load(): Promise<void> {
    if (segmentId() === null) return
    await loadLatest()
  }

  /** Forgets the plan shown (another segment, or its rule changed). */
  function clear() {
    supersede()
    plan.value = null
    loaded.value = false
    error.value = ''
  }

  /** Each sender's share of the customers, in percent (rounded), for the bars. */
  const shares = computed(() => {
    const p = plan.value
    if (!p || p.customers <= 0) return [] as number[]
    return p.senders.map((s) => Math.round((s.customers * 100) / p.customers))
  })

  return { plan, shares, loading, loaded, error, load, clear }
}

/** Whether a custom field's values can be tested as a range (custom_value): number and date fields. */
export const isValueField = (kind: string): kind is 'number' | 'date' => kind === 'number' || kind === 'date'

/**
 * What a rule's conditions can name: the corp tag groups, the caller's personal tags, the departments (as a tree),
 * the stages, the choice custom fields with their options, the number and date custom fields. A list that fails to
 * load just offers nothing (the count says what is wrong with the rule).
 */
/** `allPersonalTags`: an admin's choices hold every member's personal tags (named with their owner). */
export function useSegmentChoices(options: { allPersonalTags?: boolean } = {}) {
  const tagGroups = ref<CustomersApi.TagGroup[]>([])
  const personalTags = ref<CustomersApi.PersonalTag[]>([])
  const departments = ref<CustomersApi.Department[]>([])
  const stages = ref<CustomersApi.Stage[]>([])
  const customFields = ref<FieldsApi.Field[]>([])
  /** the number and date custom fields (custom_value) */
  const valueFields = ref<FieldsApi.Field[]>([])
  /** the custom fields were loaded (a hint that the team has none waits for them) */
  const fieldsLoaded = ref(false)

  async function loadFields(): Promise<void> {
    try {
      const items = (await listCustomFieldsApi()).items
      customFields.value = items.filter((f) => isChoice(f.kind))
      valueFields.value = items.filter((f) => isValueField(f.kind))
      fieldsLoaded.value = true
    } catch {
      // no custom field options to pick then
    }
  }

  async function load(): Promise<void> {
    // Not waited for: the other lists need not wait for the custom fields.
    void loadFields()
    const [t, p, d, s] = await Promise.allSettled([
      listScrmTagsApi(), listPersonalTagsApi(options.allPersonalTags ? 'team' : 'own'), listScrmDepartmentsApi(), listStagesApi(),
    ])
    if (t.status === 'fulfilled') tagGroups.value = t.value.items
    if (p.status === 'fulfilled') personalTags.value = p.value.items
    if (d.status === 'fulfilled') departments.value = d.value.items
    if (s.status === 'fulfilled') stages.value = s.value.items
  }

  return {
    tagGroups, personalTags, departments, stages, customFields, valueFields, fieldsLoaded, load,
    allPersonalTags: options.allPersonalTags === true,
    departmentTree: computed(() => departmentTree(departments.value)),
  }
}

// ----- the size history chart ------------------------------------------------------------------------------------

export interface ChartPoint {
  x: number
  y: number
  day: string
  customers: number
}

export interface SizeChart {
  points: ChartPoint[]
  /** the SVG path of the line ('' for no points) */
  line: string
  /** the top of the scale (a round number at or above the largest size) and its y */
  max: number
  /** the first and the last day shown */
  from: string
  to: string
}

/** Days since 1970-01-01 of "YYYY-MM-DD" (NaN when malformed). */
function dayNumber(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000 : NaN
}

/** The top of a 0-based scale: 1, 2, 3, 4, 6 or 8 times a power of ten at or above n, at least 4 (halves stay whole). */
export function niceMax(n: number): number {
  if (!(n > 4)) return 4
  const p = 10 ** Math.floor(Math.log10(n))
  for (const f of [1, 2, 3, 4, 6, 8]) if (f * p >= n) return f * p
  return 10 * p
}

/**
 * The size history as a line in a `width` × `height` box (y down, 0 customers at the bottom): days placed by their
 * date (a day without a record leaves a gap in x, not a kink), sizes on a 0-based round scale. One point is drawn in
 * the middle.
 */
export function sizeChart(history: readonly SegmentsApi.SizePoint[], width: number, height: number): SizeChart {
  const rows = history.filter((h) => Number.isFinite(dayNumber(h.day))).sort((a, b) => dayNumber(a.day) - dayNumber(b.day))
  const max = niceMax(Math.max(0, ...rows.map((r) => r.customers)))
  if (!rows.length) return { points: [], line: '', max, from: '', to: '' }
  const first = dayNumber(rows[0].day)
  const span = dayNumber(rows[rows.length - 1].day) - first
  const round = (v: number) => Math.round(v * 10) / 10
  const points = rows.map((r) => ({
    x: round(span > 0 ? ((dayNumber(r.day) - first) / span) * width : width / 2),
    y: round(height - (Math.max(0, r.customers) / max) * height),
    day: r.day,
    customers: r.customers,
  }))
  const line = points.map((p, i) => `${i ? 'L' : 'M'}${p.x} ${p.y}`).join(' ')
  return { points, line, max, from: rows[0].day, to: rows[rows.length - 1].day }
}
