import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { router } from './router'
import { installRequestHooks } from './router/request-hooks'
import { i18n } from './locales'
import './style.css'

document.documentElement.lang = i18n.global.locale.value
installRequestHooks(router)
// pinia before the router: the router's first navigation loads the session from its store.
createApp(App).use(createPinia()).use(i18n).use(router).use(ElementPlus).mount('#app')
