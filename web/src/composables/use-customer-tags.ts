import { computed, ref, type Ref } from 'vue'
import { listScrmTagsApi, markCustomerPersonalTagsApi, markCustomerTagsApi, type CustomersApi } from '@/api/customers'
import { ApiError, errorText } from '@/api/request'
import { noChange, tagDiff, TAGS_PER_CALL_MAX } from './tag-rules'
import { usePersonalTags } from './use-personal-tags'
import { useAction } from './use-async-action'

/**
 * The profile with the relationship of employee `userid` carrying `tags`, and the customer's tags (the distinct
 * tags over its relationships) following.
 */
export function withFollowTags(profile: CustomersApi.Profile, userid: string, tags: CustomersApi.TagRef[]): CustomersApi.Profile {
  const follows = profile.follows.map((f) => (f.userid === userid ? { ...f, tags } : f))
  const seen = new Set<string>()
  const all: CustomersApi.TagRef[] = []
  for (const f of follows)
    for (const t of f.tags)
      if (!seen.has(t.tag_id)) {
        seen.add(t.tag_id)
        all.push(t)
      }
  return { ...profile, follows, tags: all }
}

/** A personal tag as the profile shows it: "name", or "name · owner" for someone else's (an admin's view). */
export function personalTagLabel(tag: CustomersApi.PersonalTag, myAccountId: number | null | undefined): string {
  return tag.account_id === myAccountId || !tag.owner_name ? tag.name : `${tag.name} · ${tag.owner_name}`
}

/**
 * What both tag editors' dialogs share: the ids the customer had (`original`) and those ticked (`selected`), and
 * saving what changed with `send` (nothing changed just closes the dialog; more than one call may carry is refused);
 * `onError` sees a failure to send.
 */
function useTagChoice<K>(
  profile: Ref<CustomersApi.Profile | null>,
  send: (customer: CustomersApi.Profile, add: K[], remove: K[]) => Promise<void>,
  onError?: (e: unknown) => void,
) {
  const open = ref(false)
  const original = ref<K[]>([]) as Ref<K[]>
  const selected = ref<K[]>([]) as Ref<K[]>
  const { pending: saving, error, run } = useAction()
  const diff = computed(() => tagDiff(original.value, selected.value))
  const changed = computed(() => !noChange(diff.value))

  /** Sends the changes; true once saved (nothing changed just closes the dialog). */
  async function save(): Promise<boolean> {
    const customer = profile.value
    if (!customer || saving.value) return false
    const { add, remove } = diff.value
    if (!add.length && !remove.length) {
      open.value = false
      return true
    }
    if (add.length + remove.length > TAGS_PER_CALL_MAX) {
      error.value = errorText(new ApiError(0, 'too_many_tags', ''))
      return false
    }
    const done = await run(async () => {
      await send(customer, add, remove)
      open.value = false
      return true
    }, onError)
    return done ?? false
  }

  return { open, original, selected, saving, error, diff, changed, save }
}

/**
 * Editing the enterprise tags of one relationship on a customer's profile: the dialog shows the tag library grouped,
 * checked as the relationship is tagged; saving sends what changed (WeCom's mark_tag) and shows the relationship's
 * tags as the server answers.
 */
export function useCorpTagEditor(profile: Ref<CustomersApi.Profile | null>) {
  /** the relationship's employee */
  const userid = ref('')
  const employeeName = ref('')
  const library = ref<CustomersApi.TagGroup[]>([])
  const libraryLoading = ref(false)
  const { open, original, selected, saving, error, diff, changed, save } = useTagChoice<string>(
    profile,
    async (customer, add, remove) => {
      const res = await markCustomerTagsApi(customer.external_userid, userid.value, add, remove)
      if (profile.value?.external_userid === customer.external_userid)
        profile.value = withFollowTags(profile.value, userid.value, res.tags)
    },
  )
  /** the relationship's tags the library does not list (deleted meanwhile): shown apart, so they can be taken off */
  const others = ref<CustomersApi.TagRef[]>([])

  async function loadLibrary(): Promise<void> {
    libraryLoading.value = true
    try {
      library.value = (await listScrmTagsApi()).items
    } catch (e) {
      error.value = errorText(e)
    } finally {
      libraryLoading.value = false
    }
  }

  /** Opens the dialog for a relationship (only an active one can be tagged). */
  async function start(follow: CustomersApi.Follow): Promise<void> {
    userid.value = follow.userid
    employeeName.value = follow.employee_name || follow.userid
    original.value = follow.tags.map((t) => t.tag_id)
    selected.value = [...original.value]
    error.value = ''
    open.value = true
    await loadLibrary()
    const known = new Set(library.value.flatMap((g) => g.tags.map((t) => t.tag_id)))
    others.value = follow.tags.filter((t) => !known.has(t.tag_id))
  }

  const isSelected = (tagId: string) => selected.value.includes(tagId)

  function toggle(tagId: string) {
    selected.value = isSelected(tagId) ? selected.value.filter((id) => id !== tagId) : [...selected.value, tagId]
  }

  return {
    open, userid, employeeName, library, libraryLoading, selected, others, saving, error, diff, changed,
    start, isSelected, toggle, save,
  }
}

/**
 * Editing the caller's own personal tags on a customer: the dialog lists the caller's tags (loaded when it opens),
 * checked as the customer carries them, with a quick "new tag" box; saving sends what changed. Other members' tags
 * (an admin sees them on the profile) are left alone.
 */
export function usePersonalTagEditor(profile: Ref<CustomersApi.Profile | null>) {
  const own = usePersonalTags()
  const { open, original, selected, saving, error, diff, changed, save } = useTagChoice<number>(
    profile,
    async (customer, add, remove) => {
      const res = await markCustomerPersonalTagsApi(customer.external_userid, add, remove)
      if (profile.value?.external_userid === customer.external_userid)
        profile.value = { ...profile.value, personal_tags: res.personal_tags }
    },
    (e) => {
      // A tag deleted meanwhile: list the caller's tags as they are now.
      if (e instanceof ApiError && e.reason === 'personal_tag_not_found') void own.load()
    },
  )

  async function start(): Promise<void> {
    error.value = ''
    original.value = []
    selected.value = []
    own.name.value = ''
    own.createError.value = ''
    open.value = true
    await own.load()
    const mine = new Set(own.items.value.map((t) => t.id))
    original.value = (profile.value?.personal_tags ?? []).map((t) => t.id).filter((id) => mine.has(id))
    selected.value = [...original.value]
  }

  /** Creates a tag from the quick box and checks it. */
  async function quickCreate(): Promise<boolean> {
    const tag = await own.create()
    if (!tag) return false
    selected.value = [...selected.value, tag.id]
    return true
  }

  return { own, open, selected, saving, error, diff, changed, start, quickCreate, save }
}
