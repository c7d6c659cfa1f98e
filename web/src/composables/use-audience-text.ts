import { i18n } from '@/locales'
import { statusKey } from './message-plan'

/**
 * The wording of a mass message for its audience: `at('plan.targeted')` reads messages.groups.plan.targeted for a
 * message to groups where the groups' wording differs (groups, owners, …), else messages.plan.targeted. Also the
 * names of skip reasons and recipient statuses (a group's status 2 reads "failed: group unavailable").
 */
export function useAudienceText(audience: () => string | undefined) {
  const { t, te } = i18n.global
  const key = (k: string) => (audience() === 'groups' && te(`messages.groups.${k}`) ? `messages.groups.${k}` : `messages.${k}`)
  const at = (k: string, values: Record<string, unknown> = {}): string => t(key(k), values)
  /** a skip reason's name (the reason itself when the console does not know it) */
  const reasonText = (r: string): string => (te(`messages.skip.${r}`) ? at(`skip.${r}`) : r)
  /** a recipient status's name (the number when the console does not know it) */
  const statusText = (s: number): string => {
    const k = statusKey(s, audience())
    return k ? t(k) : String(s)
  }
  return { at, reasonText, statusText }
}
