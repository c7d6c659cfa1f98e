// Browser tests: playwright-core drives Debian's chromium against a running `koi serve`.
// Usage: KOI_BASE_URL=http://127.0.0.1:8080 node tests/e2e/run.mjs   (scripts/test-all starts the server)
// Prints one line per test and ends with "e2e: N passed, N failed"; exits non-zero on any failure.
import { createRequire } from 'node:module'
import { mkdirSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(join(root, 'web', 'package.json'))
const { chromium } = require('playwright-core')

const base = process.env.KOI_BASE_URL ?? 'http://127.0.0.1:8080'
const shots = process.env.KOI_E2E_SCREENSHOTS ?? join(root, 'build', 'e2e-screenshots')
mkdirSync(shots, { recursive: true })

// playwright gives every launch a fresh temporary profile of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})

// Each test gets a fresh context (fresh localStorage) at 1280x800 and collects console errors.
async function withPage(fn) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' })
  const page = await context.newPage()
  const errors = []
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('favicon')) errors.push(m.text()) })
  page.on('pageerror', (e) => errors.push(String(e)))
  try {
    await fn(page, errors)
  } finally {
    await context.close()
  }
}

function assert(cond, message) { if (!cond) throw new Error(message) }

async function switchLanguage(page, label) {
  await page.click('[data-test="account-button"]')
  await page.getByRole('menuitem', { name: label, exact: true }).click()
  // Wait for the menu's fade-out so that screenshots do not catch a ghost of it.
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.el-dropdown__popper')].every((e) => getComputedStyle(e).display === 'none'))
}

const tests = {
  async 'overview loads in Chinese with the status from the API'(page, errors) {
    const status = await (await fetch(`${base}/api/v1/system/status`)).json()
    await page.goto(base + '/')
    await page.getByText('欢迎使用锦鲤').waitFor()
    const schema = await page.locator('[data-test="schema-version"]').innerText()
    const want = `${status.data.database.schema_version} / ${status.data.database.latest_schema_version}`
    assert(schema.includes(want), `schema version shows "${schema}", want "${want}"`)
    assert((await page.title()).startsWith('概览'), `title is "${await page.title()}"`)
    await page.screenshot({ path: join(shots, 'overview-zh.png') })
    assert(errors.length === 0, `console errors: ${errors.join(' | ')}`)
  },

  async 'English switch changes the text and survives a reload'(page) {
    await page.goto(base + '/')
    await page.getByText('欢迎使用锦鲤').waitFor()
    await switchLanguage(page, 'English')
    await page.getByText('Welcome to Koi').waitFor()
    await page.reload()
    await page.getByText('Welcome to Koi').waitFor()
    assert((await page.title()).startsWith('Overview'), `title is "${await page.title()}"`)
    assert(await page.evaluate(() => localStorage.getItem('koi.locale')) === 'en-US', 'locale not saved')
    await page.screenshot({ path: join(shots, 'overview-en.png') })
    await switchLanguage(page, '中文')
    await page.getByText('欢迎使用锦鲤').waitFor()
  },

  async 'system status page shows the node as ready'(page) {
    await page.goto(base + '/system/status')
    await page.locator('[data-test="ready"]').waitFor()
    assert((await page.locator('[data-test="ready"]').innerText()).includes('就绪'), 'ready tag not in Chinese')
    await switchLanguage(page, 'English')
    await page.getByText('Ready', { exact: true }).waitFor()
    await page.screenshot({ path: join(shots, 'status-en.png') })
  },

  async 'system jobs table lists the housekeeping job with its schedule, paged by the server'(page) {
    const api = await (await fetch(`${base}/api/v1/system/jobs?page=1&page_size=10`)).json()
    assert(api.code === 0 && api.data.total >= 1, `jobs API answered ${JSON.stringify(api)}`)
    await page.goto(base + '/system/status')
    const table = page.locator('[data-test="system-jobs"]')
    await table.getByText('清理已结束的任务').waitFor()
    assert((await table.innerText()).includes('每 1 天'), 'the daily repeat is not shown')
    await switchLanguage(page, 'English')
    await table.getByText('Purge finished jobs').waitFor()
    await page.screenshot({ path: join(shots, 'status-jobs-en.png'), fullPage: true })
  },

  async 'side menu navigates between pages without a reload'(page) {
    await page.goto(base + '/')
    await page.getByText('欢迎使用锦鲤').waitFor()
    await page.evaluate(() => { window.__koiMarker = 1 })
    await page.getByRole('menuitem', { name: '系统', exact: false }).first().click()
    await page.getByRole('menuitem', { name: '系统状态' }).click()
    await page.locator('[data-test="ready"]').waitFor()
    assert(page.url().endsWith('/system/status'), `url is ${page.url()}`)
    assert(await page.evaluate(() => window.__koiMarker) === 1, 'the page reloaded')
  },

  async 'unknown route shows a localized 404 page'(page) {
    await page.goto(base + '/no/such/page')
    await page.locator('[data-test="not-found"]').waitFor()
    assert((await page.locator('[data-test="not-found"]').innerText()).includes('页面不存在'), 'not in Chinese')
    await switchLanguage(page, 'English')
    await page.getByText('Page not found').waitFor()
  },

  async 'the cloud store is listed but cannot be entered before activation'(page) {
    await page.goto(base + '/')
    await page.click('[data-test="app-switcher"] button')
    const item = page.getByRole('menuitem', { name: /智慧云店/ })
    await item.waitFor()
    assert((await item.getAttribute('aria-disabled')) === 'true', 'cloud store should be disabled')
    await item.hover()
    await page.getByRole('tooltip', { name: /尚未开通，团队开通后即可使用/ }).waitFor()
  },

  async 'layout fits 1280x800 without horizontal scrolling'(page) {
    await page.goto(base + '/system/status')
    await page.locator('[data-test="ready"]').waitFor()
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    assert(overflow <= 0, `horizontal overflow of ${overflow}px`)
  },

  async 'API errors come back as envelopes'() {
    const r = await fetch(`${base}/api/v1/does-not-exist`)
    const body = await r.json()
    assert(r.status === 404 && body.reason === 'route_not_found', `got ${r.status} ${JSON.stringify(body)}`)
    const bad = await fetch(`${base}/healthz`, { method: 'POST' })
    assert(bad.status === 405 && (await bad.json()).reason === 'method_not_allowed', `got ${bad.status}`)
  },
}

let passed = 0
let failed = 0
for (const [name, fn] of Object.entries(tests)) {
  try {
    if (fn.length === 0) await fn()
    else await withPage((page, errors) => fn(page, errors))
    console.log(`ok - ${name}`)
    passed++
  } catch (e) {
    console.log(`not ok - ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`)
    failed++
  }
}
await browser.close()
console.log(`screenshots: ${shots}`)
console.log(`e2e: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
