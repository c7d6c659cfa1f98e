import { ref } from 'vue'
import { createGroupTagApi, deleteGroupTagApi, listGroupTagsApi, renameGroupTagApi, type GroupsApi } from '@/api/groups'
import { ApiError, errorText } from '@/api/request'
import { tagNameProblem, trimTagName } from './tag-rules'
import { useAction, useItemActions, useLatestLoad } from './use-async-action'

/** The most group tags a team may have. */
export const GROUP_TAGS_MAX = 1000

/**
 * Why the server would refuse `raw` as the name of a group tag (1–30 characters once trimmed, none of the team's
 * other tags named so), or null; `self` is the tag being renamed.
 */
export function groupTagNameProblem(raw: string, tags: readonly GroupsApi.Tag[], self = 0): 'group_tag_name_invalid' | 'group_tag_exists' | null {
  if (tagNameProblem(raw)) return 'group_tag_name_invalid'
  const name = trimTagName(raw)
  return tags.some((t) => t.name === name && t.id !== self) ? 'group_tag_exists' : null
}

const reasonText = (reason: string) => errorText(new ApiError(0, reason, ''))

/**
 * The team's group tags (客户群标签: Koi's own, WeCom has none) with how many groups carry each, and the admin's
 * changes: create (typed in `name`), rename (`editing`), delete. The list is loaded again after each change, so that
 * it shows the server's order and counts.
 */
export function useGroupTags() {
  const tags = ref<GroupsApi.Tag[]>([])
  const { loading, loaded, error, load } = useLatestLoad(() => listGroupTagsApi(), (res) => (tags.value = res.items))
  /** a 404 means the tag went meanwhile: the list then shows it is gone */
  const reloadIfGone = (e: unknown) => {
    if (e instanceof ApiError && e.reason === 'group_tag_not_found') void load()
  }

  /** the new tag's name */
  const name = ref('')
  const { pending: creating, error: createError, run: runCreate } = useAction()

  /** Creates the tag named in `name` (checked first as the server would); the tag, or null with `createError` set. */
  async function create(): Promise<GroupsApi.Tag | null> {
    if (creating.value) return null
    const problem = groupTagNameProblem(name.value, tags.value) ?? (tags.value.length >= GROUP_TAGS_MAX ? 'group_tag_limit' : null)
    if (problem) {
      createError.value = reasonText(problem)
      return null
    }
    return runCreate(async () => {
      const tag = await createGroupTagApi(trimTagName(name.value))
      name.value = ''
      await load()
      return tag
    })
  }

  /** the tag being renamed (id 0: none) and its name as edited */
  const editing = ref({ id: 0, name: '' })
  const { pending: renaming, error: renameError, run: runRename } = useAction()

  function startRename(tag: GroupsApi.Tag) {
    editing.value = { id: tag.id, name: tag.name }
    renameError.value = ''
  }

  function stopRename() {
    editing.value = { id: 0, name: '' }
    renameError.value = ''
  }

  /** Renames as edited; the tag, or null with `renameError` set (an unchanged name just stops editing). */
  async function rename(): Promise<GroupsApi.Tag | null> {
    const { id, name: raw } = editing.value
    const current = tags.value.find((t) => t.id === id)
    if (!current || renaming.value) return null
    const problem = groupTagNameProblem(raw, tags.value, id)
    if (problem) {
      renameError.value = reasonText(problem)
      return null
    }
    if (trimTagName(raw) === current.name) {
      stopRename()
      return current
    }
    return runRename(
      async () => {
        const tag = await renameGroupTagApi(id, trimTagName(raw))
        stopRename()
        await load()
        return tag
      },
      reloadIfGone,
    )
  }

  /** `actionError`: the last failed delete, in the user's language */
  const { actionError, run: runOn, isBusy } = useItemActions<number>()

  /** Deletes a tag (it is removed from every group). */
  function remove(tag: GroupsApi.Tag): Promise<boolean> {
    return runOn(
      tag.id,
      async () => {
        await deleteGroupTagApi(tag.id)
        await load()
      },
      reloadIfGone,
    )
  }

  return {
    tags, loading, loaded, error, load,
    name, creating, createError, create,
    editing, renaming, renameError, startRename, stopRename, rename,
    actionError, remove, isBusy,
  }
}

export type GroupTagLibrary = ReturnType<typeof useGroupTags>
