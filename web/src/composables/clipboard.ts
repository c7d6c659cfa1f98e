type ClipboardNavigator = { clipboard?: Pick<Clipboard, 'writeText'> }

/**
 * Copies text to the clipboard; false when the browser refused. The Clipboard API exists only in secure contexts
 * (HTTPS or localhost), and Koi is often opened over plain HTTP on an intranet address, so without it (or when it
 * refuses) the text is copied the old way, through a hidden textarea and `document.execCommand('copy')`.
 */
export async function copyText(
  text: string,
  nav: ClipboardNavigator | null = typeof navigator === 'undefined' ? null : navigator,
  doc: Document | null = typeof document === 'undefined' ? null : document,
): Promise<boolean> {
  if (nav?.clipboard?.writeText) {
    try {
      await nav.clipboard.writeText(text)
      return true
    } catch {
      // Denied (permissions, no focus): try the old way below.
    }
  }
  if (!doc?.body || typeof doc.execCommand !== 'function') return false
  const area = doc.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.top = '0'
  area.style.left = '-9999px'
  area.style.opacity = '0'
  const focused = doc.activeElement as HTMLElement | null
  doc.body.appendChild(area)
  try {
    area.select()
    return doc.execCommand('copy')
  } catch {
    return false
  } finally {
    area.remove()
    focused?.focus?.()
  }
}
