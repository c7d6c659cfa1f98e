import { describe, expect, it } from 'vitest'
import { cleanPhone, formRules, isValidAesKey, isValidName, isValidPhone, isValidSmsCode, passwordProblem, wecomLinkRules } from './validation'
import { i18n } from '@/locales'

describe('phone', () => {
  it('accepts 11-digit mainland mobiles 1[3-9]xxxxxxxxx', () => {
    expect(isValidPhone('13800000000')).toBe(true)
    expect(isValidPhone('19912345678')).toBe(true)
    expect(isValidPhone('138 0000 0000')).toBe(true)
    expect(isValidPhone('+8613800000000')).toBe(true)
    expect(isValidPhone('008613800000000')).toBe(true)
  })

  it('refuses everything else', () => {
    expect(isValidPhone('12800000000')).toBe(false)
    expect(isValidPhone('1380000000')).toBe(false)
    expect(isValidPhone('138000000000')).toBe(false)
    expect(isValidPhone('1380000000a')).toBe(false)
    expect(isValidPhone('+4413800000000')).toBe(false)
    expect(isValidPhone('')).toBe(false)
  })

  it('accepts the prefixes the server accepts: +86, 0086 and 86, with spaces or dashes', () => {
    expect(isValidPhone('8613800000000')).toBe(true)
    expect(isValidPhone('86 138 0000 0000')).toBe(true)
    expect(isValidPhone('+86-138-0000-0000')).toBe(true)
    expect(isValidPhone('0086 138 0000 0000')).toBe(true)
    // 86 and 0086 are prefixes only in front of 11 digits
    expect(isValidPhone('861380000000')).toBe(false)
    expect(isValidPhone('86138000000001')).toBe(false)
    expect(isValidPhone('8612800000000')).toBe(false)
    expect(isValidPhone('+8612800000000')).toBe(false)
  })

  it('cleanPhone leaves the 11 digits', () => {
    expect(cleanPhone(' +86 138-0000-0000 ')).toBe('13800000000')
    expect(cleanPhone('86 138 0000 0000')).toBe('13800000000')
    expect(cleanPhone('0086-13800000000')).toBe('13800000000')
    expect(cleanPhone('13800000000')).toBe('13800000000')
  })
})

describe('passwordProblem', () => {
  it('wants 8–128 characters with letters and digits', () => {
    expect(passwordProblem('')).toBe('required')
    expect(passwordProblem('abc123')).toBe('tooShort')
    expect(passwordProblem('abcdefgh')).toBe('lettersAndDigits')
    expect(passwordProblem('12345678')).toBe('lettersAndDigits')
    expect(passwordProblem('abcd1234')).toBeNull()
    expect(passwordProblem('a1'.repeat(64))).toBeNull()
    expect(passwordProblem('a1'.repeat(64) + 'x')).toBe('tooLong')
  })

  it('counts code points, as the server does, and takes any non-ASCII character for a letter', () => {
    // 7 emoji + 1 digit: 8 characters (15 UTF-16 units)
    expect(passwordProblem('😀'.repeat(7) + '1')).toBeNull()
    expect(passwordProblem('😀'.repeat(6) + '1')).toBe('tooShort')
    // 128 characters, 192 UTF-16 units
    expect(passwordProblem('😀'.repeat(64) + '1'.repeat(64))).toBeNull()
    expect(passwordProblem('😀'.repeat(65) + '1'.repeat(64))).toBe('tooLong')
    expect(passwordProblem('锦鲤茶饮2026')).toBeNull()
    expect(passwordProblem('motdepassé1')).toBeNull()
    expect(passwordProblem('锦鲤茶饮锦鲤茶饮')).toBe('lettersAndDigits')
    expect(passwordProblem('1234-5678')).toBe('lettersAndDigits')
  })
})

describe('names and codes', () => {
  it('counts characters, not bytes, after trimming', () => {
    expect(isValidName('锦'.repeat(30), 30)).toBe(true)
    expect(isValidName('锦'.repeat(31), 30)).toBe(false)
    expect(isValidName('   ', 30)).toBe(false)
    expect(isValidName(' 王小锦 ', 30)).toBe(true)
  })

  it('codes are exactly 6 digits', () => {
    expect(isValidSmsCode('123456')).toBe(true)
    expect(isValidSmsCode(' 123456 ')).toBe(true)
    expect(isValidSmsCode('12a456')).toBe(false)
    expect(isValidSmsCode('1234')).toBe(false)
    expect(isValidSmsCode('12345')).toBe(false)
    expect(isValidSmsCode('1234567')).toBe(false)
    expect(isValidSmsCode('')).toBe(false)
  })
})

