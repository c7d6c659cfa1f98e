// The WeCom client's JS bridge as a sidebar page uses it: WeixinJSBridge.invoke(name, params, callback), the
// primitive under WeCom's JS-SDK, for agentConfig and getCurExternalContact. WeCom's client injects the bridge and
// fires `WeixinJSBridgeReady`. Against koi-wecom-sandbox there is no client: the sandbox's chat page frames this
// page, and a stand-in bridge posts each call to it (only to `bridgeOrigin`, the origin the server names, and
// takes answers only from that window and origin).

export interface BridgeResult {
  err_msg?: string
  errMsg?: string
  [key: string]: unknown
}

interface WeixinJSBridge {
  invoke(name: string, params: Record<string, unknown>, callback: (result: BridgeResult) => void): void
}

declare global {
  interface Window {
    WeixinJSBridge?: WeixinJSBridge
  }
}

/** "getCurExternalContact:ok" → true; any other outcome is a failure. */
export function bridgeOk(result: BridgeResult): boolean {
  const msg = String(result.err_msg ?? result.errMsg ?? '')
  return msg.endsWith(':ok')
}

/** The reason after "name:fail " (or the whole message), for the page to show. */
export function bridgeError(result: BridgeResult): string {
  const msg = String(result.err_msg ?? result.errMsg ?? '')
  const colon = msg.indexOf(':')
  return colon >= 0 ? msg.slice(colon + 1).replace(/^fail\s*/, '') || msg : msg
}

/**
 * Installs the postMessage bridge when this page is framed and has no client bridge of its own. Returns whether it
 * did. `win` is the page's window (tests pass a fake).
 */
export function installFramedBridge(bridgeOrigin: string, win: Window = window): boolean {
  if (win.WeixinJSBridge || !bridgeOrigin || win.parent === win) return false
  const parent = win.parent
  let next = 1
  const waiting = new Map<number, (result: BridgeResult) => void>()
  win.addEventListener('message', (e: MessageEvent) => {
    if (e.origin !== bridgeOrigin || e.source !== parent) return
    const data = e.data as { koiBridge?: number; id?: number; result?: BridgeResult } | null
    if (!data || data.koiBridge !== 1 || typeof data.id !== 'number') return
    const done = waiting.get(data.id)
    if (!done) return
    waiting.delete(data.id)
    done(data.result ?? { err_msg: 'bridge:fail no result' })
  })
  win.WeixinJSBridge = {
    invoke(name, params, callback) {
      const id = next++
      waiting.set(id, callback)
      parent.postMessage({ koiBridge: 1, id, name, params, href: win.location.href }, bridgeOrigin)
    },
  }
  return true
}

/** Resolves once a bridge exists (at once, on `WeixinJSBridgeReady`, or never outside WeCom: see the timeout). */
export function bridgeReady(timeoutMs: number, win: Window = window): Promise<boolean> {
  if (win.WeixinJSBridge) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(!!win.WeixinJSBridge), timeoutMs)
    win.document.addEventListener('WeixinJSBridgeReady', () => {
      clearTimeout(timer)
      resolve(true)
    }, { once: true })
  })
}

/** One call; a bridge that never answers fails after `timeoutMs` ("<name>:fail timeout"). */
export function invoke(name: string, params: Record<string, unknown>, timeoutMs = 10_000, win: Window = window): Promise<BridgeResult> {
  return new Promise((resolve) => {
    const bridge = win.WeixinJSBridge
    if (!bridge) {
      resolve({ err_msg: `${name}:fail not in WeCom` })
      return
    }
    const timer = setTimeout(() => resolve({ err_msg: `${name}:fail timeout` }), timeoutMs)
    bridge.invoke(name, params, (result) => {
      clearTimeout(timer)
      resolve(result ?? { err_msg: `${name}:fail no result` })
    })
  })
}
