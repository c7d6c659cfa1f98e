import { computed, reactive, ref } from 'vue'
import {
  createScrmTagsApi, deleteScrmTagApi, deleteScrmTagGroupApi, listScrmTagsApi, renameScrmTagApi, renameScrmTagGroupApi,
  type CustomersApi,
} from '@/api/customers'
import { getWecomStateApi } from '@/api/wecom'
import { ApiError, errorText } from '@/api/request'
import { i18n } from '@/locales'
import {
  CORP_TAGS_MAX, corpTagCount, freshTagCount, splitTagNames, tagNameProblem, tagNamesProblem, trimTagName, type TagProblem,
} from './tag-rules'
import { useAction, useItemActions, useLatestLoad } from './use-async-action'

/**
 * A problem in the user's language: tags.problems.<reason> naming the name at fault when there is one, else the
 * server's text for the reason (errors.<reason>).
 */
export function tagProblemText(problem: TagProblem): string {
  const key = `tags.problems.${problem.reason}`
  if (problem.name !== undefined && i18n.global.te(key)) return i18n.global.t(key, { name: problem.name })
  return errorText(new ApiError(0, problem.reason, ''))
}

export type RenameKind = 'tag' | 'group'

/**
 * The enterprise tag library (企业标签, WeCom's corp tags) and the admin's changes to it: create tags (in a new group
 * or an existing one), rename and delete tags and groups. Every change is written to WeCom by the server, which then
 * mirrors WeCom's library; the list is loaded again afterwards so that it shows what WeCom holds.
 */
export function useTagLibrary() {
  const groups = ref<CustomersApi.TagGroup[]>([])
  /** `loaded`: the library was loaded at least once (the empty state waits for it) */
  const { loading, loaded, error, load } = useLatestLoad(
    () => listScrmTagsApi(),
    (res) => {
      groups.value = res.items
    },
  )
  /** whether the team has linked WeCom (null until known); explains an empty library */
  const linked = ref<boolean | null>(null)
  /** `isBusy`: whether a tag or group is being deleted; `actionError`: the last failed delete ('' after one succeeded) */
  const { actionError, run: runOn, isBusy } = useItemActions<string>()
  const count = computed(() => corpTagCount(groups.value))
  const full = computed(() => count.value >= CORP_TAGS_MAX)

  async function loadLink(): Promise<void> {
    try {
      linked.value = (await getWecomStateApi()).linked
    } catch {
      // The library's own error says what is wrong; the empty state stays neutral.
    }
  }

  async function init(): Promise<void> {
    await Promise.all([load(), loadLink()])
  }

  // ----- creating tags: a new group (group name + names) or more tags in a group ------------------------------

  const form = reactive({ open: false, groupId: '', groupName: '', names: '' })
  const { pending: submitting, error: formError, run: runSubmit } = useAction()
  /** the group tags are added to ('' for a new group) */
  const formGroup = computed(() => groups.value.find((g) => g.group_id === form.groupId))

  function openCreateGroup() {
    Object.assign(form, { open: true, groupId: '', groupName: '', names: '' })
    formError.value = ''
  }

  function openAddTags(group: CustomersApi.TagGroup) {
    Object.assign(form, { open: true, groupId: group.group_id, groupName: group.name, names: '' })
    formError.value = ''
  }

  /** What the server would refuse in the form (checked as it would), or null. */
  function formProblem(): TagProblem | null {
    let target = formGroup.value
    if (!form.groupId) {
      const problem = tagNameProblem(form.groupName)
      if (problem) return problem
      // A new group named like an existing one adds to that group (WeCom reuses it).
      target = groups.value.find((g) => g.name === trimTagName(form.groupName))
    }
    const names = splitTagNames(form.names)
    const problem = tagNamesProblem(names)
    if (problem) return problem
    if (count.value + freshTagCount(target, names) > CORP_TAGS_MAX) return { reason: 'corp_tag_limit' }
    return null
  }

  /** Creates the tags of the form; the group as the server answered, or null with `formError` set. */
  async function submitForm(): Promise<CustomersApi.TagGroup | null> {
    if (submitting.value) return null
    const problem = formProblem()
    if (problem) {
      formError.value = tagProblemText(problem)
      return null
    }
    return runSubmit(
      async () => {
        const names = splitTagNames(form.names)
        const body: CustomersApi.CreateTagsRequest = form.groupId
          ? { group_id: form.groupId, names }
          : { group_name: trimTagName(form.groupName), names }
        const group = await createScrmTagsApi(body)
        form.open = false
        await load()
        return group
      },
      (e) => {
        // The group went away meanwhile (deleted in WeCom): show the library as it is now.
        if (e instanceof ApiError && e.reason === 'tag_group_not_found') void load()
      },
    )
  }

  // ----- renaming a tag or a group --------------------------------------------------------------------------

  const rename = reactive({ open: false, kind: 'tag' as RenameKind, id: '', name: '', original: '' })
  const { pending: renaming, error: renameError, run: runRename } = useAction()

  function openRename(kind: RenameKind, id: string, name: string) {
    Object.assign(rename, { open: true, kind, id, name, original: name })
    renameError.value = ''
  }

  /** Renames as the dialog says; true once done (an unchanged name just closes it). */
  async function submitRename(): Promise<boolean> {
    if (renaming.value) return false
    const problem = tagNameProblem(rename.name)
    if (problem) {
      renameError.value = tagProblemText(problem)
      return false
    }
    const name = trimTagName(rename.name)
    if (name === rename.original) {
      rename.open = false
      return true
    }
    const done = await runRename(
      async () => {
        await (rename.kind === 'tag' ? renameScrmTagApi(rename.id, name) : renameScrmTagGroupApi(rename.id, name))
        rename.open = false
        await load()
        return true
      },
      (e) => {
        if (e instanceof ApiError && e.reason === 'tag_not_found') void load()
      },
    )
    return done ?? false
  }

  // ----- deleting -------------------------------------------------------------------------------------------

  function withBusy(id: string, action: () => Promise<unknown>): Promise<boolean> {
    return runOn(
      id,
      async () => {
        await action()
        await load()
      },
      (e) => {
        // Gone already (deleted elsewhere): the list shows it is.
        if (e instanceof ApiError && e.status === 404) void load()
      },
    )
  }

  /** Deletes a tag (taken off every customer; a group losing its last tag goes too). */
  const deleteTag = (tag: CustomersApi.TagRef) => withBusy(tag.tag_id, () => deleteScrmTagApi(tag.tag_id))
  /** Deletes a group with all its tags. */
  const deleteGroup = (group: CustomersApi.TagGroup) => withBusy(group.group_id, () => deleteScrmTagGroupApi(group.group_id))

  return {
    groups, loading, loaded, error, linked, count, full, actionError, load, loadLink, init,
    form, formGroup, formError, submitting, openCreateGroup, openAddTags, formProblem, submitForm,
    rename, renameError, renaming, openRename, submitRename,
    deleteTag, deleteGroup, isBusy,
  }
}
