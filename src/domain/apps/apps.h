// AppService: the app market (应用市场). Koi offers two apps, SCRM and the Smart Cloud Store (智慧云店); a team's
// admin activates each one, and every page and API route of an app is refused until its team has activated it.
//
// The catalogue is fixed in code (names and descriptions live in the console's locale files); activations are rows
// of team_apps, written together with their audit entry. Thread-safe; all state is in the database.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "storage/database.h"

namespace koi::apps {

// The keys of the catalogue, in display order.
const std::vector<std::string>& CatalogueKeys();

struct AppState {
  std::string key;
  bool activated = false;
  std::optional<int64_t> activated_at_ms;
  std::string activated_by_name;
};

class AppService {
 public:
  AppService(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<std::vector<AppState>> List(TeamId team);
  // Admin only. Idempotent: activating an active app returns its state unchanged. Unknown key: "app_not_found".
  Result<AppState> Activate(const accounts::Principal& who, std::string_view key, std::string_view ip);
  // OK, or PermissionDenied "app_not_activated" naming the app.
  Status RequireActivated(TeamId team, std::string_view key);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace koi::apps
