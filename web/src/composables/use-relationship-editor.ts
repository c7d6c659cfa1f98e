import { computed, ref, type Ref } from 'vue'
import { editRelationshipApi, type CustomersApi } from '@/api/customers'
import { ApiError, errorText } from '@/api/request'
import { useAction } from './use-async-action'
import { codePoints } from './use-customer-profile'

/** WeCom's limits on a relationship's remark fields, in characters. */
export const REMARK_MAX = 20
export const DESCRIPTION_MAX = 150
export const REMARK_COMPANY_MAX = 20
export const REMARK_MOBILES_MAX = 5

/** What the dialog edits; the mobiles one a line. */
export interface RemarkForm {
  remark: string
  description: string
  remarkCorpName: string
  mobiles: string
}

export type RemarkProblem =
  | ''
  | 'remark_too_long'
  | 'description_too_long'
  | 'remark_company_too_long'
  | 'remark_company_wechat_only'
  | 'invalid_remark_mobile'

/** The form prefilled with the relationship's current values. */
export function remarkForm(follow: CustomersApi.Follow): RemarkForm {
  return {
    remark: follow.remark,
    description: follow.description,
    remarkCorpName: follow.remark_corp_name,
    mobiles: follow.remark_mobiles.join('\n'),
  }
}

/** The numbers typed, one a line, without the blank lines and the spaces around each. */
export function parseMobiles(text: string): string[] {
  return text.split(/\r?\n/).map((m) => m.trim()).filter(Boolean)
}

const MOBILE = /^[0-9+\- ]+$/

/** The reason the server would refuse the form with (for a customer of `customerType`), or '' when it is fine. */
export function remarkProblem(form: RemarkForm, customerType: number): RemarkProblem {
  if (codePoints(form.remark) > REMARK_MAX) return 'remark_too_long'
  if (codePoints(form.description) > DESCRIPTION_MAX) return 'description_too_long'
  if (customerType !== 1 && form.remarkCorpName) return 'remark_company_wechat_only'
  if (codePoints(form.remarkCorpName) > REMARK_COMPANY_MAX) return 'remark_company_too_long'
  const mobiles = parseMobiles(form.mobiles)
  if (mobiles.length > REMARK_MOBILES_MAX || mobiles.some((m) => !MOBILE.test(m))) return 'invalid_remark_mobile'
  return ''
}

/** Only the fields the form changed from the relationship (the remark company only for WeChat customers). */
export function remarkChanges(follow: CustomersApi.Follow, form: RemarkForm, customerType: number): CustomersApi.EditRelationshipRequest {
  const body: CustomersApi.EditRelationshipRequest = {}
  if (form.remark !== follow.remark) body.remark = form.remark
  if (form.description !== follow.description) body.description = form.description
  if (customerType === 1 && form.remarkCorpName !== follow.remark_corp_name) body.remark_corp_name = form.remarkCorpName
  const mobiles = parseMobiles(form.mobiles)
  if (mobiles.join('\n') !== follow.remark_mobiles.join('\n')) body.remark_mobiles = mobiles
  return body
}

/** The profile with the relationship of employee `follow.userid` replaced by `follow`. */
export function withFollow(profile: CustomersApi.Profile, follow: CustomersApi.Follow): CustomersApi.Profile {
  return { ...profile, follows: profile.follows.map((f) => (f.userid === follow.userid ? follow : f)) }
}

/**
 * Editing one relationship's remark, description, remark company (WeChat customers only) and remark mobiles: the
 * dialog opens prefilled; saving checks the form as the server would, sends only what changed and shows the
 * relationship as the server answers.
 */
export function useRelationshipEditor(profile: Ref<CustomersApi.Profile | null>) {
  const open = ref(false)
  const follow = ref<CustomersApi.Follow | null>(null)
  const form = ref<RemarkForm>({ remark: '', description: '', remarkCorpName: '', mobiles: '' })
  const { pending: saving, error, run } = useAction()
  const employeeName = computed(() => follow.value?.employee_name || follow.value?.userid || '')
  const wechat = computed(() => profile.value?.type === 1)
  const changes = computed(() => (follow.value ? remarkChanges(follow.value, form.value, profile.value?.type ?? 0) : {}))
  const changed = computed(() => Object.keys(changes.value).length > 0)

  /** Opens the dialog for a relationship (only an active one can be edited). */
  function start(f: CustomersApi.Follow) {
    follow.value = f
    form.value = remarkForm(f)
    error.value = ''
    open.value = true
  }

  /** Sends what changed; true once saved (nothing changed just closes the dialog). */
  async function save(): Promise<boolean> {
    const customer = profile.value
    const current = follow.value
    if (!customer || !current || saving.value) return false
    const problem = remarkProblem(form.value, customer.type)
    if (problem) {
      error.value = errorText(new ApiError(0, problem, ''))
      return false
    }
    const body = changes.value
    if (!Object.keys(body).length) {
      open.value = false
      return true
    }
    const done = await run(async () => {
      const updated = await editRelationshipApi(customer.external_userid, current.userid, body)
      if (profile.value?.external_userid === customer.external_userid) profile.value = withFollow(profile.value, updated)
      open.value = false
      return true
    })
    return done ?? false
  }

  return { open, follow, form, saving, error, employeeName, wechat, changes, changed, start, save }
}