describe('formRules', () => {
  function check(rules: ReturnType<typeof formRules>['phone'], value: string): string | null {
    let result: string | null = 'not called'
    const rule = rules[0] as { validator: (r: unknown, v: unknown, cb: (e?: Error) => void) => void }
    rule.validator({}, value, (e?: Error) => (result = e ? e.message : null))
    return result
  }

  it('gives localised messages', () => {
    const t = i18n.global.t as (k: string, v?: Record<string, unknown>) => string
    i18n.global.locale.value = 'zh-CN'
    const rules = formRules(t)
    expect(check(rules.phone, '123')).toBe('请输入正确的 11 位手机号')
    expect(check(rules.phone, '13800000000')).toBeNull()
    expect(check(rules.newPassword, 'abc')).toBe('密码至少 8 位')
    expect(check(rules.newPassword, 'abcdefghij')).toBe('密码需同时包含字母和数字')
    expect(check(rules.code, '1234')).toBe('验证码为 6 位数字')
    expect(check(rules.code, '123456')).toBeNull()
    i18n.global.locale.value = 'en-US'
    expect(check(formRules(t).teamName, '')).toBe('1–50 characters')
    i18n.global.locale.value = 'zh-CN'
  })
})

describe('WeCom link form', () => {
  const SANDBOX_KEY = '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt'
  function check(rules: unknown[], value: string): string | null {
    let result: string | null = 'not called'
    const rule = rules[0] as { validator: (r: unknown, v: unknown, cb: (e?: Error) => void) => void }
    rule.validator({}, value, (e?: Error) => (result = e ? e.message : null))
    return result
  }

  it('an EncodingAESKey is exactly 43 letters and digits', () => {
    expect(SANDBOX_KEY).toHaveLength(43)
    expect(isValidAesKey(SANDBOX_KEY)).toBe(true)
    expect(isValidAesKey(` ${SANDBOX_KEY}\n`)).toBe(true)
    expect(isValidAesKey(SANDBOX_KEY.slice(1))).toBe(false)
    expect(isValidAesKey(SANDBOX_KEY + 'a')).toBe(false)
    expect(isValidAesKey(SANDBOX_KEY + '=')).toBe(false)
    expect(isValidAesKey(SANDBOX_KEY.slice(0, 42) + '+')).toBe(false)
    expect(isValidAesKey(SANDBOX_KEY.slice(0, 42) + '/')).toBe(false)
    expect(isValidAesKey(SANDBOX_KEY.slice(0, 42) + '锦')).toBe(false)
    expect(isValidAesKey('')).toBe(false)
  })

  it('says what is wrong in the current language', () => {
    const t = i18n.global.t as (k: string, v?: Record<string, unknown>) => string
    i18n.global.locale.value = 'zh-CN'
    const rules = wecomLinkRules(t)
    expect(check(rules.corp_id, '  ')).toBe('请输入企业ID')
    expect(check(rules.corp_id, 'wwkoidemo0000001')).toBeNull()
    expect(check(rules.secret, '')).toBe('请输入应用 Secret')
    expect(check(rules.callback_token, '')).toBe('请输入回调 Token')
    expect(check(rules.encoding_aes_key, '')).toBe('请输入 EncodingAESKey')
    expect(check(rules.encoding_aes_key, 'abc')).toBe('EncodingAESKey 为 43 位字母和数字（当前 3 位）')
    expect(check(rules.encoding_aes_key, SANDBOX_KEY)).toBeNull()
    expect(check(rules.agent_id, '')).toBeNull()
    expect(check(rules.agent_id, '1000002')).toBeNull()
    expect(check(rules.agent_id, '10000a')).toBe('AgentId 只能是数字')
    i18n.global.locale.value = 'en-US'
    expect(check(wecomLinkRules(t).encoding_aes_key, SANDBOX_KEY + '=')).toBe('The EncodingAESKey is 43 letters and digits (44 entered)')
    i18n.global.locale.value = 'zh-CN'
  })
})
