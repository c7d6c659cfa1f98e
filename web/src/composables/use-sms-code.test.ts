import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '@/api/request'
import { sendSmsCodeApi } from '@/api/auth'
import { useSmsCode } from './use-sms-code'

vi.mock('@/api/auth', () => ({ sendSmsCodeApi: vi.fn() }))
const toast = vi.hoisted(() => vi.fn())
vi.mock('element-plus', () => ({ ElMessage: { error: toast } }))

function setup() {
  const scope = effectScope()
  let sms!: ReturnType<typeof useSmsCode>
  scope.run(() => (sms = useSmsCode('register')))
  return { sms, scope }
}

beforeEach(() => {
  vi.useFakeTimers()
  vi.mocked(sendSmsCodeApi).mockReset()
  toast.mockReset()
})
afterEach(() => vi.useRealTimers())

describe('useSmsCode', () => {
  it('sends the cleaned phone and counts down from resend_after', async () => {
    vi.mocked(sendSmsCodeApi).mockResolvedValue({ expires_in: 300, resend_after: 60 })
    const { sms } = setup()
    expect(await sms.send('+86 138 0000 0000')).toBe(true)
    expect(sendSmsCodeApi).toHaveBeenCalledWith('13800000000', 'register')
    expect(sms.remaining.value).toBe(60)
    expect(sms.canSend.value).toBe(false)
    // A second click during the countdown does not reach the server.
    expect(await sms.send('13800000000')).toBe(false)
    expect(sendSmsCodeApi).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(59_000)
    expect(sms.remaining.value).toBe(1)
    vi.advanceTimersByTime(1_000)
    expect(sms.remaining.value).toBe(0)
    expect(sms.canSend.value).toBe(true)
  })

  it('on sms_too_frequent waits as long as the server says', async () => {
    vi.mocked(sendSmsCodeApi).mockRejectedValue(new ApiError(429, 'sms_too_frequent', 'wait', 17))
    const { sms } = setup()
    expect(await sms.send('13800000000')).toBe(false)
    expect(sms.remaining.value).toBe(17)
    expect(sms.error.value).toBe('验证码发送太频繁，请 17 秒后再试')
    expect(toast).toHaveBeenCalledWith('验证码发送太频繁，请 17 秒后再试')
  })

  it('other failures allow an immediate retry', async () => {
    vi.mocked(sendSmsCodeApi).mockRejectedValue(new ApiError(409, 'phone_registered', 'x'))
    const { sms } = setup()
    expect(await sms.send('13800000000')).toBe(false)
    expect(sms.remaining.value).toBe(0)
    expect(sms.error.value).toBe('该手机号已注册')
  })

  it('stops counting when the page goes away', async () => {
    vi.mocked(sendSmsCodeApi).mockResolvedValue({ expires_in: 300, resend_after: 60 })
    const { sms, scope } = setup()
    await sms.send('13800000000')
    scope.stop()
    vi.advanceTimersByTime(5_000)
    expect(sms.remaining.value).toBe(60)
  })
})
