// Client-side checks that mirror the server's rules, so a form says what is wrong before it is sent.
// The server stays the judge: its reasons (invalid_phone, weak_password, …) are shown through errorText.
import type { FormItemRule } from 'element-plus'

type T = (key: string, values?: Record<string, unknown>) => string

export const PHONE_PATTERN = /^1[3-9]\d{9}$/
export const PASSWORD_MIN = 8
export const PASSWORD_MAX = 128
export const TEAM_NAME_MAX = 50
export const NAME_MAX = 30

/**
 * The phone as the server normalises it: spaces and dashes go, then a +86 prefix, or 0086 / 86 in front of 11
 * digits (008613800000000, 8613800000000). Anything else is left as it is, for isValidPhone to refuse.
 */
export function cleanPhone(input: string): string {
  const s = input.replace(/[\s-]/g, '')
  if (s.startsWith('+86')) return s.slice(3)
  if (/^0086\d{11}$/.test(s)) return s.slice(4)
  if (/^86\d{11}$/.test(s)) return s.slice(2)
  return s
}

/** A mainland mobile number (1[3-9] and 9 more digits), possibly written with a prefix, spaces or dashes. */
export function isValidPhone(input: string): boolean {
  return PHONE_PATTERN.test(cleanPhone(input))
}

export type PasswordProblem = 'required' | 'tooShort' | 'tooLong' | 'lettersAndDigits'

/**
 * Why a new password is refused, or null. As on the server: 8–128 characters counted as code points (an emoji is
 * one), at least one letter and one digit, where any non-ASCII character (锦, é) counts as a letter.
 */
export function passwordProblem(password: string): PasswordProblem | null {
  if (!password) return 'required'
  const length = [...password].length
  if (length < PASSWORD_MIN) return 'tooShort'
  if (length > PASSWORD_MAX) return 'tooLong'
  if (!/[A-Za-z]|[^\x00-\x7F]/.test(password) || !/\d/.test(password)) return 'lettersAndDigits'
  return null
}

/** A name of 1..max characters (counted as the server does, by code point) after trimming. */
export function isValidName(name: string, max: number): boolean {
  const n = [...name.trim()].length
  return n >= 1 && n <= max
}

export const SMS_CODE_PATTERN = /^\d{6}$/

/** SMS codes are always 6 digits; the server says whether one is right. */
export function isValidSmsCode(code: string): boolean {
  return SMS_CODE_PATTERN.test(code.trim())
}

/** WeCom's EncodingAESKey: exactly 43 letters and digits (the base64 of a 32-byte key without its final "="). */
export const AES_KEY_PATTERN = /^[A-Za-z0-9]{43}$/
/** WeCom shows an app's AgentId as a number (1000002). */
export const AGENT_ID_PATTERN = /^\d+$/

/** An EncodingAESKey as the server accepts it (surrounding spaces from copying are ignored). */
export function isValidAesKey(key: string): boolean {
  return AES_KEY_PATTERN.test(key.trim())
}

function rule(check: (value: string) => string | null): FormItemRule {
  return {
    trigger: 'blur',
    validator: (_rule, value, callback) => {
      const problem = check(String(value ?? ''))
      if (problem) callback(new Error(problem))
      else callback()
    },
  }
}

/** Element Plus form rules built from the checks above; texts come from the `validation` locale keys. */
export function formRules(t: T) {
  return {
    phone: [rule((v) => (!v.trim() ? t('validation.phoneRequired') : isValidPhone(v) ? null : t('validation.phoneInvalid')))],
    code: [rule((v) => (!v.trim() ? t('validation.codeRequired') : isValidSmsCode(v) ? null : t('validation.codeInvalid')))],
    newPassword: [
      rule((v) => {
        const p = passwordProblem(v)
        return p ? t(`validation.password.${p}`, { min: PASSWORD_MIN, max: PASSWORD_MAX }) : null
      }),
    ],
    password: [rule((v) => (v ? null : t('validation.password.required')))],
    teamName: [rule((v) => (isValidName(v, TEAM_NAME_MAX) ? null : t('validation.teamName', { max: TEAM_NAME_MAX })))],
    name: [rule((v) => (isValidName(v, NAME_MAX) ? null : t('validation.name', { max: NAME_MAX })))],
  }
}

/** Rules of the self-built app form (企业授权): four required fields, the key's shape, an optional numeric AgentId. */
export function wecomLinkRules(t: T) {
  const required = (key: string) => [rule((v) => (v.trim() ? null : t(key)))]
  return {
    corp_id: required('wecom.form.corpIdRequired'),
    secret: required('wecom.form.secretRequired'),
    callback_token: required('wecom.form.tokenRequired'),
    encoding_aes_key: [
      rule((v) => {
        const key = v.trim()
        if (!key) return t('wecom.form.aesKeyRequired')
        return isValidAesKey(key) ? null : t('wecom.form.aesKeyInvalid', { n: [...key].length })
      }),
    ],
    agent_id: [rule((v) => (!v.trim() || AGENT_ID_PATTERN.test(v.trim()) ? null : t('wecom.form.agentIdInvalid')))],
  }
}
