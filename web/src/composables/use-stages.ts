import { computed, reactive, ref, type Ref } from 'vue'
import {
  createStageApi, deleteStageApi, listStagesApi, renameStageApi, reorderStagesApi, setCustomerStageApi, type CustomersApi,
} from '@/api/customers'
import { ApiError, errorText } from '@/api/request'
import { trimTagName } from './tag-rules'
import { useAction, useItemActions, useLatestLoad } from './use-async-action'

// The rules of customer stages as the server checks them (src/domain/customers/stages.cc).

/** The longest stage name, in characters (Unicode code points, as the server counts). */
export const STAGE_NAME_MAX = 30
/** The most stages a team may have. */
export const STAGES_MAX = 20

export type StageReason = 'stage_name_empty' | 'stage_name_too_long' | 'stage_exists' | 'stage_limit'

/** The name as the server stores it: without the ASCII whitespace around it. */
export const trimStageName = trimTagName

function chars(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

/**
 * Why the server would refuse the name for a new stage (`renaming` unset) or for stage `renaming`, given the team's
 * stages; null when it would take it.
 */
export function stageNameProblem(
  raw: string,
  stages: readonly Pick<CustomersApi.Stage, 'id' | 'name'>[],
  renaming?: number,
): StageReason | null {
  const name = trimStageName(raw)
  if (!name) return 'stage_name_empty'
  if (chars(name) > STAGE_NAME_MAX) return 'stage_name_too_long'
  if (stages.some((s) => s.name === name && s.id !== renaming)) return 'stage_exists'
  if (renaming === undefined && stages.length >= STAGES_MAX) return 'stage_limit'
  return null
}

/** The reason in the user's language (errors.<reason>). */
export const stageReasonText = (reason: string) => errorText(new ApiError(0, reason, ''))

/** The ids in order with the one at `index` moved `delta` places (kept within the list); null when it cannot move. */
export function movedOrder(ids: readonly number[], index: number, delta: number): number[] | null {
  const to = index + delta
  if (index < 0 || index >= ids.length || to < 0 || to >= ids.length || delta === 0) return null
  const out = [...ids]
  const [id] = out.splice(index, 1)
  out.splice(to, 0, id)
  return out
}

/**
 * A stage_changed timeline entry's detail ("old → new"; a side is empty for no stage) as its two names. A detail
 * without the arrow is taken as the new stage.
 */
export function stageChange(detail: string): { from: string; to: string } {
  const at = detail.indexOf(' → ')
  if (at < 0) return { from: '', to: detail.trim() }
  return { from: detail.slice(0, at).trim(), to: detail.slice(at + 3).trim() }
}

/**
 * The stage board (客户阶段): the team's stages in pipeline order with the visible customers in each and in none,
 * and the admin's changes (add, rename, delete, move, the suggested pipeline). After each change the board is loaded
 * again, so that it shows what the server holds.
 */
export function useStages() {
  const items = ref<CustomersApi.Stage[]>([])
  const unstaged = ref(0)
  const { loading, loaded, error, load, supersede } = useLatestLoad(
    () => listStagesApi(),
    (res) => {
      items.value = res.items
      unstaged.value = res.unstaged
    },
  )
  /** `busyIds`: the stages being deleted or moved; `actionError`: the last failed delete or move */
  const { busyIds, actionError, run: runOn, isBusy } = useItemActions<number>()
  const full = computed(() => items.value.length >= STAGES_MAX)

  // ----- the name dialog: a new stage, or a stage's new name -------------------------------------------------

  const form = reactive({ open: false, id: 0, name: '', original: '' })
  const { pending: submitting, error: formError, run: runSubmit } = useAction()

  function openCreate() {
    Object.assign(form, { open: true, id: 0, name: '', original: '' })
    formError.value = ''
  }

  function openRename(stage: CustomersApi.Stage) {
    Object.assign(form, { open: true, id: stage.id, name: stage.name, original: stage.name })
    formError.value = ''
  }

  /** Adds or renames as the dialog says; the name saved, or null (with `formError` set unless nothing changed). */
  async function submit(): Promise<string | null> {
    if (submitting.value) return null
    const problem = stageNameProblem(form.name, items.value, form.id || undefined)
    if (problem) {
      formError.value = stageReasonText(problem)
      return null
    }
    const name = trimStageName(form.name)
    if (form.id && name === form.original) {
      form.open = false
      return null
    }
    return runSubmit(
      async () => {
        if (form.id) await renameStageApi(form.id, name)
        else await createStageApi(name)
        form.open = false
        await load()
        return name
      },
      (e) => {
        if (e instanceof ApiError && e.reason === 'stage_not_found') void load()
      },
    )
  }

  // ----- deleting and moving ---------------------------------------------------------------------------------

  async function withBusy(id: number, action: () => Promise<unknown>): Promise<boolean> {
    try {
      return await runOn(id, action)
    } finally {
      // Shows the board as the server holds it, whether the change was made or not.
      await load()
    }
  }

  /** Deletes a stage (its customers are left in none). */
  const remove = (stage: CustomersApi.Stage) => withBusy(stage.id, () => deleteStageApi(stage.id))

  /** Moves a stage `delta` places along the pipeline (shown at once); sends the whole new order. */
  async function move(stage: CustomersApi.Stage, delta: number): Promise<boolean> {
    const index = items.value.findIndex((s) => s.id === stage.id)
    const order = movedOrder(items.value.map((s) => s.id), index, delta)
    if (!order || busyIds.value.size) return false
    supersede() // an older answer must not undo the move shown
    const byId = new Map(items.value.map((s) => [s.id, s]))
    items.value = order.map((id) => byId.get(id)!)
    return withBusy(stage.id, () => reorderStagesApi(order))
  }

  /**
   * Creates the suggested pipeline (names in the user's language, in order) on an empty board; stops at the first
   * failure. Returns whether all were created.
   */
  const { pending: creatingSuggested, run: runSuggested } = useAction(actionError)
  async function createSuggested(names: readonly string[]): Promise<boolean> {
    if (creatingSuggested.value) return false
    try {
      const done = await runSuggested(async () => {
        for (const name of names) {
          if (items.value.some((s) => s.name === name)) continue
          const stage = await createStageApi(name)
          items.value = [...items.value, stage]
        }
        return true
      })
      return done ?? false
    } finally {
      await load()
    }
  }

  return {
    items, unstaged, loading, loaded, error, actionError, full, load,
    form, formError, submitting, openCreate, openRename, submit,
    remove, move, creatingSuggested, createSuggested, isBusy,
  }
}

/**
 * A customer's stage on the profile: the stages to pick from (the customer's own kept even when the list lacks it)
 * and the change, sent to the server. The caller refreshes the profile afterwards (for the timeline).
 */
export function useCustomerStage(profile: Ref<CustomersApi.Profile | null>) {
  const stages = ref<CustomersApi.Stage[]>([])
  const { pending: saving, error, run } = useAction()

  async function loadStages(): Promise<void> {
    try {
      stages.value = (await listStagesApi()).items
    } catch {
      // The select then offers only the customer's own stage and none; a change still says what went wrong.
    }
  }

  /** id and name of each stage to offer, in pipeline order; the customer's stage first when the list lacks it. */
  const options = computed(() => {
    const out = stages.value.map((s) => ({ id: s.id, name: s.name }))
    const p = profile.value
    if (p?.stage_id && !out.some((s) => s.id === p.stage_id)) out.unshift({ id: p.stage_id, name: p.stage_name || `#${p.stage_id}` })
    return out
  })

  /** The customer's stage id (0: none), for the select. */
  const current = computed(() => profile.value?.stage_id ?? 0)

  /** Puts the customer in stage `id` (0: none); true once done (also when it was already there). */
  async function set(id: number): Promise<boolean> {
    const p = profile.value
    if (!p || saving.value) return false
    if (id === (p.stage_id ?? 0)) return true
    const done = await run(
      async () => {
        const res = await setCustomerStageApi(p.external_userid, id)
        if (profile.value?.external_userid === p.external_userid) {
          profile.value = { ...profile.value, stage_id: res.stage?.id ?? null, stage_name: res.stage?.name ?? '' }
        }
        return true
      },
      (e) => {
        // The stage went away meanwhile: offer the stages there are now.
        if (e instanceof ApiError && e.reason === 'stage_not_found') void loadStages()
      },
    )
    return done ?? false
  }

  return { stages, options, current, saving, error, loadStages, set }
}
