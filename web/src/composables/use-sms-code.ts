import { computed, onScopeDispose, ref } from 'vue'
import { ElMessage } from 'element-plus'
import { sendSmsCodeApi, type AuthApi } from '@/api/auth'
import { ApiError, errorText } from '@/api/request'
import { cleanPhone } from './validation'

/**
 * The "get code" button: sends an SMS code and counts down until another may be asked for. The wait comes from the
 * server (resend_after on success, retry_after on sms_too_frequent), 60 s when it says nothing.
 */
export function useSmsCode(purpose: AuthApi.SmsPurpose) {
  const remaining = ref(0)
  const sending = ref(false)
  const error = ref('')
  /** set once a code was sent; the page may say "sent to …" */
  const sentTo = ref('')
  let timer: ReturnType<typeof setInterval> | undefined

  function stop() {
    if (timer) clearInterval(timer)
    timer = undefined
  }

  function startCountdown(seconds: number) {
    stop()
    remaining.value = Math.max(0, Math.ceil(seconds))
    if (remaining.value === 0) return
    timer = setInterval(() => {
      remaining.value = Math.max(0, remaining.value - 1)
      if (remaining.value === 0) stop()
    }, 1000)
  }

  const canSend = computed(() => !sending.value && remaining.value === 0)

  /** true when the code was sent; else `error` says why (and is also shown as a message) */
  async function send(phone: string): Promise<boolean> {
    if (!canSend.value) return false
    sending.value = true
    error.value = ''
    try {
      const res = await sendSmsCodeApi(cleanPhone(phone), purpose)
      sentTo.value = cleanPhone(phone)
      startCountdown(res.resend_after || 60)
      return true
    } catch (e) {
      error.value = errorText(e)
      if (e instanceof ApiError && e.reason === 'sms_too_frequent') startCountdown(e.retryAfter ?? 60)
      ElMessage.error(error.value)
      return false
    } finally {
      sending.value = false
    }
  }

  onScopeDispose(stop)

  return { remaining, sending, canSend, error, sentTo, send, startCountdown }
}
