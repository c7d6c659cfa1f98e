// A stand-in for XMLHttpRequest (uploads go through it for their progress): records what was sent, and lets a test
// move the upload on (progress) and answer it. Install with vi.stubGlobal('XMLHttpRequest', FakeXhr).

export class FakeXhr {
  /** every request made since the last reset, oldest first */
  static made: FakeXhr[] = []
  static reset() {
    FakeXhr.made = []
  }
  static get last(): FakeXhr {
    return FakeXhr.made[FakeXhr.made.length - 1]
  }

  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown = undefined
  sent = false
  aborted = false
  status = 0
  responseText = ''
  private responseHeaders: Record<string, string> = {}
  upload: { onprogress: ((e: ProgressEvent) => void) | null; onload: (() => void) | null } = { onprogress: null, onload: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null

  constructor() {
    FakeXhr.made.push(this)
  }
  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value
  }
  send(body: unknown) {
    this.body = body
    this.sent = true
  }
  abort() {
    this.aborted = true
    this.onabort?.()
  }
  getResponseHeader(name: string): string | null {
    return this.responseHeaders[name] ?? null
  }

  /** `loaded` of `total` bytes of the body went out */
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true } as ProgressEvent)
  }
  /** the body went out and the server answered `body` (an object as JSON) */
  respond(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.upload.onload?.()
    this.status = status
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body)
    this.responseHeaders = headers
    this.onload?.()
  }
  /** the connection failed */
  fail() {
    this.onerror?.()
  }
}
