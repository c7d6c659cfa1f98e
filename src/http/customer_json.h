// The JSON of customer data shared by the console's routes and the chat sidebar's (api/openapi.yaml: TagRef,
// Follow).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <vector>

#include "domain/customers/customers.h"

namespace koi::http {

boost::json::array TagsJson(const std::vector<customers::TagRef>& tags);
boost::json::object FollowJson(const customers::Follow& f);
// The corp's tag library: {"items": [{group_id, name, tags}]}.
boost::json::object TagGroupsJson(const std::vector<customers::TagGroup>& groups);

}  // namespace koi::http
