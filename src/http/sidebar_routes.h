// The chat toolbar's API (聊天工具栏; issue 4, wecom_link/sidebar.h).
//
// For the sidebar page, which a WeCom member opens beside a chat (no Koi account; a sidebar session instead):
// the OAuth round trip through WeCom (start → WeCom → return, which sets the `koi_sidebar` cookie), the session,
// agentConfig's signature, the current customer as the member's own relationship sees it, the corp tag library,
// and tagging that relationship; for 群画像, the current group chat as a member in it sees it. State-changing calls carry the session's CSRF token in X-CSRF-Token.
// For the console's setup page (step 2): the URLs to configure and the checks.
// The contract is api/openapi.yaml.
#pragma once

#include "domain/customers/customers.h"
#include "domain/customers/groups.h"
#include "domain/customers/tags.h"
#include "domain/wecom_link/sidebar.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

struct SidebarServices {
  wecom_link::Sidebar& sidebar;
  customers::CustomerService& customers;
  customers::TagService& tags;
  customers::GroupService& groups;
  bool cookie_secure = false;
};

// REQUIRES: guard and the services outlive the router.
void AddSidebarRoutes(Router& router, const AuthGuard& guard, const SidebarServices& services);

}  // namespace koi::http
